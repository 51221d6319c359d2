package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

// list is the call of GET /v2/spaces/{space_id}/users?query with key.
func list(key, space, query string) call {
	p := usersPath(space)
	if query != "" {
		p += "?" + query
	}
	return call{method: http.MethodGet, path: p, key: key}
}

// wirePage is a page of the list as the response spells it.
type wirePage struct {
	Members    []wireMembership `json:"space_memberships"`
	Pagination struct {
		NextCursor *string `json:"next_cursor"`
		HasMore    bool    `json:"has_more"`
	} `json:"pagination"`
}

// decodePage checks a 200 answer of the list and decodes its page strictly:
// at most limit memberships, of space, and a next_cursor exactly when
// has_more is true.
func decodePage(t testing.TB, resp *http.Response, body []byte, space string, limit int) wirePage {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var p wirePage
	if err := json.Unmarshal(body, &p, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("the body is not a page: %v\n%s", err, body)
	}
	if p.Members == nil {
		t.Errorf("space_memberships is not an array: %s", body)
	}
	if len(p.Members) > limit {
		t.Errorf("%d memberships on a page of at most %d", len(p.Members), limit)
	}
	if p.Pagination.HasMore != (p.Pagination.NextCursor != nil) {
		t.Errorf("has_more %v with next_cursor %v: %s", p.Pagination.HasMore, p.Pagination.NextCursor, body)
	}
	if c := p.Pagination.NextCursor; c != nil && *c == "" {
		t.Errorf("an empty next_cursor: %s", body)
	}
	for _, m := range p.Members {
		if m.SpaceID != space {
			t.Errorf("a membership of space %q in a list of %q", m.SpaceID, space)
		}
	}
	return p
}

// walk lists space with limit (the default when 0) from the first page to
// the last, following next_cursor, and returns every membership in the
// order received. between, if not nil, runs after each page but the last.
func walk(t testing.TB, s *testServer, key, space string, limit int, between func(page int)) []wireMembership {
	t.Helper()
	var (
		all    []wireMembership
		cursor string
	)
	wantMax := membership.DefaultPageSize
	if limit != 0 {
		wantMax = limit
	}
	for page := 0; ; page++ {
		q := url.Values{}
		if limit != 0 {
			q.Set("limit", strconv.Itoa(limit))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp, body := s.do(t, list(key, space, q.Encode()))
		p := decodePage(t, resp, body, space, wantMax)
		all = append(all, p.Members...)
		if !p.Pagination.HasMore {
			return all
		}
		if len(p.Members) == 0 {
			t.Fatalf("page %d is empty but has more", page)
		}
		if page > 100 {
			t.Fatal("the walk does not end")
		}
		cursor = *p.Pagination.NextCursor
		if between != nil {
			between(page)
		}
	}
}

// TestListChecks walks the checks of a list in their order, one group per
// check, over HTTP against the demo fixture.
func TestListChecks(t *testing.T) {
	t.Parallel()
	// A cursor this server issued, for llm-evals: any other space refuses it.
	var foreign string
	{
		s := startServer(t, nil)
		resp, body := s.do(t, list(keyAdmin, spaceLLMEvals, "limit=1"))
		p := decodePage(t, resp, body, spaceLLMEvals, 1)
		if p.Pagination.NextCursor == nil {
			t.Fatal("the demo's llm-evals has a single member")
		}
		foreign = url.QueryEscape(*p.Pagination.NextCursor)
	}
	rows := []checkRow{
		{"1_unauthenticated", []errorCase{
			{name: "no Authorization header", call: list("", spaceLLMEvals, ""),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
			{name: "unknown key", call: list("not-a-demo-key", spaceLLMEvals, ""),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
			{name: "before the space id and the query", call: list("", "Space:1", "limit=0&%zz"),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		}},
		{"2_invalid_id", []errorCase{
			{name: "space_id not an ID", call: list(keyAdmin, "Space:1", ""),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "space_id too long", call: list(keyAdmin, strings.Repeat("QUFB", 129), ""),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "before the limit", call: list(keyAdmin, "Space:1", "limit=0"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "before a malformed query", call: list(keyAdmin, "Space:1", "limit=%zz"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
		}},
		{"3_invalid_field", []errorCase{
			{name: "limit 0", call: list(keyAdmin, spaceLLMEvals, "limit=0"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit 101", call: list(keyAdmin, spaceLLMEvals, "limit=101"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit negative", call: list(keyAdmin, spaceLLMEvals, "limit=-1"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit abc", call: list(keyAdmin, spaceLLMEvals, "limit=abc"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit 1.5", call: list(keyAdmin, spaceLLMEvals, "limit=1.5"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit empty", call: list(keyAdmin, spaceLLMEvals, "limit="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit twice", call: list(keyAdmin, spaceLLMEvals, "limit=1&limit=2"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit twice with the same value", call: list(keyAdmin, spaceLLMEvals, "limit=1&limit=1"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "unknown parameter", call: list(keyAdmin, spaceLLMEvals, "page=2"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "parameter name in another case", call: list(keyAdmin, spaceLLMEvals, "Limit=1"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor twice", call: list(keyAdmin, spaceLLMEvals, "cursor="+foreign+"&cursor="+foreign),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor empty", call: list(keyAdmin, spaceLLMEvals, "cursor="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor made up", call: list(keyAdmin, spaceLLMEvals, "cursor=bm90LWEtY3Vyc29y"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor of another space", call: list(keyAdmin, spaceRedTeam, "cursor="+foreign),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "malformed escape", call: list(keyAdmin, spaceLLMEvals, "limit=%zz"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "semicolon separator", call: list(keyAdmin, spaceLLMEvals, "limit=1;cursor=x"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "before the space is looked up", call: list(keyAdmin, spaceMissing, "limit=0"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
		}},
		{"4_space_not_found", []errorCase{
			{name: "no such space", call: list(keyAdmin, spaceMissing, ""),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "private space the actor cannot read", call: list(keyMember, spaceRedTeam, ""),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "space of another account", call: list(keyAdmin, spaceOtherEvals, ""),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "actor of another account", call: list(keyOther, spaceLLMEvals, "limit=1"),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
		}},
	}
	runCheckRows(t, rows, runErrorCases)
}

// TestListPages walks llm-evals, with five members, page by page with
// every page size: each member appears exactly once, in user id order, with
// its role in the upper-case spelling, and the last page says there is no
// more.
func TestListPages(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for _, body := range []string{
		predefinedBody(userGrace, "predefined", "member"),
		customBody(userAlan, "custom", roleReviewer),
		predefinedBody(userAnn, "PREDEFINED", "ANNOTATOR"),
	} {
		resp, b := s.do(t, call{key: keyAdmin, body: body})
		decodeMembership(t, resp, b)
	}
	ids := make(map[string]string) // user id -> membership id, from the store
	for _, m := range storedMembers(t, s.store, spaceLLMEvals) {
		ids[string(m.UserID)] = string(m.ID)
	}
	member := func(user string, role map[string]any) wireMembership {
		return wireMembership{ID: ids[user], UserID: user, SpaceID: spaceLLMEvals, Role: role}
	}
	want := []wireMembership{ // by user id: "VXNlcjo0" < ... < "VXNlcjoy" < "VXNlcjoz"
		member(userBarbara, map[string]any{"type": "PREDEFINED", "name": "MEMBER"}),
		member(userAlan, map[string]any{"type": "CUSTOM", "id": roleReviewer}),
		member(userAnn, map[string]any{"type": "PREDEFINED", "name": "ANNOTATOR"}),
		member(userGrace, map[string]any{"type": "PREDEFINED", "name": "MEMBER"}),
		member(userLinus, map[string]any{"type": "PREDEFINED", "name": "ADMIN"}),
	}
	for _, limit := range []int{1, 2, 3, 4, 5, 6, 100, 0} {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(want, walk(t, s, keyAdmin, spaceLLMEvals, limit, nil)); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("every reader", func(t *testing.T) {
		t.Parallel()
		for _, key := range []string{keyOrgAdmin, keySpaceAdmin, keyMember, keyBinder} {
			if diff := cmp.Diff(want, walk(t, s, key, spaceLLMEvals, 2, nil)); diff != "" {
				t.Errorf("members for %s (-want +got):\n%s", key, diff)
			}
		}
	})

	t.Run("HEAD", func(t *testing.T) {
		t.Parallel()
		resp, body := s.do(t, call{method: http.MethodHead, path: usersPath(spaceLLMEvals), key: keyAdmin})
		if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("HEAD: status %d, Content-Type %q, body %q; want 200, JSON and no body", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})
}

// TestListEmpty lists a space without members: an empty array, not null,
// and no cursor.
func TestListEmpty(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	resp, body := s.do(t, list(keyOrgAdmin, spaceRedTeam, "limit=1"))
	decodePage(t, resp, body, spaceRedTeam, 1)
	if want := `{"space_memberships":[],"pagination":{"has_more":false}}`; string(bytes.TrimSpace(body)) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
}

// TestListDuringChanges walks a space one member at a time while members
// come and go between pages: every membership that exists for the whole
// walk appears exactly once, and none appears twice.
func TestListDuringChanges(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for _, body := range []string{
		customBody(userAlan, "CUSTOM", roleReviewer),
		predefinedBody(userAnn, "PREDEFINED", "ANNOTATOR"),
	} {
		resp, b := s.do(t, call{key: keyAdmin, body: body})
		decodeMembership(t, resp, b)
	}
	// Before: Barbara, Alan, Ann, Linus. After the first page Ann goes,
	// Grace comes, and Barbara (already listed) takes another role.
	got := walk(t, s, keyAdmin, spaceLLMEvals, 1, func(page int) {
		if page != 0 {
			return
		}
		resp, body := s.do(t, remove(keyAdmin, spaceLLMEvals, userAnn))
		checkNoContent(t, resp, body)
		for _, b := range []string{predefinedBody(userGrace, "PREDEFINED", "MEMBER"), predefinedBody(userBarbara, "PREDEFINED", "READ_ONLY")} {
			resp, body = s.do(t, call{key: keyAdmin, body: b})
			decodeMembership(t, resp, body)
		}
	})
	seen := make(map[string]int)
	for _, m := range got {
		seen[m.UserID]++
	}
	for user, n := range seen {
		if n != 1 {
			t.Errorf("user %s listed %d times", user, n)
		}
	}
	for _, user := range []string{userBarbara, userAlan, userLinus} {
		if seen[user] != 1 {
			t.Errorf("user %s, a member for the whole walk, listed %d times", user, seen[user])
		}
	}
}

// TestListPathIDs lists spaces whose ids hold "/", "+" and "=", in every
// escaping a client may use: the route matches and the answer carries the
// decoded ids.
func TestListPathIDs(t *testing.T) {
	t.Parallel()
	const (
		spacePlusSlash = "U3BhY2U6+/+/"
		spaceSlashes   = "U3BhY2U6++//AQ=="
		userSlash      = "VXNlcjr7/74="
	)
	tests := []struct {
		name, space, path string
	}{
		{"encodeURIComponent", spacePlusSlash, usersPath(spacePlusSlash)},
		{"lower-case escapes", spacePlusSlash, "/v2/spaces/U3BhY2U6%2b%2f%2b%2f/users"},
		{"plus left as is", spacePlusSlash, "/v2/spaces/U3BhY2U6+%2F+%2F/users?limit=1"},
		{"double slash inside the id", spaceSlashes, usersPath(spaceSlashes) + "?limit=100"},
		{"padding left as is", spaceSlashes, "/v2/spaces/U3BhY2U6++%2F%2FAQ==/users"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, loadTestFixture(t, "reserved_chars.json"))
			resp, body := s.do(t, call{key: "reserved-admin-key", path: usersPath(tc.space), body: predefinedBody(userSlash, "PREDEFINED", "MEMBER")})
			added := decodeMembership(t, resp, body)

			resp, body = s.do(t, call{method: http.MethodGet, key: "reserved-admin-key", path: tc.path})
			p := decodePage(t, resp, body, tc.space, 1)
			want := []wireMembership{{ID: added.ID, UserID: userSlash, SpaceID: tc.space, Role: map[string]any{"type": "PREDEFINED", "name": "MEMBER"}}}
			if diff := cmp.Diff(want, p.Members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}
