package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spaceauthz/spaceauthz/internal/golden"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The records of the demo fixture (fixture.Demo) that the tests use.
const (
	spaceLLMEvals   = "U3BhY2U6MQ==" // Research, public
	spaceRedTeam    = "U3BhY2U6Mg==" // Research, private
	spaceOtherEvals = "U3BhY2U6Mw==" // Other Research, in the other account
	spaceMissing    = "U3BhY2U6OTk=" // Space:99, nowhere

	userAda     = "VXNlcjox"     // account ADMIN
	userGrace   = "VXNlcjoy"     // organization ADMIN
	userLinus   = "VXNlcjoz"     // llm-evals ADMIN
	userBarbara = "VXNlcjo0"     // llm-evals MEMBER
	userAlan    = "VXNlcjo1"     // organization custom Binder
	userAnn     = "VXNlcjo2"     // account ANNOTATOR, organization ANNOTATOR
	userKen     = "VXNlcjo3"     // not in the organization
	userEve     = "VXNlcjo4"     // the other account's ADMIN
	userMissing = "VXNlcjo5OQ==" // User:99, nowhere

	roleBinder   = "Um9sZTox"     // ROLE_BINDING_CREATE
	roleReviewer = "Um9sZToy"     // PROJECT_READ
	roleMissing  = "Um9sZTo5OQ==" // Role:99, nowhere

	keyAdmin      = "demo-admin-key"
	keyOrgAdmin   = "demo-org-admin-key"
	keySpaceAdmin = "demo-space-admin-key"
	keyMember     = "demo-member-key"
	keyBinder     = "demo-binder-key"
	keyOther      = "demo-other-account-key"

	accountOne  = "QWNjb3VudDox" // Account:1
	orgResearch = "T3JnOjE="     // Research, the parent of llm-evals and red-team
)

// The records that unbinderFixture adds to the demo: the demo has nobody
// who holds ROLE_BINDING_DELETE without being a space admin.
const (
	userDora     = "VXNlcjoxMA==" // User:10, organization custom Unbinder
	roleUnbinder = "Um9sZToxMA==" // Role:10, ROLE_BINDING_DELETE
	keyUnbinder  = "test-unbinder-key"
)

// unbinderFixture is the demo fixture plus Dora, whose organization role is
// the custom role Unbinder, which holds ROLE_BINDING_DELETE and nothing
// else: she may remove members of the organization's spaces, but not a
// space ADMIN, and may add nobody.
func unbinderFixture() *fixture.Fixture {
	f := fixture.Demo()
	f.Roles = append(f.Roles, membership.CustomRole{ID: roleUnbinder, AccountID: accountOne, Name: "Unbinder",
		Permissions: []membership.Permission{membership.PermissionRoleBindingDelete}})
	f.Users = append(f.Users, membership.User{ID: userDora, AccountID: accountOne, Name: "Dora",
		Email: "dora@example.com", Role: membership.AccountMember})
	f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{OrganizationID: orgResearch,
		UserID: userDora, Role: membership.Custom(roleUnbinder)})
	f.APIKeys = append(f.APIKeys, fixture.APIKey{Key: keyUnbinder, UserID: userDora})
	return f
}

// sharedEngine compiles the default policy once for all tests; an Engine is
// safe for concurrent use.
var sharedEngine = sync.OnceValues(func() (*policy.Engine, error) { return policy.New() })

// testServer is the server's handler on a fresh store, over real HTTP.
type testServer struct {
	*httptest.Server
	fixture *fixture.Fixture
	store   seededStore
	logs    *syncBuffer
}

// startServer serves newHandler over HTTP on loopback, on a store of its own
// seeded from f (the demo fixture when f is nil).
func startServer(t testing.TB, f *fixture.Fixture) *testServer {
	t.Helper()
	if f == nil {
		f = fixture.Demo()
	}
	h, store, logs, _ := newTestHandler(t, f)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, fixture: f, store: store, logs: logs}
}

// newTestHandler returns the server's handler on a memory store of its own
// seeded from f, with the shared engine, logging JSON into logs through
// logger.
func newTestHandler(t testing.TB, f *fixture.Fixture) (h http.Handler, store seededStore, logs *syncBuffer, logger *slog.Logger) {
	t.Helper()
	engine, err := sharedEngine()
	if err != nil {
		t.Fatal(err)
	}
	logs = new(syncBuffer)
	logger = slog.New(slog.NewJSONHandler(logs, nil))
	h, store = newHandlerWithEngine(t, f, engine, logger)
	return h, store, logs, logger
}

// newHandlerWithEngine returns the server's handler on a memory store of
// its own seeded from f, deciding with engine and logging through logger.
func newHandlerWithEngine(t testing.TB, f *fixture.Fixture, engine *policy.Engine, logger *slog.Logger) (http.Handler, seededStore) {
	t.Helper()
	store, closeStore, err := openStore(context.Background(), "memory", seedAuto, f, slog.New(slog.DiscardHandler))
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
	return newHandler(svc, auth, logger, requestTimeout), store
}

// startHTTPServer serves h on loopback the way run does, through
// newHTTPServer (its timeouts and header limit) and serve, after configure,
// if not nil, has changed the http.Server. It returns the base URL; the
// server shuts down gracefully at cleanup.
func startHTTPServer(t testing.TB, h http.Handler, logger *slog.Logger, configure func(*http.Server)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(h, logger)
	if configure != nil {
		configure(srv)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, srv, ln, logger, 10*time.Second) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// loadFixture loads a fixture from testdata.
func loadTestFixture(t testing.TB, name string) *fixture.Fixture {
	t.Helper()
	f, err := fixture.Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// call is one HTTP request to the server.
type call struct {
	method string // POST when empty
	path   string // the escaped path; usersPath(spaceLLMEvals) when empty
	key    string // the bearer API key; no Authorization header when empty
	// header adds or, with an empty value, removes request headers.
	// Content-Type is application/json for a POST or a body, unless header
	// says otherwise.
	header map[string]string
	body   string
	// chunked sends the body without a Content-Length.
	chunked bool
}

// do sends c and returns the response, with its body read.
func (s *testServer) do(t testing.TB, c call) (*http.Response, []byte) {
	t.Helper()
	resp, b, err := s.try(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// try sends c and returns the response, with its body read, or why there
// is none. Unlike do, it may be called from any goroutine.
func (s *testServer) try(ctx context.Context, c call) (*http.Response, []byte, error) {
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.path == "" {
		c.path = usersPath(spaceLLMEvals)
	}
	var body io.Reader = strings.NewReader(c.body)
	if c.chunked {
		body = io.MultiReader(body) // hides the length
	}
	req, err := http.NewRequestWithContext(ctx, c.method, s.URL+c.path, body)
	if err != nil {
		return nil, nil, err
	}
	if c.method == http.MethodPost || c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	for k, v := range c.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	return resp, b, nil
}

// memberships returns every membership of every space of the fixture, read
// from the store directly, page by page.
func (s *testServer) memberships(t testing.TB) []membership.Membership {
	t.Helper()
	var all []membership.Membership
	for _, sp := range s.fixture.Spaces {
		all = append(all, storedMembers(t, s.store, sp.ID)...)
	}
	return all
}

// storedMembers returns the memberships of one space as the store holds
// them, in user id order, with no decision: what the tests compare the
// answers of the server with.
func storedMembers(t testing.TB, store membership.Store, space membership.ID) []membership.Membership {
	t.Helper()
	var (
		all   []membership.Membership
		after membership.ID
	)
	for {
		q := membership.Query{Operation: membership.OperationList, SpaceID: space, Page: &membership.PageQuery{After: after, Limit: 100}}
		_, page, err := store.Read(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Members...)
		if !page.More {
			return all
		}
		after = page.Members[len(page.Members)-1].UserID
	}
}

// sortMemberships orders memberships for comparison.
var sortMemberships = cmpopts.SortSlices(func(a, b membership.Membership) bool { return a.ID < b.ID })

// usersPath is the path of /v2/spaces/{space_id}/users for spaceID,
// escaped the way JavaScript's encodeURIComponent escapes it (the
// @arizeai/ax-client does): "=", "+" and "/" are percent-encoded.
func usersPath(spaceID string) string {
	return "/v2/spaces/" + escapeComponent(spaceID) + "/users"
}

// userPath is the path of /v2/spaces/{space_id}/users/{user_id}, escaped
// like usersPath.
func userPath(spaceID, userID string) string {
	return usersPath(spaceID) + "/" + escapeComponent(userID)
}

// escapeComponent percent-encodes every byte but the unreserved characters
// of RFC 3986 and those encodeURIComponent keeps.
func escapeComponent(s string) string {
	const keep = "-_.!~*'()"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

// predefinedBody and customBody are request bodies of the endpoint.
func predefinedBody(user, typ, name string) string {
	return `{"user_id":"` + user + `","role":{"type":"` + typ + `","name":"` + name + `"}}`
}

func customBody(user, typ, id string) string {
	return `{"user_id":"` + user + `","role":{"type":"` + typ + `","id":"` + id + `"}}`
}

// checkProblem checks that the response is an RFC 9457 problem document
// for the error class code with the response's status, holding exactly the
// five members, and compares the response with its golden file.
func checkProblem(t testing.TB, resp *http.Response, body []byte, wantStatus int, wantCode membership.Code) {
	t.Helper()
	if resp.StatusCode != wantStatus {
		t.Errorf("status = %d, want %d; body %s", resp.StatusCode, wantStatus, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != membership.ProblemContentType {
		t.Errorf("Content-Type = %q, want %q", ct, membership.ProblemContentType)
	}
	var p membership.Problem
	if err := json.Unmarshal(body, &p, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("the body is not a problem document: %v\n%s", err, body)
	}
	want := membership.Problem{
		Type:      membership.ProblemTypePrefix + string(wantCode),
		Title:     p.Title,
		Status:    resp.StatusCode,
		Detail:    p.Detail,
		ErrorCode: wantCode,
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("problem document (-want +got):\n%s", diff)
	}
	if p.Title == "" || p.Detail == "" {
		t.Errorf("problem document without title or detail: %s", body)
	}
	checkGolden(t, renderResponse(resp, body))
}

// renderResponse renders the status, the headers that matter to a client,
// and the body exactly as sent.
func renderResponse(resp *http.Response, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(resp.Status + "\n")
	for _, h := range []string{"Content-Type", "WWW-Authenticate", "Allow"} {
		for _, v := range resp.Header.Values(h) {
			b.WriteString(h + ": " + v + "\n")
		}
	}
	b.WriteString("\n")
	b.Write(body)
	return b.Bytes()
}

// checkGolden compares got with testdata/golden/<test name>.golden, or
// rewrites that file under -update.
func checkGolden(t testing.TB, got []byte) {
	t.Helper()
	name := strings.TrimPrefix(t.Name(), "Test")
	name = strings.NewReplacer("/", ".", " ", "_").Replace(name)
	golden.Check(t, "golden/"+name+".golden", got)
}

// syncBuffer is a bytes.Buffer that a logger and a test may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
