package membership_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The demo fixture's records that the fuzz targets of lists use.
const (
	fuzzAda       = membership.ID("VXNlcjox")     // account ADMIN
	fuzzBarbara   = membership.ID("VXNlcjo0")     // MEMBER of llm-evals
	fuzzEve       = membership.ID("VXNlcjo4")     // the other account's ADMIN
	fuzzLLMEvals  = membership.ID("U3BhY2U6MQ==") // public, two members
	fuzzRedTeam   = membership.ID("U3BhY2U6Mg==") // private, no members
	fuzzNoSpace   = membership.ID("U3BhY2U6OTk=") // Space:99, nowhere
	fuzzMaxDetail = 4*64 + 200                    // an echo of 64 bytes, quoted, and the text around it
)

// FuzzParseListMembersRequest parses arbitrary query strings, actors and
// space ids as the HTTP example does (url.ParseQuery, then
// ParseListMembersRequest, with whatever pairs ParseQuery kept when it
// fails): it never panics; an error is a *membership.Error of a class the
// input checks of a list may answer, with a short detail; a request it
// accepts has a limit from 0 (the default) to MaxPageSize, carries the
// actor, the space and the cursor it was given, and validates again.
func FuzzParseListMembersRequest(f *testing.F) {
	for _, seed := range []struct {
		actor, space membership.ID
		query        string
	}{
		{fuzzAda, fuzzLLMEvals, ""},
		{fuzzAda, fuzzLLMEvals, "limit=10"},
		{fuzzAda, fuzzLLMEvals, "limit=%2B5&cursor=bTE6VTNCaFkyVTZNUT09OlZYTmxjam96"},
		{fuzzAda, fuzzLLMEvals, "limit=0"},
		{fuzzAda, fuzzLLMEvals, "limit=101"},
		{fuzzAda, fuzzLLMEvals, "limit=1&limit=1"},
		{fuzzAda, fuzzLLMEvals, "cursor="},
		{fuzzAda, fuzzLLMEvals, "note=hi&limit=2"},
		{fuzzAda, fuzzLLMEvals, "limit=%zz;x"},
		{"", fuzzLLMEvals, "limit=1"},
		{fuzzAda, "Space:1", "limit=1"},
	} {
		f.Add(string(seed.actor), string(seed.space), seed.query)
	}
	f.Fuzz(func(t *testing.T, actor, space, query string) {
		params, _ := url.ParseQuery(query)
		req, err := membership.ParseListMembersRequest(membership.ID(actor), space, params)
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
			p := membership.ProblemFor(err)
			if p.Status < 400 || p.Status >= 500 || len(p.Detail) > fuzzMaxDetail {
				t.Fatalf("problem %+v", p)
			}
			return
		}
		if req.Limit < 0 || req.Limit > membership.MaxPageSize {
			t.Fatalf("accepted limit %d", req.Limit)
		}
		if req.Actor != membership.ID(actor) || req.SpaceID != membership.ID(space) {
			t.Fatalf("request %+v for actor %q and space %q", req, actor, space)
		}
		if want := params.Get("cursor"); req.Cursor != want {
			t.Fatalf("cursor %q, want %q", req.Cursor, want)
		}
		if err := req.Validate(); err != nil {
			t.Fatalf("an accepted request does not validate: %v", err)
		}
	})
}

// fuzzService is a Service on a memory store seeded with the demo fixture
// and the default policy, built once per process: fuzzing compiles the
// policy only once.
var fuzzService = sync.OnceValues(func() (*membership.Service, error) {
	store := memstore.New()
	if err := fixture.Seed(context.Background(), store, fixture.Demo()); err != nil {
		return nil, err
	}
	engine, err := policy.New()
	if err != nil {
		return nil, err
	}
	return membership.NewService(store, engine)
})

// FuzzListCursor lists the demo's spaces with arbitrary actors, space ids,
// limits and cursors, as a caller of the service: it never panics and never
// fails with a server error. The account ADMIN listing llm-evals gets a
// page or 422 invalid_field; other requests may also get the 401, 400 and
// 404 of the checks before and after the parameters. A page's next_cursor
// walks on: it is accepted, and the next page starts after the last user of
// this one.
func FuzzListCursor(f *testing.F) {
	for _, seed := range []struct {
		actor, space membership.ID
		limit        int
		cursor       string
	}{
		{fuzzAda, fuzzLLMEvals, 1, ""},
		{fuzzAda, fuzzLLMEvals, 1, "bTE6VTNCaFkyVTZNUT09OlZYTmxjam96"},   // after Linus, from a page of llm-evals
		{fuzzAda, fuzzRedTeam, 1, "bTE6VTNCaFkyVTZNUT09OlZYTmxjam96"},    // a cursor of another space
		{fuzzAda, fuzzLLMEvals, 2, "bTE6VTNCaFkyVTZNUT09OlZYTmxjam96PQ"}, // with a trailing "="
		{fuzzAda, fuzzLLMEvals, 0, "bTE6VTNCaFkyVTZNUT09Og"},             // no user after the space
		{fuzzAda, fuzzLLMEvals, 0, "bTE6eDp5"},                           // m1:x:y
		{fuzzAda, fuzzLLMEvals, 0, "not a cursor"},
		{fuzzAda, fuzzLLMEvals, 101, ""},
		{fuzzBarbara, fuzzRedTeam, 1, ""},
		{fuzzEve, fuzzLLMEvals, 1, ""},
		{fuzzAda, fuzzNoSpace, 1, ""},
	} {
		f.Add(string(seed.actor), string(seed.space), seed.limit, seed.cursor)
	}
	svc, err := fuzzService()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, actor, space string, limit int, cursor string) {
		ctx := context.Background()
		req := membership.ListMembersRequest{Actor: membership.ID(actor), SpaceID: membership.ID(space), Limit: limit, Cursor: cursor}
		page, err := svc.ListSpaceMembers(ctx, req)
		if err != nil {
			p := membership.ProblemFor(err)
			switch {
			case p.Status >= 500:
				t.Fatalf("a server error for %+v: %v", req, err)
			case p.Status == http.StatusUnprocessableEntity && p.ErrorCode == membership.CodeInvalidField,
				p.Status == http.StatusNotFound && p.ErrorCode == membership.CodeSpaceNotFound,
				p.Status == http.StatusBadRequest && p.ErrorCode == membership.CodeInvalidID,
				p.Status == http.StatusUnauthorized && p.ErrorCode == membership.CodeUnauthenticated:
			default:
				t.Fatalf("problem %+v for %+v", p, req)
			}
			if req.Actor == fuzzAda && req.SpaceID == fuzzLLMEvals && p.Status != http.StatusUnprocessableEntity {
				// The account ADMIN sees llm-evals: only a parameter can be
				// wrong.
				t.Fatalf("problem %+v for %+v, want a 422", p, req)
			}
			if cursor != "" && req.Validate() == nil && p.ErrorCode == membership.CodeInvalidField {
				t.Fatalf("a request that validates answered %+v", p)
			}
			return
		}
		size := limit
		if size == 0 {
			size = membership.DefaultPageSize
		}
		if len(page.Members) > size || page.HasMore != (page.NextCursor != "") {
			t.Fatalf("page %+v for %+v", page, req)
		}
		for i, m := range page.Members {
			if m.SpaceID != req.SpaceID || i > 0 && page.Members[i-1].UserID >= m.UserID {
				t.Fatalf("page out of order or of another space: %+v", page)
			}
		}
		if !page.HasMore {
			return
		}
		// The round trip: the cursor this page returned asks for the rest.
		req.Cursor = page.NextCursor
		next, err := svc.ListSpaceMembers(ctx, req)
		if err != nil {
			t.Fatalf("the next_cursor %q of a page is refused: %v", page.NextCursor, err)
		}
		last := page.Members[len(page.Members)-1].UserID
		if len(next.Members) > 0 && next.Members[0].UserID <= last {
			t.Fatalf("the next page starts at %s, not after %s", next.Members[0].UserID, last)
		}
		if strings.Contains(page.NextCursor, "=") {
			t.Fatalf("a next_cursor with padding: %q", page.NextCursor)
		}
	})
}
