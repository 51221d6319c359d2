package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The records of testdata/many_spaces.json that the demo lacks: a third
// organization, Lab (orgLab), with lab-evals (spaceLab) and a private
// space, and more spaces in Research, enough for several pages.
const (
	manySpaces = "many_spaces.json"

	spaceResume       = "U3BhY2U6NQ==" // Space:5, "Résumé Σ-evals", Research, empty description, created_at not in UTC
	spaceStrasse      = "U3BhY2U6Ng==" // Space:6, "Straße", Research, no created_at in the fixture
	spaceSecret       = "U3BhY2U6Nw==" // Space:7, "secret", Research, public; testdata/hidden-spaces hides it
	spaceLabPrivate   = "U3BhY2U6OA==" // Space:8, "lab-private", Lab, private, Barbara a member
	spaceArchive      = "U3BhY2U6OQ==" // Space:9, "archive", Research, private, Linus a member
	spaceBulk1        = "U3BhY2U6MTA=" // Space:10, "bulk-evals-1", Research, public
	spaceBulk4        = "U3BhY2U6MTM=" // Space:13, "bulk-evals-4", Research, private, no members
	spaceOtherArchive = "U3BhY2U6MTY=" // Space:16, "other-archive", the other account, private

	// keyManyOutsider is Ken's: an account MEMBER who is in no organization.
	keyManyOutsider = "many-spaces-outsider-key"
)

// hiddenSpacesBundle is a bundle of the tests whose rule keeps everyone
// from reading a space named "secret".
const hiddenSpacesBundle = "testdata/hidden-spaces"

// hiddenEngine compiles the default policy extended by hiddenSpacesBundle,
// once for all tests.
var hiddenEngine = sync.OnceValues(func() (*policy.Engine, error) {
	b, err := policy.ReadBundle(hiddenSpacesBundle)
	if err != nil {
		return nil, err
	}
	return policy.New(policy.WithBundle(b))
})

// startHiddenServer serves the fixture file name, like startServer, with
// the policy of hiddenSpacesBundle.
func startHiddenServer(t *testing.T, name string) *testServer {
	t.Helper()
	engine, err := hiddenEngine()
	if err != nil {
		t.Fatal(err)
	}
	f := loadTestFixture(t, name)
	h, store := newHandlerWithEngine(t, f, engine, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, fixture: f, store: store, logs: new(syncBuffer)}
}

// startPostgreSQLServer serves the fixture file name, like startServer,
// on a PostgreSQL store of its own schema, with the policy of
// hiddenSpacesBundle when hidden is set; it skips t without a test
// database.
func startPostgreSQLServer(t *testing.T, name string, hidden bool) *testServer {
	t.Helper()
	dsn := pgtest.Schema(t, "server_spaces")
	engine, err := sharedEngine()
	if hidden {
		engine, err = hiddenEngine()
	}
	if err != nil {
		t.Fatal(err)
	}
	f := loadTestFixture(t, name)
	store, closeStore, err := openStore(t.Context(), dsn, seedAuto, f, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStore)
	svc, err := membership.NewService(store, engine)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := newAPIKeyAuthenticator(f.APIKeys)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newHandler(svc, auth, slog.New(slog.DiscardHandler), requestTimeout))
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, fixture: f, store: store, logs: new(syncBuffer)}
}

// spacePath is the path of /v2/spaces/{space_id}, escaped like usersPath.
func spacePath(spaceID string) string {
	return "/v2/spaces/" + escapeComponent(spaceID)
}

// getSpaceCall is the call of GET /v2/spaces/{space_id} with key.
func getSpaceCall(key, space string) call {
	return call{method: http.MethodGet, path: spacePath(space), key: key}
}

// listSpacesCall is the call of GET /v2/spaces?query with key.
func listSpacesCall(key, query string) call {
	p := "/v2/spaces"
	if query != "" {
		p += "?" + query
	}
	return call{method: http.MethodGet, path: p, key: key}
}

// wireSpace is a space record as the response spells it.
type wireSpace struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	IsPrivate      bool   `json:"is_private"`
	CreatedAt      string `json:"created_at"`
}

// wireSpacePage is a page of the list of spaces as the response spells it.
type wireSpacePage struct {
	Spaces     []wireSpace `json:"spaces"`
	Pagination struct {
		NextCursor *string `json:"next_cursor"`
		HasMore    bool    `json:"has_more"`
	} `json:"pagination"`
}

// checkCreatedAt checks that created_at is an RFC 3339 time in UTC, in
// the one spelling of that time that the server writes.
func checkCreatedAt(t testing.TB, sp wireSpace) {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, sp.CreatedAt)
	if err != nil || !strings.HasSuffix(sp.CreatedAt, "Z") || at.UTC().Format(time.RFC3339Nano) != sp.CreatedAt {
		t.Errorf("space %s: created_at %q is not an RFC 3339 time in UTC", sp.ID, sp.CreatedAt)
	}
}

// decodeSpace checks a 200 answer of a read and decodes its space strictly.
func decodeSpace(t testing.TB, resp *http.Response, body []byte) wireSpace {
	t.Helper()
	sp := decodeOK[wireSpace](t, resp, body, "a space")
	checkCreatedAt(t, sp)
	return sp
}

// decodeSpacePage checks a 200 answer of a list of spaces and decodes its
// page strictly: at most limit spaces, in id order, and a next_cursor
// exactly when has_more is true.
func decodeSpacePage(t testing.TB, resp *http.Response, body []byte, limit int) wireSpacePage {
	t.Helper()
	p := decodeOK[wireSpacePage](t, resp, body, "a page of spaces")
	if p.Spaces == nil {
		t.Errorf("spaces is not an array: %s", body)
	}
	if len(p.Spaces) > limit {
		t.Errorf("%d spaces on a page of at most %d", len(p.Spaces), limit)
	}
	if !slices.IsSortedFunc(p.Spaces, func(a, b wireSpace) int { return strings.Compare(a.ID, b.ID) }) {
		t.Errorf("spaces not in id order: %s", body)
	}
	if p.Pagination.HasMore != (p.Pagination.NextCursor != nil) {
		t.Errorf("has_more %v with next_cursor %v: %s", p.Pagination.HasMore, p.Pagination.NextCursor, body)
	}
	if c := p.Pagination.NextCursor; c != nil && *c == "" {
		t.Errorf("an empty next_cursor: %s", body)
	}
	for _, sp := range p.Spaces {
		checkCreatedAt(t, sp)
	}
	return p
}

// walkSpaces lists the spaces key can read with the filters, limit at a
// time (the default when 0), from the first page to the last, following
// next_cursor, and returns every space in the order received. between, if
// not nil, runs after each page but the last.
func walkSpaces(t testing.TB, s *testServer, key string, filters url.Values, limit int, between func(page int)) []wireSpace {
	t.Helper()
	var (
		all    []wireSpace
		cursor string
	)
	wantMax := membership.DefaultPageSize
	if limit != 0 {
		wantMax = limit
	}
	for page := 0; ; page++ {
		q := url.Values{}
		for k, v := range filters {
			q[k] = v
		}
		if limit != 0 {
			q.Set("limit", strconv.Itoa(limit))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp, body := s.do(t, listSpacesCall(key, q.Encode()))
		p := decodeSpacePage(t, resp, body, wantMax)
		all = append(all, p.Spaces...)
		if !p.Pagination.HasMore {
			return all
		}
		if len(p.Spaces) != wantMax {
			t.Errorf("page %d holds %d spaces, not the %d asked for, and has more", page, len(p.Spaces), wantMax)
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

// readableSpaces returns, in id order, the spaces of the fixture (of every
// account) that GET /v2/spaces/{space_id} answers 200 for with key: what
// the list of spaces must hold.
func readableSpaces(t testing.TB, s *testServer, key string) []wireSpace {
	t.Helper()
	var out []wireSpace
	for _, sp := range s.fixture.Spaces {
		resp, body := s.do(t, getSpaceCall(key, string(sp.ID)))
		switch resp.StatusCode {
		case http.StatusOK:
			out = append(out, decodeSpace(t, resp, body))
		case http.StatusNotFound:
		default:
			t.Fatalf("GET space %s: status %d; body %s", sp.ID, resp.StatusCode, body)
		}
	}
	slices.SortFunc(out, func(a, b wireSpace) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// spaceNames returns the names of spaces, sorted.
func spaceNames(spaces []wireSpace) []string {
	names := make([]string, len(spaces))
	for i, sp := range spaces {
		names[i] = sp.Name
	}
	slices.Sort(names)
	return names
}

// TestGetSpaceChecks walks the checks of a read in their order, one group
// per check, over HTTP against the demo fixture.
func TestGetSpaceChecks(t *testing.T) {
	t.Parallel()
	rows := []checkRow{
		{"1_unauthenticated", []errorCase{
			{name: "no Authorization header", call: getSpaceCall("", spaceLLMEvals),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
			{name: "unknown key", call: getSpaceCall("not-a-demo-key", spaceLLMEvals),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
			{name: "before the space id", call: getSpaceCall("", "Space:1"),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		}},
		{"2_invalid_id", []errorCase{
			{name: "space_id not an ID", call: getSpaceCall(keyAdmin, "Space:1"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "space_id unpadded", call: getSpaceCall(keyAdmin, "U3BhY2U6MQ"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "space_id too long", call: getSpaceCall(keyAdmin, strings.Repeat("QUFB", 129)),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "space_id dot-dot", call: call{method: http.MethodGet, path: "/v2/spaces/%2E%2E", key: keyAdmin},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
		}},
		{"3_space_not_found", []errorCase{
			{name: "no such space", call: getSpaceCall(keyAdmin, spaceMissing),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "private space the actor cannot read", call: getSpaceCall(keyMember, spaceRedTeam),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "space of another account", call: getSpaceCall(keyAdmin, spaceOtherEvals),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "actor of another account", call: getSpaceCall(keyOther, spaceLLMEvals),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "a query string is ignored", call: call{method: http.MethodGet, path: spacePath(spaceMissing) + "?limit=0", key: keyAdmin},
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
		}},
	}
	runCheckRows(t, rows, runErrorCases)
}

// TestGetSpace reads spaces that their callers may read: the answer is the
// space record, the same for every reader, with created_at in UTC.
func TestGetSpace(t *testing.T) {
	t.Parallel()

	t.Run("llm-evals", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, nil)
		resp, body := s.do(t, getSpaceCall(keyMember, spaceLLMEvals))
		got := decodeSpace(t, resp, body)
		want := wireSpace{ID: spaceLLMEvals, OrganizationID: orgResearch, Name: "llm-evals",
			Description: "evaluations of the chat models", IsPrivate: false, CreatedAt: "2026-01-15T09:30:00Z"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("space (-want +got):\n%s", diff)
		}
		checkGolden(t, renderResponse(resp, body))
	})

	t.Run("every reader of llm-evals", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, nil)
		_, want := s.do(t, getSpaceCall(keyAdmin, spaceLLMEvals))
		for _, key := range []string{keyOrgAdmin, keySpaceAdmin, keyMember, keyBinder} {
			resp, body := s.do(t, getSpaceCall(key, spaceLLMEvals))
			decodeSpace(t, resp, body)
			if !bytes.Equal(body, want) {
				t.Errorf("%s reads %s, the account admin %s", key, body, want)
			}
		}
	})

	t.Run("a private space, for its readers", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, nil)
		for _, key := range []string{keyAdmin, keyOrgAdmin} {
			resp, body := s.do(t, getSpaceCall(key, spaceRedTeam))
			if got := decodeSpace(t, resp, body); got.Name != "red-team" || !got.IsPrivate {
				t.Errorf("%s reads %+v, want the private red-team", key, got)
			}
		}
	})

	t.Run("created_at given in another zone", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, loadTestFixture(t, manySpaces))
		resp, body := s.do(t, getSpaceCall(keyAdmin, spaceResume))
		got := decodeSpace(t, resp, body)
		want := wireSpace{ID: spaceResume, OrganizationID: orgResearch, Name: "Résumé Σ-evals",
			Description: "", CreatedAt: "2026-04-02T10:00:00Z"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("space (-want +got):\n%s", diff)
		}
		checkGolden(t, renderResponse(resp, body))
	})

	t.Run("created_at left out of the fixture", func(t *testing.T) {
		t.Parallel()
		before := time.Now().Add(-time.Second)
		s := startServer(t, loadTestFixture(t, manySpaces))
		resp, body := s.do(t, getSpaceCall(keyMember, spaceStrasse))
		got := decodeSpace(t, resp, body)
		at, err := time.Parse(time.RFC3339Nano, got.CreatedAt)
		if err != nil || at.Before(before) || at.After(time.Now()) {
			t.Errorf("created_at %q, want the time of seeding", got.CreatedAt)
		}
	})

	t.Run("HEAD", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, nil)
		resp, body := s.do(t, call{method: http.MethodHead, path: spacePath(spaceLLMEvals), key: keyAdmin})
		if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("HEAD: status %d, Content-Type %q, body %q; want 200, JSON and no body", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})

	t.Run("ids with reserved characters", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, loadTestFixture(t, "reserved_chars.json"))
		for _, path := range []string{spacePath("U3BhY2U6+/+/"), "/v2/spaces/U3BhY2U6%2b%2f%2b%2f", "/v2/spaces/U3BhY2U6+%2F+%2F"} {
			resp, body := s.do(t, call{method: http.MethodGet, path: path, key: "reserved-admin-key"})
			if got := decodeSpace(t, resp, body); got.ID != "U3BhY2U6+/+/" {
				t.Errorf("GET %s: space %q, want the decoded id", path, got.ID)
			}
		}
	})
}

// TestInvisibleSpaceAnswersAsMissing reads spaces that exist but that the
// caller may not read, for every reason there is: each answer is the
// answer to a space that does not exist, to the byte.
func TestInvisibleSpaceAnswersAsMissing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, space string
	}{
		{"private space of a member of the organization", keyMember, spaceArchive},
		{"private space of no one, for a space admin elsewhere", keySpaceAdmin, spaceBulk4},
		{"space of an organization the caller is not in", keyOrgAdmin, spaceLab},
		{"caller in no organization", keyManyOutsider, spaceLLMEvals},
		{"space of another account, for its admin", keyAdmin, spaceOtherEvals},
		{"private space of another account, for its admin", keyAdmin, spaceOtherArchive},
		{"caller of another account", keyOther, spaceLLMEvals},
		{"space a host rule hides, for the account admin", keyAdmin, spaceSecret},
	}
	s := startHiddenServer(t, manySpaces)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			missingResp, missingBody := s.do(t, getSpaceCall(tc.key, spaceMissing))
			resp, body := s.do(t, getSpaceCall(tc.key, tc.space))
			checkProblem(t, resp, body, http.StatusNotFound, membership.CodeSpaceNotFound)
			want, got := renderResponse(missingResp, missingBody), renderResponse(resp, body)
			if !bytes.Equal(want, got) {
				t.Errorf("an invisible space answers\n%s\nand a missing one\n%s", got, want)
			}
		})
	}
}

// TestListSpacesChecks walks the checks of a list of spaces in their
// order, one group per check, over HTTP against the demo fixture.
func TestListSpacesChecks(t *testing.T) {
	t.Parallel()
	// Cursors this server issued: one of the whole list, one of Research.
	var whole, research, members string
	{
		s := startServer(t, nil)
		resp, body := s.do(t, listSpacesCall(keyAdmin, "limit=1"))
		p := decodeSpacePage(t, resp, body, 1)
		resp, body = s.do(t, listSpacesCall(keyAdmin, "limit=1&org_id="+url.QueryEscape(orgResearch)))
		q := decodeSpacePage(t, resp, body, 1)
		resp, body = s.do(t, list(keyAdmin, spaceLLMEvals, "limit=1"))
		m := decodePage(t, resp, body, spaceLLMEvals, 1)
		if p.Pagination.NextCursor == nil || q.Pagination.NextCursor == nil || m.Pagination.NextCursor == nil {
			t.Fatal("the demo's account has two spaces, and llm-evals two members")
		}
		whole = url.QueryEscape(*p.Pagination.NextCursor)
		research = url.QueryEscape(*q.Pagination.NextCursor)
		members = url.QueryEscape(*m.Pagination.NextCursor)
	}
	org := "org_id=" + url.QueryEscape(orgResearch)
	rows := []checkRow{
		{"1_unauthenticated", []errorCase{
			{name: "no Authorization header", call: listSpacesCall("", ""),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
			{name: "unknown key", call: listSpacesCall("not-a-demo-key", ""),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
			{name: "before the query", call: listSpacesCall("", "org_id=Org:1&limit=0&%zz"),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		}},
		{"2_invalid_id", []errorCase{
			{name: "org_id not an ID", call: listSpacesCall(keyAdmin, "org_id=Org:1"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "org_id unpadded", call: listSpacesCall(keyAdmin, "org_id=T3JnOjE"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "org_id too long", call: listSpacesCall(keyAdmin, "org_id="+strings.Repeat("QUFB", 129)),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "before the limit", call: listSpacesCall(keyAdmin, "limit=0&org_id=Org:1"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "before an unknown parameter", call: listSpacesCall(keyAdmin, "page=2&org_id=Org:1"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "before a malformed query", call: listSpacesCall(keyAdmin, "org_id=Org:1&limit=%zz"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
		}},
		{"3_invalid_field", []errorCase{
			{name: "limit 0", call: listSpacesCall(keyAdmin, "limit=0"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit 101", call: listSpacesCall(keyAdmin, "limit=101"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit negative", call: listSpacesCall(keyAdmin, "limit=-1"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit abc", call: listSpacesCall(keyAdmin, "limit=abc"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit 1.5", call: listSpacesCall(keyAdmin, "limit=1.5"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit empty", call: listSpacesCall(keyAdmin, "limit="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit twice", call: listSpacesCall(keyAdmin, "limit=1&limit=2"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "name of 257 characters", call: listSpacesCall(keyAdmin, "name="+url.QueryEscape(strings.Repeat("é", 257))),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "name empty", call: listSpacesCall(keyAdmin, "name="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "name twice", call: listSpacesCall(keyAdmin, "name=evals&name=evals"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "org_id empty", call: listSpacesCall(keyAdmin, "org_id="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "org_id twice", call: listSpacesCall(keyAdmin, org+"&"+org),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor empty", call: listSpacesCall(keyAdmin, "cursor="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor twice", call: listSpacesCall(keyAdmin, "cursor="+whole+"&cursor="+whole),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor made up", call: listSpacesCall(keyAdmin, "cursor=bm90LWEtY3Vyc29y"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor of a list of members", call: listSpacesCall(keyAdmin, "cursor="+members),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor of the whole list with org_id", call: listSpacesCall(keyAdmin, org+"&cursor="+whole),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor of an organization without org_id", call: listSpacesCall(keyAdmin, "cursor="+research),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor of no name with a name", call: listSpacesCall(keyAdmin, "name=evals&cursor="+whole),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "unknown parameter", call: listSpacesCall(keyAdmin, "page=2"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "parameter name in another case", call: listSpacesCall(keyAdmin, "Limit=1"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "organization_id for org_id", call: listSpacesCall(keyAdmin, "organization_id="+url.QueryEscape(orgResearch)),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "malformed escape", call: listSpacesCall(keyAdmin, "limit=%zz"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "malformed escape beside a valid org_id", call: listSpacesCall(keyAdmin, org+"&name=%zz"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "semicolon separator", call: listSpacesCall(keyAdmin, "limit=1;cursor=x"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
		}},
	}
	runCheckRows(t, rows, runErrorCases)
}

// TestListSpacesWhoSeesWhat lists every space each caller can read in
// testdata/many_spaces.json, by name: the policy's rule of who reads a
// space, seen through the list.
func TestListSpacesWhoSeesWhat(t *testing.T) {
	t.Parallel()
	researchPublic := []string{"Résumé Σ-evals", "Straße", "bulk-evals-1", "bulk-evals-2", "bulk-evals-3",
		"bulk-evals-5", "bulk-evals-6", "llm-evals", "secret"}
	with := func(names ...string) []string {
		out := append(slices.Clone(researchPublic), names...)
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name, key string
		want      []string
	}{
		{"account admin: every space of the account", keyAdmin,
			with("archive", "bulk-evals-4", "red-team", "lab-evals", "lab-private")},
		{"organization admin: every space of Research, none of Lab", keyOrgAdmin,
			with("archive", "bulk-evals-4", "red-team")},
		{"member of Research and Lab: the public spaces of both, and her private one", keyMember,
			with("lab-evals", "lab-private")},
		{"member of Research: its public spaces, and his private one", keySpaceAdmin, with("archive")},
		{"custom role in Research: its public spaces", keyBinder, with()},
		{"member of no organization: nothing", keyManyOutsider, nil},
		{"admin of the other account: its spaces alone", keyOther, []string{"other-archive", "other-evals"}},
	}
	s := startServer(t, loadTestFixture(t, manySpaces))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, spaceNames(walkSpaces(t, s, tc.key, nil, 0, nil))); diff != "" {
				t.Errorf("spaces (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListSpacesIsEveryReadableSpace holds the list equal to deciding
// space by space: for every caller, every filter and several page sizes,
// walking the list gives exactly the spaces that GET /v2/spaces/{space_id}
// answers 200 for, narrowed by the filters, once each and in id order.
// With the host rule of hiddenSpacesBundle, the space it hides is neither
// read nor listed. It runs on the memory store and, with a test database,
// on PostgreSQL.
func TestListSpacesIsEveryReadableSpace(t *testing.T) {
	t.Parallel()
	filters := []struct {
		name string
		q    url.Values
	}{
		{"no filter", nil},
		{"Research", url.Values{"org_id": {orgResearch}}},
		{"Lab", url.Values{"org_id": {orgLab}}},
		{"the other account's organization", url.Values{"org_id": {orgOther}}},
		{"no such organization", url.Values{"org_id": {orgMissing}}},
		{"name evals", url.Values{"name": {"evals"}}},
		{"name EVALS", url.Values{"name": {"EVALS"}}},
		{"name sigma", url.Values{"name": {"σ-EVALS"}}},
		{"name with a capital sharp s", url.Values{"name": {"STRAẞE"}}},
		{"name secret", url.Values{"name": {"secret"}}},
		{"Lab and name EVALS", url.Values{"org_id": {orgLab}, "name": {"EVALS"}}},
	}
	keys := []string{keyAdmin, keyOrgAdmin, keySpaceAdmin, keyMember, keyBinder, keyManyOutsider, keyOther}
	servers := []struct {
		name  string
		start func(t *testing.T) *testServer
	}{
		{"default policy", func(t *testing.T) *testServer { return startServer(t, loadTestFixture(t, manySpaces)) }},
		{"host rule", func(t *testing.T) *testServer { return startHiddenServer(t, manySpaces) }},
		{"PostgreSQL", func(t *testing.T) *testServer { return startPostgreSQLServer(t, manySpaces, false) }},
		{"PostgreSQL, host rule", func(t *testing.T) *testServer { return startPostgreSQLServer(t, manySpaces, true) }},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			s := srv.start(t)
			for _, key := range keys {
				t.Run(key, func(t *testing.T) {
					t.Parallel()
					readable := readableSpaces(t, s, key)
					for _, f := range filters {
						want := []wireSpace{}
						for _, sp := range readable {
							if org := f.q.Get("org_id"); org != "" && sp.OrganizationID != org {
								continue
							}
							if !strings.Contains(membership.FoldName(sp.Name), membership.FoldName(f.q.Get("name"))) {
								continue
							}
							want = append(want, sp)
						}
						for _, limit := range []int{1, 4, 0} {
							got := walkSpaces(t, s, key, f.q, limit, nil)
							if got == nil {
								got = []wireSpace{}
							}
							if diff := cmp.Diff(want, got); diff != "" {
								t.Errorf("%s, limit %d: spaces (-readable +listed):\n%s", f.name, limit, diff)
							}
						}
					}
				})
			}
		})
	}
}

// TestListSpacesNameFilter lists the account admin's spaces by name: the
// filter matches a part of the name, ignoring case by simple case folding,
// so "ß" and "ẞ" match each other and "ss" matches neither.
func TestListSpacesNameFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, filter string
		want         []string
	}{
		{"a part", "bulk-evals-", []string{"bulk-evals-1", "bulk-evals-2", "bulk-evals-3", "bulk-evals-4", "bulk-evals-5", "bulk-evals-6"}},
		{"upper case", "LLM", []string{"llm-evals"}},
		{"final sigma", "RÉSUMÉ ς", []string{"Résumé Σ-evals"}},
		{"capital sharp s", "straẞe", []string{"Straße"}},
		{"no full folding", "strasse", []string{}},
		{"the whole name", "lab-private", []string{"lab-private"}},
		{"no match", "nothing-like-this", []string{}},
		{"256 characters", strings.Repeat("é", 256), []string{}},
	}
	s := startServer(t, loadTestFixture(t, manySpaces))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, spaceNames(walkSpaces(t, s, keyAdmin, url.Values{"name": {tc.filter}}, 2, nil))); diff != "" {
				t.Errorf("spaces (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListSpacesEmpty lists for a caller who can read no space, and for an
// organization the caller cannot see: an empty array, not null, no cursor
// and no error.
func TestListSpacesEmpty(t *testing.T) {
	t.Parallel()
	s := startServer(t, loadTestFixture(t, manySpaces))
	const want = `{"spaces":[],"pagination":{"has_more":false}}`
	for _, c := range []call{
		listSpacesCall(keyManyOutsider, "limit=1"),
		listSpacesCall(keyOrgAdmin, "org_id="+url.QueryEscape(orgLab)),
		listSpacesCall(keyAdmin, "org_id="+url.QueryEscape(orgOther)),
		listSpacesCall(keyOther, "org_id="+url.QueryEscape(orgResearch)),
		listSpacesCall(keyAdmin, "org_id="+url.QueryEscape(orgMissing)),
	} {
		resp, body := s.do(t, c)
		decodeSpacePage(t, resp, body, membership.DefaultPageSize)
		if got := string(bytes.TrimSpace(body)); got != want {
			t.Errorf("%s: body = %s, want %s", c.path, got, want)
		}
	}
}

// TestListSpacesPage checks the first page of the account admin's list
// against its golden file, and that HEAD answers it without a body.
func TestListSpacesPage(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	resp, body := s.do(t, listSpacesCall(keyAdmin, "limit=1"))
	p := decodeSpacePage(t, resp, body, 1)
	if len(p.Spaces) != 1 || p.Spaces[0].ID != spaceLLMEvals || !p.Pagination.HasMore {
		t.Errorf("first page %s, want llm-evals and more", body)
	}
	checkGolden(t, renderResponse(resp, body))

	resp, body = s.do(t, call{method: http.MethodHead, path: "/v2/spaces", key: keyAdmin})
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD: status %d, Content-Type %q, body %q; want 200, JSON and no body", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// TestListSpacesDuringChanges walks Barbara's spaces one at a time while
// spaces come, go and change between pages: every space she can read for
// the whole walk appears exactly once, and none appears twice.
func TestListSpacesDuringChanges(t *testing.T) {
	t.Parallel()
	s := startServer(t, loadTestFixture(t, manySpaces))
	before := readableSpaces(t, s, keyMember)
	spaces := make(map[string]membership.Space)
	for _, sp := range s.fixture.Spaces {
		spaces[string(sp.ID)] = sp
	}
	put := func(sp membership.Space) {
		if err := s.store.PutSpace(context.Background(), sp); err != nil {
			t.Fatal(err)
		}
	}
	// After the first page (llm-evals): red-team and lab-private's ids lie
	// ahead; a new public space comes before the walk's place and one
	// after it, bulk-evals-6 turns private, and bulk-evals-2 is renamed.
	var changed []string
	got := walkSpaces(t, s, keyMember, nil, 1, func(page int) {
		if page != 0 {
			return
		}
		put(membership.Space{ID: "U3BhY2U6MA==", OrganizationID: orgResearch, Name: "new, before"}) // Space:0
		put(membership.Space{ID: "U3BhY2U6OTg=", OrganizationID: orgResearch, Name: "new, after"})  // Space:98
		closed := spaces["U3BhY2U6MTU="]                                                            // bulk-evals-6
		closed.IsPrivate = true
		put(closed)
		renamed := spaces["U3BhY2U6MTE="] // bulk-evals-2
		renamed.Name = "renamed"
		put(renamed)
		changed = []string{"U3BhY2U6MA==", "U3BhY2U6OTg=", string(closed.ID)}
	})
	seen := make(map[string]int)
	for _, sp := range got {
		seen[sp.ID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("space %s listed %d times", id, n)
		}
	}
	for _, sp := range before {
		if !slices.Contains(changed, sp.ID) && seen[sp.ID] != 1 {
			t.Errorf("space %s (%s), readable for the whole walk, listed %d times", sp.ID, sp.Name, seen[sp.ID])
		}
	}
	if seen["U3BhY2U6MA=="] != 0 {
		t.Error("a space added behind the walk's place was listed")
	}
	if seen["U3BhY2U6OTg="] != 1 {
		t.Error("a space added ahead of the walk's place was not listed")
	}
	if seen["U3BhY2U6MTU="] != 0 {
		t.Error("a space that turned private before the walk reached it was listed")
	}
}

// TestListSpacesRoute checks that the list and the read of a space sit
// beside the routes below a space, which they do not capture, and that
// the paths around them answer as every path outside the routes does.
func TestListSpacesRoute(t *testing.T) {
	t.Parallel()
	runErrorCases(t, []errorCase{
		{name: "POST spaces", call: call{path: "/v2/spaces", key: keyAdmin, body: `{"name":"new"}`},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: spacesAllow},
		{name: "DELETE spaces", call: call{method: http.MethodDelete, path: "/v2/spaces"},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: spacesAllow},
		{name: "PATCH space", call: call{method: http.MethodPatch, path: spacePath(spaceLLMEvals), key: keyAdmin, body: `{}`},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: spaceAllow},
		{name: "DELETE space", call: call{method: http.MethodDelete, path: spacePath(spaceLLMEvals), key: keyAdmin},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: spaceAllow},
		{name: "trailing slash after spaces", call: call{method: http.MethodGet, path: "/v2/spaces/", key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "trailing slash after a space", call: call{method: http.MethodGet, path: spacePath(spaceLLMEvals) + "/", key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "below a space", call: call{method: http.MethodGet, path: spacePath(spaceLLMEvals) + "/roles", key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "v1", call: call{method: http.MethodGet, path: "/v1/spaces", key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
	})

	t.Run("the members of a space", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, nil)
		resp, body := s.do(t, list(keyAdmin, spaceLLMEvals, ""))
		decodePage(t, resp, body, spaceLLMEvals, membership.DefaultPageSize)
	})
}
