package membership_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

// spaceIDs returns the ids of spaces, in order.
func spaceIDs(spaces []membership.Space) []membership.ID {
	out := make([]membership.ID, len(spaces))
	for i, s := range spaces {
		out[i] = s.ID
	}
	return out
}

// walk lists every page of req and returns the spaces, in order.
func walk(t *testing.T, svc *membership.Service, req membership.ListSpacesRequest) []membership.ID {
	t.Helper()
	var out []membership.ID
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("the walk does not end")
		}
		page, err := svc.ListSpaces(context.Background(), req)
		if err != nil {
			t.Fatalf("ListSpaces(%+v): %v", req, err)
		}
		if page.HasMore != (page.NextCursor != "") {
			t.Fatalf("HasMore %v with cursor %q", page.HasMore, page.NextCursor)
		}
		out = append(out, spaceIDs(page.Spaces)...)
		if !page.HasMore {
			return out
		}
		req.Cursor = page.NextCursor
	}
}

// TestGetSpaceAndListSpaces checks who reads which space of the world, one
// at a time and by the list, which must agree.
func TestGetSpaceAndListSpaces(t *testing.T) {
	t.Parallel()
	_, svc := newWorld(t)
	sorted := func(ids ...membership.ID) []membership.ID { slices.Sort(ids); return ids }
	for _, tc := range []struct {
		name  string
		actor membership.ID
		want  []membership.ID
	}{
		{"account ADMIN reads every space of the account", accountAdmin, sorted(spaceS, spaceP)},
		{"organization ADMIN reads the private space too", orgAdmin, sorted(spaceS, spaceP)},
		{"space ADMIN of the private space", spaceAdmin, sorted(spaceS, spaceP)},
		{"organization member reads the public space", target, sorted(spaceS)},
		{"outside the organization, nothing", stranger, nil},
		{"account ADMIN of another account reads only their own", userB, sorted(spaceB)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := walk(t, svc, membership.ListSpacesRequest{Actor: tc.actor, Limit: 1})
			if !slices.Equal(got, tc.want) {
				t.Errorf("ListSpaces = %v, want %v", got, tc.want)
			}
			for _, s := range []membership.ID{spaceS, spaceP, spaceB, missing} {
				sp, err := svc.GetSpace(context.Background(), membership.GetSpaceRequest{Actor: tc.actor, SpaceID: s})
				readable := slices.Contains(tc.want, s)
				switch {
				case readable && (err != nil || sp.ID != s):
					t.Errorf("GetSpace(%s) = %v, %v; want the space", s, sp.ID, err)
				case !readable && !errors.Is(err, membership.ErrSpaceNotFound):
					t.Errorf("GetSpace(%s) = %v, %v; want space_not_found", s, sp.ID, err)
				}
			}
		})
	}
}

// TestListSpacesFilters checks the organization and name filters: an
// organization the caller cannot see, or that does not exist, gives an
// empty list; names match ignoring case.
func TestListSpacesFilters(t *testing.T) {
	t.Parallel()
	_, svc := newWorld(t)
	for _, tc := range []struct {
		name string
		req  membership.ListSpacesRequest
		want []membership.ID
	}{
		{"own organization", membership.ListSpacesRequest{Actor: orgAdmin, OrganizationID: orgO}, []membership.ID{spaceP, spaceS}},
		{"an organization of another account", membership.ListSpacesRequest{Actor: accountAdmin, OrganizationID: orgB}, nil},
		{"an organization that does not exist", membership.ListSpacesRequest{Actor: accountAdmin, OrganizationID: missing}, nil},
		{"name in another case", membership.ListSpacesRequest{Actor: orgAdmin, Name: "s"}, []membership.ID{spaceS}},
		{"name that matches nothing", membership.ListSpacesRequest{Actor: orgAdmin, Name: "x"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := walk(t, svc, tc.req); !slices.Equal(got, tc.want) {
				t.Errorf("ListSpaces = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestListSpacesFollowsHostRules: a host rule that keeps a caller from
// reading a space keeps it out of the list, on the exact filter and on the
// one decided space by space alike.
func TestListSpacesFollowsHostRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		exact      bool
	}{
		{"translated", `input.space.name == "P"`, true},
		{"decided space by space", `regex.match("^P$", input.space.name)`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			module := `package spaceauthz
violations contains {"code": "space_not_found", "rule": "hidden"} if {
	input.operation == "read"
	` + tc.body + `
}`
			engine, err := policy.New(policy.WithModule("hidden.rego", module))
			if err != nil {
				t.Fatal(err)
			}
			if engine.ReadFilter().Exact != tc.exact {
				t.Fatalf("filter exact = %v, want %v", engine.ReadFilter().Exact, tc.exact)
			}
			_, svc := newWorld(t, policy.WithModule("hidden.rego", module))
			if got := walk(t, svc, membership.ListSpacesRequest{Actor: accountAdmin}); !slices.Equal(got, []membership.ID{spaceS}) {
				t.Errorf("ListSpaces = %v, want only %s", got, spaceS)
			}
			if _, err := svc.GetSpace(context.Background(), membership.GetSpaceRequest{Actor: accountAdmin, SpaceID: spaceP}); !errors.Is(err, membership.ErrSpaceNotFound) {
				t.Errorf("GetSpace of the hidden space: %v, want space_not_found", err)
			}
		})
	}
}

// TestListSpacesUnauthenticated: an actor that names no user is refused,
// not given an empty list.
func TestListSpacesUnauthenticated(t *testing.T) {
	t.Parallel()
	_, svc := newWorld(t)
	for _, actor := range []membership.ID{"", missing} {
		if _, err := svc.ListSpaces(context.Background(), membership.ListSpacesRequest{Actor: actor}); !errors.Is(err, membership.ErrUnauthenticated) {
			t.Errorf("ListSpaces as %q: %v, want unauthenticated", actor, err)
		}
		if _, err := svc.GetSpace(context.Background(), membership.GetSpaceRequest{Actor: actor, SpaceID: spaceS}); !errors.Is(err, membership.ErrUnauthenticated) {
			t.Errorf("GetSpace as %q: %v, want unauthenticated", actor, err)
		}
	}
}

// TestListSpacesCursorIsBoundToFilters: a cursor works only with the
// filters of the walk it came from.
func TestListSpacesCursorIsBoundToFilters(t *testing.T) {
	t.Parallel()
	_, svc := newWorld(t)
	page, err := svc.ListSpaces(context.Background(), membership.ListSpacesRequest{Actor: orgAdmin, OrganizationID: orgO, Limit: 1})
	if err != nil || !page.HasMore {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	for _, req := range []membership.ListSpacesRequest{
		{Actor: orgAdmin, Limit: 1, Cursor: page.NextCursor},
		{Actor: orgAdmin, OrganizationID: orgO, Name: "s", Limit: 1, Cursor: page.NextCursor},
		{Actor: orgAdmin, OrganizationID: orgB, Limit: 1, Cursor: page.NextCursor},
		{Actor: orgAdmin, Cursor: "not a cursor"},
	} {
		if _, err := svc.ListSpaces(context.Background(), req); !errors.Is(err, membership.ErrInvalidField) || !strings.Contains(err.Error(), "cursor") {
			t.Errorf("ListSpaces(%+v): %v, want invalid_field naming cursor", req, err)
		}
	}
	next, err := svc.ListSpaces(context.Background(), membership.ListSpacesRequest{Actor: orgAdmin, OrganizationID: orgO, Limit: 1, Cursor: page.NextCursor})
	if err != nil || len(next.Spaces) != 1 || next.Spaces[0].ID == page.Spaces[0].ID {
		t.Errorf("second page: %+v, %v", next, err)
	}
}

// TestParseListSpacesRequest checks the input checks of GET /v2/spaces in
// their order, each failure naming its parameter.
func TestParseListSpacesRequest(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", membership.MaxNameFilter+1)
	for _, tc := range []struct {
		name   string
		actor  membership.ID
		query  string
		want   *membership.Error
		field  string
		parsed membership.ListSpacesRequest
	}{
		{name: "no parameters", actor: target, parsed: membership.ListSpacesRequest{Actor: target}},
		{name: "every parameter", actor: target, query: "org_id=" + url.QueryEscape(string(orgO)) + "&name=S&limit=7",
			parsed: membership.ListSpacesRequest{Actor: target, OrganizationID: orgO, Name: "S", Limit: 7}},
		{name: "no actor", query: "limit=0", want: membership.ErrUnauthenticated},
		{name: "org_id not an ID", actor: target, query: "org_id=%25%25&limit=0", want: membership.ErrInvalidID, field: "org_id"},
		{name: "limit zero", actor: target, query: "limit=0", want: membership.ErrInvalidField, field: "limit"},
		{name: "limit too large", actor: target, query: "limit=101", want: membership.ErrInvalidField, field: "limit"},
		{name: "limit not a number", actor: target, query: "limit=ten", want: membership.ErrInvalidField, field: "limit"},
		{name: "name too long", actor: target, query: "name=" + url.QueryEscape(long), want: membership.ErrInvalidField, field: "name"},
		{name: "name of the longest length", actor: target, query: "name=" + url.QueryEscape(long[len("é"):]),
			parsed: membership.ListSpacesRequest{Actor: target, Name: long[len("é"):]}},
		{name: "empty parameter", actor: target, query: "name=", want: membership.ErrInvalidField, field: "name"},
		{name: "parameter twice", actor: target, query: "limit=1&limit=2", want: membership.ErrInvalidField, field: "limit"},
		{name: "unknown parameter", actor: target, query: "page=2", want: membership.ErrInvalidField, field: "page"},
		{name: "org_id empty", actor: target, query: "org_id=", want: membership.ErrInvalidField, field: "org_id"},
		{name: "foreign cursor", actor: target, query: "cursor=bTE6", want: membership.ErrInvalidField, field: "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			params, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := membership.ParseListSpacesRequest(tc.actor, params)
			if tc.want == nil {
				if err != nil || got != tc.parsed {
					t.Fatalf("= %+v, %v; want %+v", got, err, tc.parsed)
				}
				return
			}
			var e *membership.Error
			if !errors.As(err, &e) || !errors.Is(err, tc.want) || e.Field != tc.field {
				t.Fatalf("error %v, want %s naming %q", err, tc.want.Code, tc.field)
			}
		})
	}
}

func TestFoldName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ a, b string }{
		{"LLM-Evals", "llm-evals"},
		{"STRASSE", "strasse"},
		{"ſ", "S"},      // long s folds to s
		{"\u212a", "k"}, // Kelvin sign folds to k
		{"ΣΑΣ", "σας"},  // final sigma folds with sigma
	} {
		if membership.FoldName(tc.a) != membership.FoldName(tc.b) {
			t.Errorf("FoldName(%q) = %q, FoldName(%q) = %q; want equal", tc.a, membership.FoldName(tc.a), tc.b, membership.FoldName(tc.b))
		}
	}
	if membership.FoldName("ß") == membership.FoldName("ss") {
		t.Error("simple folding does not turn ß into ss")
	}
}
