package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// auditLogs is the call of GET /v2/audit-logs?query with key.
func auditLogs(key, query string) call {
	p := auditRoute
	if query != "" {
		p += "?" + query
	}
	return call{method: http.MethodGet, path: p, key: key}
}

// wireAuditLog is an entry of the audit log as the response spells it.
type wireAuditLog struct {
	ID            string  `json:"id"`
	UserID        string  `json:"user_id"`
	IP            string  `json:"ip"`
	OperationType string  `json:"operation_type"`
	OperationName string  `json:"operation_name"`
	OperationText *string `json:"operation_text"`
	Variables     string  `json:"variables"`
	CreatedAt     string  `json:"created_at"`
}

// wireAuditPage is a page of the audit log as the response spells it.
type wireAuditPage struct {
	Logs       []wireAuditLog `json:"logs"`
	Pagination struct {
		NextCursor *string `json:"next_cursor"`
		HasMore    bool    `json:"has_more"`
	} `json:"pagination"`
}

// auditMembers are the members of every entry: each is always present,
// operation_text as null when the request had no body.
var auditMembers = []string{"created_at", "id", "ip", "operation_name", "operation_text", "operation_type", "user_id", "variables"}

// createdAt parses an entry's created_at, which must be an RFC 3339 time
// in UTC in the one spelling the server writes.
func createdAt(t testing.TB, e wireAuditLog) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, e.CreatedAt)
	if err != nil || !strings.HasSuffix(e.CreatedAt, "Z") || at.UTC().Format(time.RFC3339Nano) != e.CreatedAt {
		t.Fatalf("entry %s: created_at %q is not an RFC 3339 time in UTC", e.ID, e.CreatedAt)
	}
	return at
}

// decodeAuditPage checks a 200 answer of the audit log and decodes its
// page strictly: at most limit entries, newest first, each with every
// member, an ID and a MUTATION, and a next_cursor exactly when has_more is
// true.
func decodeAuditPage(t testing.TB, resp *http.Response, body []byte, limit int) wireAuditPage {
	t.Helper()
	p := decodeOK[wireAuditPage](t, resp, body, "a page of the audit log")
	if p.Logs == nil {
		t.Errorf("logs is not an array: %s", body)
	}
	if len(p.Logs) > limit {
		t.Errorf("%d entries on a page of at most %d", len(p.Logs), limit)
	}
	if p.Pagination.HasMore != (p.Pagination.NextCursor != nil) {
		t.Errorf("has_more %v with next_cursor %v: %s", p.Pagination.HasMore, p.Pagination.NextCursor, body)
	}
	if c := p.Pagination.NextCursor; c != nil && *c == "" {
		t.Errorf("an empty next_cursor: %s", body)
	}
	var raw struct {
		Logs []map[string]any `json:"logs"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, e := range raw.Logs {
		if diff := cmp.Diff(auditMembers, slices.Sorted(mapKeys(e))); diff != "" {
			t.Errorf("members of an entry (-want +got):\n%s", diff)
		}
	}
	for i, e := range p.Logs {
		if !membership.ID(e.ID).Valid() {
			t.Errorf("entry id %q is not an ID", e.ID)
		}
		if e.OperationType != membership.OperationTypeMutation {
			t.Errorf("entry %s: operation_type %q, want MUTATION", e.ID, e.OperationType)
		}
		if i > 0 && createdAt(t, e).After(createdAt(t, p.Logs[i-1])) {
			t.Errorf("entry %s (%s) after a newer one (%s): not newest first", e.ID, e.CreatedAt, p.Logs[i-1].CreatedAt)
		}
	}
	return p
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// readAuditLog returns the first page of the audit log that key reads
// with query, which must answer 200.
func readAuditLog(t testing.TB, s *testServer, key, query string) []wireAuditLog {
	t.Helper()
	resp, body := s.do(t, auditLogs(key, query))
	return decodeAuditPage(t, resp, body, membership.MaxPageSize).Logs
}

// walkAuditLogs reads the audit log with the filters, limit at a time (the
// default when 0), from the first page to the last, following next_cursor,
// and returns every entry in the order received. between, if not nil, runs
// after each page but the last.
func walkAuditLogs(t testing.TB, s *testServer, key string, filters url.Values, limit int, between func(page int)) []wireAuditLog {
	t.Helper()
	var (
		all    []wireAuditLog
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
		resp, body := s.do(t, auditLogs(key, q.Encode()))
		p := decodeAuditPage(t, resp, body, wantMax)
		all = append(all, p.Logs...)
		if !p.Pagination.HasMore {
			return all
		}
		if len(p.Logs) != wantMax {
			t.Errorf("page %d holds %d entries, not the %d asked for, and has more", page, len(p.Logs), wantMax)
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

// variables decodes an entry's variables, a JSON string of an object.
func variables(t testing.TB, e wireAuditLog) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(e.Variables), &v); err != nil {
		t.Fatalf("entry %s: variables %q is not a JSON object: %v", e.ID, e.Variables, err)
	}
	return v
}

// predefined is a role of the variables, as they spell it: upper case.
func predefined(name string) map[string]any {
	return map[string]any{"type": "PREDEFINED", "name": name}
}

// text is an operation_text that is present.
func text(s string) *string { return &s }

// checkEntry compares an entry with what it must hold, but for its id and
// time, which checkEntryTime and decodeAuditPage check.
func checkEntry(t testing.TB, got wireAuditLog, wantActor, wantName string, wantText *string, wantVars map[string]any) {
	t.Helper()
	want := wireAuditLog{ID: got.ID, UserID: wantActor, IP: "127.0.0.1", OperationType: membership.OperationTypeMutation,
		OperationName: wantName, OperationText: wantText, Variables: got.Variables, CreatedAt: got.CreatedAt}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantVars, variables(t, got)); diff != "" {
		t.Errorf("variables of %s (-want +got):\n%s", got.OperationName, diff)
	}
}

// checkEntryTime checks that an entry was made from before to after.
func checkEntryTime(t testing.TB, e wireAuditLog, before, after time.Time) {
	t.Helper()
	if at := createdAt(t, e); at.Before(before) || at.After(after) {
		t.Errorf("entry %s made at %s, not between %s and %s", e.ID, e.CreatedAt, before.Format(time.RFC3339Nano), after.Format(time.RFC3339Nano))
	}
}

// mustStatus sends c and checks the answer's status.
func mustStatus(t testing.TB, s *testServer, c call, want int) []byte {
	t.Helper()
	resp, body := s.do(t, c)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", c.method, c.path, resp.StatusCode, want, body)
	}
	return body
}

// auditServers are the stores the audit log is read back from over HTTP:
// the memory store and, with a test database, PostgreSQL.
var auditServers = []struct {
	name  string
	start func(t *testing.T, f *fixture.Fixture) *testServer
}{
	{"memory", func(t *testing.T, f *fixture.Fixture) *testServer { return startServer(t, f) }},
	{"PostgreSQL", startAuditPostgreSQLServer},
}

// startAuditPostgreSQLServer serves f (the demo when nil), like
// startServer, on a PostgreSQL store of its own schema; it skips t without
// a test database.
func startAuditPostgreSQLServer(t *testing.T, f *fixture.Fixture) *testServer {
	t.Helper()
	if f == nil {
		f = fixture.Demo()
	}
	dsn := pgtest.Schema(t, "server_audit")
	engine, err := sharedEngine()
	if err != nil {
		t.Fatal(err)
	}
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

// forEachAuditServer runs test on a fresh server of f (the demo when nil)
// of every store in auditServers.
func forEachAuditServer(t *testing.T, f func() *fixture.Fixture, test func(t *testing.T, s *testServer)) {
	t.Helper()
	for _, srv := range auditServers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			var fx *fixture.Fixture
			if f != nil {
				fx = f()
			}
			test(t, srv.start(t, fx))
		})
	}
}

// auditCursors returns cursors that a server issued for the audit log:
// one of the whole log, one of the log filtered by Ada's user_id.
func auditCursors(t *testing.T) (whole, byAda string) {
	t.Helper()
	s := startServer(t, nil)
	mustStatus(t, s, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")}, http.StatusOK)
	mustStatus(t, s, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "ADMIN")}, http.StatusOK)
	resp, body := s.do(t, auditLogs(keyAdmin, "limit=1"))
	p := decodeAuditPage(t, resp, body, 1)
	resp, body = s.do(t, auditLogs(keyAdmin, "limit=1&user_id="+url.QueryEscape(userAda)))
	q := decodeAuditPage(t, resp, body, 1)
	if p.Pagination.NextCursor == nil || q.Pagination.NextCursor == nil {
		t.Fatal("two changes by Ada, one entry a page: there must be a next page")
	}
	return url.QueryEscape(*p.Pagination.NextCursor), url.QueryEscape(*q.Pagination.NextCursor)
}

// TestAuditLogChecks walks the checks of a read of the audit log in their
// order, one group per check, over HTTP against the demo fixture.
func TestAuditLogChecks(t *testing.T) {
	t.Parallel()
	whole, byAda := auditCursors(t)
	var spaces string
	{
		s := startServer(t, nil)
		resp, body := s.do(t, listSpacesCall(keyAdmin, "limit=1"))
		p := decodeSpacePage(t, resp, body, 1)
		if p.Pagination.NextCursor == nil {
			t.Fatal("the demo's account has two spaces")
		}
		spaces = url.QueryEscape(*p.Pagination.NextCursor)
	}
	ada := "user_id=" + url.QueryEscape(userAda)
	rows := []checkRow{
		{"1_unauthenticated", []errorCase{
			{name: "no Authorization header", call: auditLogs("", ""),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
			{name: "unknown key", call: auditLogs("not-a-demo-key", ""),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
			{name: "before the query", call: auditLogs("", "user_id=User:1&limit=0&%zz"),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		}},
		{"2_invalid_id", []errorCase{
			{name: "user_id not an ID", call: auditLogs(keyAdmin, "user_id=User:1"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "user_id unpadded", call: auditLogs(keyAdmin, "user_id=VXNlcjoxMA"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "user_id too long", call: auditLogs(keyAdmin, "user_id="+strings.Repeat("QUFB", 129)),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "before the limit", call: auditLogs(keyAdmin, "limit=0&user_id=User:1"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "before the times", call: auditLogs(keyAdmin, "start_time=tomorrow&user_id=User:1"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "before an unknown parameter", call: auditLogs(keyAdmin, "page=2&user_id=User:1"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "before a malformed query", call: auditLogs(keyAdmin, "user_id=User:1&limit=%zz"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "before the authority", call: auditLogs(keyMember, "user_id=User:1"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
		}},
		{"3_invalid_field", []errorCase{
			{name: "start_time a date", call: auditLogs(keyAdmin, "start_time=2026-01-01"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "start_time without a zone", call: auditLogs(keyAdmin, "start_time=2026-01-01T00:00:00"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "end_time a word", call: auditLogs(keyAdmin, "end_time=now"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "end_time a Unix time", call: auditLogs(keyAdmin, "end_time=1767225600"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "start_time after end_time", call: auditLogs(keyAdmin, "start_time=2026-02-01T00:00:00Z&end_time=2026-01-01T00:00:00Z"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "start_time after end_time in other zones", call: auditLogs(keyAdmin,
				"start_time="+url.QueryEscape("2026-01-01T01:00:01+01:00")+"&end_time="+url.QueryEscape("2025-12-31T23:00:00-01:00")),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "start_time twice", call: auditLogs(keyAdmin, "start_time=2026-01-01T00:00:00Z&start_time=2026-01-01T00:00:00Z"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "end_time empty", call: auditLogs(keyAdmin, "end_time="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "operation_type lower case", call: auditLogs(keyAdmin, "operation_type=mutation"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "operation_type unknown", call: auditLogs(keyAdmin, "operation_type=WRITE"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "operation_type empty", call: auditLogs(keyAdmin, "operation_type="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "operation_type twice", call: auditLogs(keyAdmin, "operation_type=MUTATION&operation_type=QUERY"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit 0", call: auditLogs(keyAdmin, "limit=0"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit 101", call: auditLogs(keyAdmin, "limit=101"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit abc", call: auditLogs(keyAdmin, "limit=abc"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit empty", call: auditLogs(keyAdmin, "limit="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "limit twice", call: auditLogs(keyAdmin, "limit=1&limit=2"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "user_id empty", call: auditLogs(keyAdmin, "user_id="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "user_id twice", call: auditLogs(keyAdmin, ada+"&"+ada),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor empty", call: auditLogs(keyAdmin, "cursor="),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor twice", call: auditLogs(keyAdmin, "cursor="+whole+"&cursor="+whole),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor made up", call: auditLogs(keyAdmin, "cursor=bm90LWEtY3Vyc29y"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor of a list of spaces", call: auditLogs(keyAdmin, "cursor="+spaces),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor of the whole log with user_id", call: auditLogs(keyAdmin, ada+"&cursor="+whole),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor of a user_id without it", call: auditLogs(keyAdmin, "cursor="+byAda),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor of the whole log with operation_type", call: auditLogs(keyAdmin, "operation_type=MUTATION&cursor="+whole),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "cursor of the whole log with end_time", call: auditLogs(keyAdmin, "end_time=2099-01-01T00:00:00Z&cursor="+whole),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "unknown parameter", call: auditLogs(keyAdmin, "page=2"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "parameter name in another case", call: auditLogs(keyAdmin, "Limit=1"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "malformed escape", call: auditLogs(keyAdmin, "limit=%zz"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "malformed escape beside a valid user_id", call: auditLogs(keyAdmin, ada+"&operation_type=%zz"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "semicolon separator", call: auditLogs(keyAdmin, "limit=1;cursor=x"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "before the authority", call: auditLogs(keyMember, "limit=0"),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
		}},
		{"4_forbidden", []errorCase{
			{name: "organization admin", call: auditLogs(keyOrgAdmin, ""),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "space admin", call: auditLogs(keySpaceAdmin, ""),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "member", call: auditLogs(keyMember, ""),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "custom role", call: auditLogs(keyBinder, ""),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "with every filter", call: auditLogs(keyOrgAdmin, ada+"&operation_type=QUERY&limit=1&start_time=2026-01-01T00:00:00Z&end_time=2026-02-01T00:00:00Z"),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "with an admin's cursor", call: auditLogs(keyOrgAdmin, "cursor="+whole),
				wantStatus: 403, wantCode: membership.CodeForbidden},
		}},
	}
	runCheckRows(t, rows, runErrorCases)
}

// TestAuditLogRecordsAnAdd adds Grace to llm-evals, then changes her role:
// each add is an entry with the caller, the client's address, the body as
// sent and the change in variables, the newest first.
func TestAuditLogRecordsAnAdd(t *testing.T) {
	t.Parallel()
	// Lower-case enums, members in another order and odd spacing: the
	// entry keeps the body as it came, and the variables in upper case.
	first := "{ \"role\": {\"type\": \"predefined\", \"name\": \"member\"},\n  \"user_id\": \"" + userGrace + "\" }"
	second := predefinedBody(userGrace, "PREDEFINED", "ADMIN")
	forEachAuditServer(t, nil, func(t *testing.T, s *testServer) {
		// A store may keep microseconds only, cutting the time down.
		before := time.Now().Truncate(time.Microsecond)
		mustStatus(t, s, call{key: keyAdmin, body: first}, http.StatusOK)
		mustStatus(t, s, call{key: keyAdmin, body: second}, http.StatusOK)
		after := time.Now()
		logs := readAuditLog(t, s, keyAdmin, "")
		if len(logs) != 2 {
			t.Fatalf("%d entries, want 2: %+v", len(logs), logs)
		}
		checkEntry(t, logs[0], userAda, "add_space_user", text(second), map[string]any{
			"space_id": spaceLLMEvals, "user_id": userGrace, "role": predefined("ADMIN"), "previous_role": predefined("MEMBER")})
		checkEntry(t, logs[1], userAda, "add_space_user", text(first), map[string]any{
			"space_id": spaceLLMEvals, "user_id": userGrace, "role": predefined("MEMBER"), "previous_role": nil})
		for _, e := range logs {
			checkEntryTime(t, e, before, after)
		}
		if logs[0].ID == logs[1].ID {
			t.Errorf("two entries with the id %s", logs[0].ID)
		}
	})
}

// TestAuditLogRecordsACustomRole adds Grace with a custom role: the
// variables name it by id.
func TestAuditLogRecordsACustomRole(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	body := customBody(userGrace, "CUSTOM", roleBinder)
	mustStatus(t, s, call{key: keyAdmin, body: body}, http.StatusOK)
	logs := readAuditLog(t, s, keyAdmin, "")
	if len(logs) != 1 {
		t.Fatalf("%d entries, want 1", len(logs))
	}
	checkEntry(t, logs[0], userAda, "add_space_user", text(body), map[string]any{
		"space_id": spaceLLMEvals, "user_id": userGrace, "role": map[string]any{"type": "CUSTOM", "id": roleBinder}, "previous_role": nil})
}

// TestAuditLogRecordsARemove removes Barbara from llm-evals: an entry
// without operation_text, whose variables hold the role she had.
func TestAuditLogRecordsARemove(t *testing.T) {
	t.Parallel()
	forEachAuditServer(t, nil, func(t *testing.T, s *testServer) {
		mustStatus(t, s, remove(keySpaceAdmin, spaceLLMEvals, userBarbara), http.StatusNoContent)
		logs := readAuditLog(t, s, keyAdmin, "")
		if len(logs) != 1 {
			t.Fatalf("%d entries, want 1", len(logs))
		}
		checkEntry(t, logs[0], userLinus, "remove_space_user", nil, map[string]any{
			"space_id": spaceLLMEvals, "user_id": userBarbara, "role": nil, "previous_role": predefined("MEMBER")})
	})
}

// TestAuditLogRecordsTheOrganization adds Ken to Research, then removes
// Barbara from it: the removal is one entry that names each space
// membership its cascade removed, and none of another organization.
func TestAuditLogRecordsTheOrganization(t *testing.T) {
	t.Parallel()
	add := predefinedBody(userKen, "PREDEFINED", "READ_ONLY")
	forEachAuditServer(t, labFixture, func(t *testing.T, s *testServer) {
		ids := make(map[string]string) // Barbara's membership id by space
		for _, m := range s.memberships(t) {
			if m.UserID == userBarbara {
				ids[string(m.SpaceID)] = string(m.ID)
			}
		}
		mustStatus(t, s, orgAdd(keyOrgAdmin, orgResearch, add), http.StatusOK)
		mustStatus(t, s, orgRemove(keyAdmin, orgResearch, userBarbara), http.StatusNoContent)
		logs := readAuditLog(t, s, keyAdmin, "")
		if len(logs) != 2 {
			t.Fatalf("%d entries, want 2", len(logs))
		}
		checkEntry(t, logs[0], userAda, "remove_organization_user", nil, map[string]any{
			"organization_id": orgResearch, "user_id": userBarbara, "role": nil, "previous_role": predefined("MEMBER"),
			// In space id order: U3BhY2U6MQ== (llm-evals) before U3BhY2U6Mg== (red-team).
			"removed_space_memberships": []any{
				map[string]any{"id": ids[spaceLLMEvals], "space_id": spaceLLMEvals, "role": predefined("MEMBER")},
				map[string]any{"id": ids[spaceRedTeam], "space_id": spaceRedTeam, "role": predefined("READ_ONLY")},
			}})
		checkEntry(t, logs[1], userGrace, "add_organization_user", text(add), map[string]any{
			"organization_id": orgResearch, "user_id": userKen, "role": predefined("READ_ONLY"), "previous_role": nil})
		if ids[spaceLab] == "" {
			t.Error("Barbara is in no space of Lab")
		}
	})
}

// TestAuditLogRecordsAnEmptyCascade removes from Research a user who is
// in none of its spaces: removed_space_memberships is an empty list.
func TestAuditLogRecordsAnEmptyCascade(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	mustStatus(t, s, orgRemove(keyAdmin, orgResearch, userAlan), http.StatusNoContent)
	logs := readAuditLog(t, s, keyAdmin, "")
	if len(logs) != 1 {
		t.Fatalf("%d entries, want 1", len(logs))
	}
	checkEntry(t, logs[0], userAda, "remove_organization_user", nil, map[string]any{
		"organization_id": orgResearch, "user_id": userAlan, "role": nil,
		"previous_role": map[string]any{"type": "CUSTOM", "id": roleBinder}, "removed_space_memberships": []any{}})
}

// TestAuditLogKeepsTheClientAddress checks that the entry's ip is the
// peer of the connection, whatever forwarding headers the client sends.
func TestAuditLogKeepsTheClientAddress(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER"),
		header: map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9", "Forwarded": "for=203.0.113.9"}}
	mustStatus(t, s, c, http.StatusOK)
	logs := readAuditLog(t, s, keyAdmin, "")
	if len(logs) != 1 || logs[0].IP != "127.0.0.1" {
		t.Errorf("entries %+v, want one from 127.0.0.1", logs)
	}
}

// TestRequestOrigin checks what the transport hands the library of a
// request: the host part of the peer's address, empty when the address is
// none, and the body as read.
func TestRequestOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		remote, body string
		want         membership.Origin
	}{
		{"192.0.2.1:1234", `{"a":1}`, membership.Origin{IP: "192.0.2.1", Body: `{"a":1}`}},
		{"[2001:db8::1]:443", "", membership.Origin{IP: "2001:db8::1"}},
		{"[fe80::1%eth0]:80", "", membership.Origin{IP: "fe80::1%eth0"}},
		{"@", "x", membership.Origin{Body: "x"}},
		{"", "", membership.Origin{}},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = tc.remote
		r.Header.Set("X-Forwarded-For", "203.0.113.9")
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		if got := requestOrigin(r, body); got != tc.want {
			t.Errorf("RemoteAddr %q: origin %+v, want %+v", tc.remote, got, tc.want)
		}
	}
}

// TestAuditLogWritesNoEntryWithoutAChange sends requests that change no
// membership, allowed or not: none writes an entry.
func TestAuditLogWritesNoEntryWithoutAChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call call
		want int
	}{
		{"the role the user has", call{key: keyAdmin, body: predefinedBody(userBarbara, "PREDEFINED", "MEMBER")}, 200},
		{"the role the user has, in the other spelling", call{key: keyAdmin, body: predefinedBody(userBarbara, "predefined", "member")}, 200},
		{"the organization role the user has", orgAdd(keyAdmin, orgResearch, predefinedBody(userBarbara, "PREDEFINED", "MEMBER")), 200},
		{"a denied add", call{key: keyMember, body: predefinedBody(userGrace, "PREDEFINED", "ADMIN")}, 403},
		{"a denied remove", remove(keyMember, spaceLLMEvals, userLinus), 403},
		{"a denied organization remove", orgRemove(keyMember, orgResearch, userBarbara), 403},
		{"an add refused by a rule", call{key: keyAdmin, body: predefinedBody(userKen, "PREDEFINED", "MEMBER")}, 400},
		{"an invalid add", call{key: keyAdmin, body: `{"user_id":"` + userGrace + `"}`}, 422},
		{"an unauthenticated add", call{body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")}, 401},
		{"a remove of no membership", remove(keyAdmin, spaceLLMEvals, userGrace), 404},
		{"an organization remove of no membership", orgRemove(keyAdmin, orgResearch, userKen), 404},
		{"a read", listSpacesCall(keyAdmin, ""), 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, nil)
			mustStatus(t, s, tc.call, tc.want)
			if logs := readAuditLog(t, s, keyAdmin, ""); len(logs) != 0 {
				t.Errorf("entries %+v, want none", logs)
			}
		})
	}
}

// TestAuditLogOperationType reads the log by operation type: every entry
// is a MUTATION, so QUERY and SUBSCRIPTION read none.
func TestAuditLogOperationType(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	mustStatus(t, s, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")}, http.StatusOK)
	all := readAuditLog(t, s, keyAdmin, "")
	if len(all) != 1 {
		t.Fatalf("%d entries, want 1", len(all))
	}
	for typ, want := range map[string][]wireAuditLog{"MUTATION": all, "QUERY": {}, "SUBSCRIPTION": {}} {
		resp, body := s.do(t, auditLogs(keyAdmin, "operation_type="+typ))
		p := decodeAuditPage(t, resp, body, membership.DefaultPageSize)
		if diff := cmp.Diff(want, p.Logs); diff != "" {
			t.Errorf("operation_type=%s (-want +got):\n%s", typ, diff)
		}
		if p.Pagination.HasMore {
			t.Errorf("operation_type=%s has more", typ)
		}
	}
	resp, body := s.do(t, auditLogs(keyAdmin, "operation_type=QUERY"))
	if got, want := string(bytes.TrimSpace(body)), `{"logs":[],"pagination":{"has_more":false}}`; got != want {
		t.Errorf("operation_type=QUERY: body %s, want %s", got, want)
	}
	checkGolden(t, renderResponse(resp, body))
}

// TestAuditLogUserFilter reads the log by the user who made the change.
func TestAuditLogUserFilter(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	mustStatus(t, s, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")}, http.StatusOK)
	mustStatus(t, s, call{key: keyOrgAdmin, body: predefinedBody(userAlan, "PREDEFINED", "READ_ONLY")}, http.StatusOK)
	mustStatus(t, s, remove(keyAdmin, spaceLLMEvals, userGrace), http.StatusNoContent)
	all := readAuditLog(t, s, keyAdmin, "")
	if len(all) != 3 {
		t.Fatalf("%d entries, want 3", len(all))
	}
	for user, want := range map[string][]wireAuditLog{
		userAda:     {all[0], all[2]},
		userGrace:   {all[1]},
		userBarbara: {},
		userMissing: {},
	} {
		if diff := cmp.Diff(want, readAuditLog(t, s, keyAdmin, "user_id="+url.QueryEscape(user))); diff != "" {
			t.Errorf("user_id=%s (-want +got):\n%s", user, diff)
		}
		if diff := cmp.Diff(want, walkAuditLogs(t, s, keyAdmin, url.Values{"user_id": {user}}, 1, nil), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("user_id=%s, a page at a time (-want +got):\n%s", user, diff)
		}
	}
}

// TestAuditLogTimeWindow reads the log between times: both bounds are
// inclusive, and without start_time the window is 30 days to end_time.
func TestAuditLogTimeWindow(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	mustStatus(t, s, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")}, http.StatusOK)
	mustStatus(t, s, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "ADMIN")}, http.StatusOK)
	all := readAuditLog(t, s, keyAdmin, "")
	if len(all) != 2 {
		t.Fatalf("%d entries, want 2", len(all))
	}
	newer, older := createdAt(t, all[0]), createdAt(t, all[1])
	if !newer.After(older) {
		// The bounds below tell the entries apart by a nanosecond; two
		// requests over HTTP are microseconds apart.
		t.Fatalf("both entries carry the time %s: the clock did not move between two changes", all[0].CreatedAt)
	}
	at := func(tm time.Time) string { return url.QueryEscape(tm.Format(time.RFC3339Nano)) }
	ns := time.Nanosecond
	tests := []struct {
		name, query string
		want        []wireAuditLog
	}{
		{"from the older entry", "start_time=" + at(older), all},
		{"from just after the older entry", "start_time=" + at(older.Add(ns)), all[:1]},
		{"from the newer entry", "start_time=" + at(newer), all[:1]},
		{"from just after the newer entry", "start_time=" + at(newer.Add(ns)), []wireAuditLog{}},
		{"to the older entry", "end_time=" + at(older), all[1:]},
		{"to just before the older entry", "end_time=" + at(older.Add(-ns)), []wireAuditLog{}},
		{"to the newer entry", "end_time=" + at(newer), all},
		{"exactly the newer entry", "start_time=" + at(newer) + "&end_time=" + at(newer), all[:1]},
		{"exactly the older entry", "start_time=" + at(older) + "&end_time=" + at(older), all[1:]},
		{"in another zone", "start_time=" + at(newer.In(time.FixedZone("", -5*3600))), all[:1]},
		{"30 days after the older entry", "end_time=" + at(older.Add(membership.DefaultAuditWindow)), all},
		{"30 days after the newer entry", "end_time=" + at(newer.Add(membership.DefaultAuditWindow)), all[:1]},
		{"beyond 30 days after the newer entry", "end_time=" + at(newer.Add(membership.DefaultAuditWindow+ns)), []wireAuditLog{}},
		{"a window long before", "start_time=2020-01-01T00:00:00Z&end_time=2020-01-02T00:00:00Z", []wireAuditLog{}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, readAuditLog(t, s, keyAdmin, tc.query)); diff != "" {
			t.Errorf("%s (%s) (-want +got):\n%s", tc.name, tc.query, diff)
		}
	}
}

// TestAuditLogAccounts keeps accounts apart: an account ADMIN reads the
// entries of their own account, never another's.
func TestAuditLogAccounts(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	mustStatus(t, s, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")}, http.StatusOK)
	if logs := readAuditLog(t, s, keyOther, ""); len(logs) != 0 {
		t.Errorf("the other account's admin reads %+v", logs)
	}
	if logs := readAuditLog(t, s, keyOther, "user_id="+url.QueryEscape(userAda)); len(logs) != 0 {
		t.Errorf("the other account's admin reads Ada's entries %+v", logs)
	}
	eve := predefinedBody(userEve, "PREDEFINED", "MEMBER")
	mustStatus(t, s, call{key: keyOther, path: usersPath(spaceOtherEvals), body: eve}, http.StatusOK)
	other := readAuditLog(t, s, keyOther, "")
	if len(other) != 1 {
		t.Fatalf("the other account's admin reads %d entries, want her own 1", len(other))
	}
	checkEntry(t, other[0], userEve, "add_space_user", text(eve), map[string]any{
		"space_id": spaceOtherEvals, "user_id": userEve, "role": predefined("MEMBER"), "previous_role": nil})
	ours := readAuditLog(t, s, keyAdmin, "")
	if len(ours) != 1 || ours[0].UserID != userAda {
		t.Errorf("Ada reads %+v, want her one entry", ours)
	}
}

// auditChanges makes n changes through HTTP, each one an entry: Grace's
// role in llm-evals, turned each time to one she does not hold.
func auditChanges(t testing.TB, s *testServer, n int) {
	t.Helper()
	for range n {
		role := "MEMBER"
		for _, m := range storedMembers(t, s.store, spaceLLMEvals) {
			if m.UserID == userGrace && m.Role == membership.Predefined(membership.RoleMember) {
				role = "READ_ONLY"
			}
		}
		mustStatus(t, s, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", role)}, http.StatusOK)
	}
}

// TestAuditLogPages walks the log a page at a time: every entry once,
// newest first, the same as one page of it, at every page size.
func TestAuditLogPages(t *testing.T) {
	t.Parallel()
	forEachAuditServer(t, nil, func(t *testing.T, s *testServer) {
		auditChanges(t, s, 7)
		all := readAuditLog(t, s, keyAdmin, "")
		if len(all) != 7 {
			t.Fatalf("%d entries, want 7", len(all))
		}
		for _, limit := range []int{1, 2, 3, 7, 0} {
			if diff := cmp.Diff(all, walkAuditLogs(t, s, keyAdmin, nil, limit, nil)); diff != "" {
				t.Errorf("limit %d (-one page +walked):\n%s", limit, diff)
			}
		}
	})
}

// TestAuditLogPagesDuringChanges walks the log while changes commit
// between its pages: the walk shows the entries of its window, fixed by
// its first page, each exactly once, and none of the newer ones.
func TestAuditLogPagesDuringChanges(t *testing.T) {
	t.Parallel()
	forEachAuditServer(t, nil, func(t *testing.T, s *testServer) {
		auditChanges(t, s, 5)
		all := readAuditLog(t, s, keyAdmin, "")
		got := walkAuditLogs(t, s, keyAdmin, nil, 2, func(int) { auditChanges(t, s, 2) })
		if diff := cmp.Diff(all, got); diff != "" {
			t.Errorf("walked during changes (-before the walk +walked):\n%s", diff)
		}
		if n := len(readAuditLog(t, s, keyAdmin, "")); n != 5+2*2 {
			t.Errorf("%d entries after the walk, want 9", n)
		}
	})
}

// TestAuditLogPage checks a first page of the log against its golden
// file, once the id and the time that change from run to run are fixed,
// and that HEAD answers it without a body.
func TestAuditLogPage(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	mustStatus(t, s, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")}, http.StatusOK)
	resp, body := s.do(t, auditLogs(keyAdmin, ""))
	logs := decodeAuditPage(t, resp, body, membership.DefaultPageSize).Logs
	if len(logs) != 1 {
		t.Fatalf("%d entries, want 1", len(logs))
	}
	stable := strings.NewReplacer(`"id":"`+logs[0].ID+`"`, `"id":"<id>"`, `"created_at":"`+logs[0].CreatedAt+`"`, `"created_at":"<time>"`)
	checkGolden(t, []byte(stable.Replace(string(renderResponse(resp, body)))))

	resp, body = s.do(t, call{method: http.MethodHead, path: auditRoute, key: keyAdmin})
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD: status %d, Content-Type %q, body %q; want 200, JSON and no body", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// TestAuditLogRoute checks the methods and paths around the audit log:
// 405 with its Allow header, before authentication, and 404 for every
// other spelling of the path.
func TestAuditLogRoute(t *testing.T) {
	t.Parallel()
	runErrorCases(t, []errorCase{
		{name: "POST", call: call{path: auditRoute, key: keyAdmin, body: `{}`},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: auditAllow},
		{name: "DELETE", call: call{method: http.MethodDelete, path: auditRoute},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: auditAllow},
		{name: "PUT", call: call{method: http.MethodPut, path: auditRoute, key: keyAdmin, body: `{}`},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: auditAllow},
		{name: "trailing slash", call: call{method: http.MethodGet, path: auditRoute + "/", key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "below the log", call: call{method: http.MethodGet, path: auditRoute + "/QXVkaXQ6MQ==", key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "singular", call: call{method: http.MethodGet, path: "/v2/audit-log", key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "v1", call: call{method: http.MethodGet, path: "/v1/audit-logs", key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
	})
}
