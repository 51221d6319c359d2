package membership_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

// FuzzParseListSpacesRequest parses arbitrary query strings and actors as
// the HTTP example does: it never panics; an error is a *membership.Error
// of a class the input checks of a list of spaces may answer, with a short
// detail; a request it accepts carries what it was given and validates
// again.
func FuzzParseListSpacesRequest(f *testing.F) {
	for _, seed := range []struct {
		actor membership.ID
		query string
	}{
		{fuzzAda, ""},
		{fuzzAda, "limit=10&name=llm"},
		{fuzzAda, "org_id=T3JnOjE%3D&name=EVALS"},
		{fuzzAda, "org_id=Org:1"},
		{fuzzAda, "name=&limit=1"},
		{fuzzAda, "cursor=czE6"},
		{fuzzAda, "limit=1&limit=1"},
		{fuzzAda, "limit=%zz;x"},
		{"", "limit=1"},
	} {
		f.Add(string(seed.actor), seed.query)
	}
	f.Fuzz(func(t *testing.T, actor, query string) {
		params, _ := url.ParseQuery(query)
		req, err := membership.ParseListSpacesRequest(membership.ID(actor), params)
		if err != nil {
			e, ok := errors.AsType[*membership.Error](err)
			if !ok {
				t.Fatalf("an error that is not a *membership.Error: %T %v", err, err)
			}
			switch {
			case errors.Is(err, membership.ErrInvalidField), errors.Is(err, membership.ErrInvalidID), errors.Is(err, membership.ErrUnauthenticated):
			default:
				t.Fatalf("an error of class %s: %v", e.Code, err)
			}
			if p := membership.ProblemFor(err); p.Status < 400 || p.Status >= 500 || len(p.Detail) > fuzzMaxDetail {
				t.Fatalf("problem %+v", p)
			}
			return
		}
		if req.Limit < 0 || req.Limit > membership.MaxPageSize || req.Actor != membership.ID(actor) ||
			req.Name != params.Get("name") || req.Cursor != params.Get("cursor") || string(req.OrganizationID) != params.Get("org_id") {
			t.Fatalf("request %+v for actor %q and %v", req, actor, params)
		}
		if err := req.Validate(); err != nil {
			t.Fatalf("an accepted request does not validate: %v", err)
		}
	})
}

// FuzzListSpacesCursor lists the demo's spaces with arbitrary actors,
// filters, limits and cursors: it never fails with a server error, every
// page is in id order within its filters, and a page's next_cursor walks
// on after its last space.
func FuzzListSpacesCursor(f *testing.F) {
	for _, seed := range []struct {
		actor     membership.ID
		org, name string
		limit     int
		cursor    string
	}{
		{fuzzAda, "", "", 1, ""},
		{fuzzAda, "T3JnOjE=", "", 1, ""},
		{fuzzAda, "", "e", 1, ""},
		{fuzzBarbara, "", "", 1, ""},
		{fuzzEve, "", "", 1, ""},
		{fuzzAda, "", "", 0, "czE6eDp5"},
		{fuzzAda, "", "", 101, ""},
	} {
		f.Add(string(seed.actor), seed.org, seed.name, seed.limit, seed.cursor)
	}
	svc, err := fuzzService()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, actor, org, name string, limit int, cursor string) {
		ctx := context.Background()
		req := membership.ListSpacesRequest{Actor: membership.ID(actor), OrganizationID: membership.ID(org), Name: name, Limit: limit, Cursor: cursor}
		page, err := svc.ListSpaces(ctx, req)
		if err != nil {
			p := membership.ProblemFor(err)
			switch {
			case p.Status >= 500:
				t.Fatalf("a server error for %+v: %v", req, err)
			case p.Status == http.StatusUnprocessableEntity && p.ErrorCode == membership.CodeInvalidField,
				p.Status == http.StatusBadRequest && p.ErrorCode == membership.CodeInvalidID,
				p.Status == http.StatusUnauthorized && p.ErrorCode == membership.CodeUnauthenticated:
			default:
				t.Fatalf("problem %+v for %+v", p, req)
			}
			return
		}
		folded := membership.FoldName(name)
		for i, s := range page.Spaces {
			if i > 0 && page.Spaces[i-1].ID >= s.ID || org != "" && s.OrganizationID != membership.ID(org) ||
				!strings.Contains(membership.FoldName(s.Name), folded) {
				t.Fatalf("page out of order or outside its filters: %+v for %+v", page, req)
			}
		}
		if !page.HasMore {
			return
		}
		req.Cursor = page.NextCursor
		next, err := svc.ListSpaces(ctx, req)
		if err != nil {
			t.Fatalf("the next_cursor %q of a page is refused: %v", page.NextCursor, err)
		}
		if len(next.Spaces) > 0 && next.Spaces[0].ID <= page.Spaces[len(page.Spaces)-1].ID {
			t.Fatalf("the next page starts at %s, not after the last space", next.Spaces[0].ID)
		}
	})
}
