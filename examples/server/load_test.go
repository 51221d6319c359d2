package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/spaceauthz/spaceauthz/internal/auditreplay"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// The shape of the load run of TestLoadAndFaults.
const (
	loadClients   = 32  // concurrent clients
	loadPerClient = 300 // requests each client sends: 9,600 in all
	loadTargets   = 4   // users each client adds and removes, and no other client touches
	loadSeed      = 20261130

	// The read timeouts of the server under load. A slow client stalls
	// until they pass, so they bound how long its request takes; they are
	// long enough that no well-behaved request on a busy 2-core machine
	// under -race comes near them.
	loadReadHeaderTimeout = time.Second
	loadReadTimeout       = time.Second
)

// statusClosed stands, in the tallies, for a connection the server closed
// without an answer: what a client that stalls inside its headers gets.
const statusClosed = 0

// loadOutcome is what one request got, or was expected to get: a status
// and, for a problem document, its error_code.
type loadOutcome struct {
	status int
	code   membership.Code
}

func (o loadOutcome) String() string {
	if o.status == statusClosed {
		return "closed"
	}
	if o.code == "" {
		return fmt.Sprint(o.status)
	}
	return fmt.Sprintf("%d %s", o.status, o.code)
}

// loadMember is a target's membership of llm-evals as a client's answers
// leave it.
type loadMember struct{ id, role string }

// loadClient is one client of the run, with its own targets and what its
// answers say about them.
type loadClient struct {
	rng     *rand.Rand
	ctx     context.Context
	addr    string // host:port
	http    *http.Client
	targets []string
	members map[string]loadMember // by target; absent when not a member
	cursor  string                // the next_cursor of its last page, if any
}

// loadKind is one kind of request of the mix: send sends one and returns
// what it got and what it should have got.
type loadKind struct {
	name   string
	weight int
	send   func(cl *loadClient) (got, want loadOutcome, err error)
}

// loadKinds is the mix of requests: the valid adds, removes and lists whose
// effects the run checks, and hostile or mistaken requests, each of which
// must get its own client error and change nothing. A slow client (one
// that stalls inside its body or its headers) is rare, since each stalls
// for a read timeout.
var loadKinds = []loadKind{
	{"add", 48, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		target := cl.target()
		role := []string{"MEMBER", "READ_ONLY", "ADMIN"}[cl.rng.IntN(3)]
		got, body, err := cl.do(http.MethodPost, usersPath(spaceLLMEvals), keyAdmin, "application/json", predefinedBody(target, "PREDEFINED", role))
		if err != nil || got.status != http.StatusOK {
			return got, loadOutcome{status: 200}, err
		}
		var m wireMembership
		if err := json.Unmarshal(body, &m, json.RejectUnknownMembers(true)); err != nil {
			return got, loadOutcome{status: 200}, fmt.Errorf("not a membership: %v: %s", err, body)
		}
		if m.UserID != target || m.SpaceID != spaceLLMEvals || m.Role["name"] != role || !membership.ID(m.ID).Valid() {
			return got, loadOutcome{status: 200}, fmt.Errorf("an add of %s as %s answered %s", target, role, body)
		}
		if old, ok := cl.members[target]; ok && old.id != m.ID {
			return got, loadOutcome{status: 200}, fmt.Errorf("an upsert changed the membership id from %s to %s", old.id, m.ID)
		}
		cl.members[target] = loadMember{id: m.ID, role: role}
		return got, loadOutcome{status: 200}, nil
	}},
	{"remove", 28, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		target := cl.target()
		want := loadOutcome{status: 404, code: membership.CodeMembershipNotFound}
		if _, ok := cl.members[target]; ok {
			want = loadOutcome{status: 204}
		}
		got, _, err := cl.do(http.MethodDelete, userPath(spaceLLMEvals, target), keyAdmin, "", "")
		if got.status == http.StatusNoContent {
			delete(cl.members, target)
		}
		return got, want, err
	}},
	{"list", 28, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		limit := 1 + cl.rng.IntN(membership.MaxPageSize)
		query := fmt.Sprintf("?limit=%d", limit)
		// The coin is tossed whether or not there is a cursor, so that
		// the sequence of requests does not depend on what other clients
		// did to the pages.
		if walkOn := cl.rng.IntN(2) == 0; walkOn && cl.cursor != "" {
			query += "&cursor=" + cl.cursor
		}
		want := loadOutcome{status: 200}
		got, body, err := cl.do(http.MethodGet, usersPath(spaceLLMEvals)+query, keyAdmin, "", "")
		if err != nil || got.status != http.StatusOK {
			return got, want, err
		}
		var p wirePage
		if err := json.Unmarshal(body, &p, json.RejectUnknownMembers(true)); err != nil {
			return got, want, fmt.Errorf("not a page: %v: %s", err, body)
		}
		if len(p.Members) > limit || p.Pagination.HasMore != (p.Pagination.NextCursor != nil) {
			return got, want, fmt.Errorf("a page of limit %d: %s", limit, body)
		}
		for i, m := range p.Members {
			if m.SpaceID != spaceLLMEvals || i > 0 && p.Members[i-1].UserID >= m.UserID {
				return got, want, fmt.Errorf("a page out of order or of another space: %s", body)
			}
		}
		cl.cursor = ""
		if c := p.Pagination.NextCursor; c != nil {
			cl.cursor = *c
		}
		return got, want, nil
	}},
	{"add by a plain member", 6, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodPost, usersPath(spaceLLMEvals), keyMember, "application/json", predefinedBody(cl.target(), "PREDEFINED", "ADMIN"))
		return got, loadOutcome{403, membership.CodeForbidden}, err
	}},
	{"list by another account", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodGet, usersPath(spaceLLMEvals), keyOther, "", "")
		return got, loadOutcome{404, membership.CodeSpaceNotFound}, err
	}},
	{"annotator role for a member", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodPost, usersPath(spaceLLMEvals), keyAdmin, "application/json", predefinedBody(cl.target(), "PREDEFINED", "ANNOTATOR"))
		return got, loadOutcome{400, membership.CodeAnnotatorRoleNotAllowed}, err
	}},
	{"oversized body", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodPost, usersPath(spaceLLMEvals), keyAdmin, "application/json", cl.oversized())
		return got, loadOutcome{413, codeBodyTooLarge}, err
	}},
	{"oversized chunked body", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.doBody(http.MethodPost, usersPath(spaceLLMEvals), keyAdmin, "application/json", io.MultiReader(strings.NewReader(cl.oversized())))
		return got, loadOutcome{413, codeBodyTooLarge}, err
	}},
	{"malformed JSON", 8, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodPost, usersPath(spaceLLMEvals), keyAdmin, "application/json", `{"user_id": "`+cl.target()+`", "role": `)
		return got, loadOutcome{400, membership.CodeInvalidJSON}, err
	}},
	{"unknown body member", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		body := `{"user_id":"` + cl.target() + `","role":{"type":"PREDEFINED","name":"MEMBER"},"note":"hi"}`
		got, _, err := cl.do(http.MethodPost, usersPath(spaceLLMEvals), keyAdmin, "application/json", body)
		return got, loadOutcome{422, membership.CodeInvalidField}, err
	}},
	{"wrong content type", 6, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodPost, usersPath(spaceLLMEvals), keyAdmin, "text/plain", predefinedBody(cl.target(), "PREDEFINED", "MEMBER"))
		return got, loadOutcome{415, codeUnsupportedMediaType}, err
	}},
	{"no content type", 2, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodPost, usersPath(spaceLLMEvals), keyAdmin, "", predefinedBody(cl.target(), "PREDEFINED", "MEMBER"))
		return got, loadOutcome{415, codeUnsupportedMediaType}, err
	}},
	{"unknown API key", 6, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodPost, usersPath(spaceLLMEvals), "not-a-demo-key", "application/json", predefinedBody(cl.target(), "PREDEFINED", "MEMBER"))
		return got, loadOutcome{401, membership.CodeUnauthenticated}, err
	}},
	{"no API key", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodDelete, userPath(spaceLLMEvals, cl.target()), "", "", "")
		return got, loadOutcome{401, membership.CodeUnauthenticated}, err
	}},
	{"unknown route", 6, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodGet, "/v2/spaces/"+escapeComponent(spaceLLMEvals)+"/members", keyAdmin, "", "")
		return got, loadOutcome{404, codeRouteNotFound}, err
	}},
	{"wrong method", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodPut, usersPath(spaceLLMEvals), keyAdmin, "application/json", predefinedBody(cl.target(), "PREDEFINED", "MEMBER"))
		return got, loadOutcome{405, codeMethodNotAllowed}, err
	}},
	{"bad space id", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodPost, usersPath("Space:1"), keyAdmin, "application/json", predefinedBody(cl.target(), "PREDEFINED", "MEMBER"))
		return got, loadOutcome{400, membership.CodeInvalidID}, err
	}},
	{"bad user id", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodDelete, userPath(spaceLLMEvals, "User:1"), keyAdmin, "", "")
		return got, loadOutcome{400, membership.CodeInvalidID}, err
	}},
	{"bad limit", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodGet, usersPath(spaceLLMEvals)+"?limit=0", keyAdmin, "", "")
		return got, loadOutcome{422, membership.CodeInvalidField}, err
	}},
	{"made-up cursor", 4, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		got, _, err := cl.do(http.MethodGet, usersPath(spaceLLMEvals)+"?cursor=bTE6eDp5", keyAdmin, "", "")
		return got, loadOutcome{422, membership.CodeInvalidField}, err
	}},
	{"stalled body", 1, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		// Half of an add that would succeed, then nothing: the server's
		// read timeout passes while it reads the body, and it answers
		// 408 (a client error: the client is at fault) without writing.
		body := predefinedBody(cl.target(), "PREDEFINED", "ADMIN")
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			usersPath(spaceLLMEvals), cl.addr, keyAdmin, len(body))
		got, err := cl.raw(head + body[:len(body)/2])
		return got, loadOutcome{408, codeRequestTimeout}, err
	}},
	{"stalled headers", 1, func(cl *loadClient) (loadOutcome, loadOutcome, error) {
		// Some header lines, then nothing: net/http closes the
		// connection after its read header timeout, without an answer;
		// no handler runs. (A stall inside a line is answered by
		// net/http with its own plain-text 400 instead: it parses the
		// partial line it has at the timeout.)
		got, err := cl.raw(fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\n", usersPath(spaceLLMEvals), cl.addr))
		return got, loadOutcome{status: statusClosed}, err
	}},
}

// target picks one of the client's own users.
func (cl *loadClient) target() string { return cl.targets[cl.rng.IntN(len(cl.targets))] }

// oversized is a valid add of one of the client's users padded past the
// body limit: were the limit not enforced, it would change the state.
func (cl *loadClient) oversized() string {
	b := predefinedBody(cl.target(), "PREDEFINED", "ADMIN")
	return b + strings.Repeat(" ", maxBodyBytes+1+cl.rng.IntN(8<<10)-len(b))
}

// do sends one request through the client's pool, with the body and the
// Content-Type, if not empty, and the key as a bearer API key, if not
// empty.
func (cl *loadClient) do(method, path, key, contentType, body string) (loadOutcome, []byte, error) {
	return cl.doBody(method, path, key, contentType, strings.NewReader(body))
}

// doBody is do with any body reader: one that is not a *strings.Reader
// goes chunked, without a Content-Length.
func (cl *loadClient) doBody(method, path, key, contentType string, body io.Reader) (loadOutcome, []byte, error) {
	req, err := http.NewRequestWithContext(cl.ctx, method, "http://"+cl.addr+path, body)
	if err != nil {
		return loadOutcome{}, nil, err
	}
	if r, ok := body.(*strings.Reader); ok && r.Len() == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	var conn httptrace.GotConnInfo
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { conn = info },
	}))
	sent := time.Now()
	resp, err := cl.http.Do(req)
	if err != nil {
		return loadOutcome{}, nil, fmt.Errorf("%w (after %v, connection reused %v, idle for %v)", err, time.Since(sent), conn.Reused, conn.IdleTime)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return loadOutcome{}, nil, err
	}
	got, err := outcomeOf(resp, raw)
	return got, raw, err
}

// raw sends a partial request on a connection of its own, stalls, and reads
// what the server answers, if anything, before it closes the connection.
func (cl *loadClient) raw(partial string) (loadOutcome, error) {
	var d net.Dialer
	conn, err := d.DialContext(cl.ctx, "tcp", cl.addr)
	if err != nil {
		return loadOutcome{}, err
	}
	defer conn.Close()
	// A bound on the stall, far past the server's timeouts, in case the
	// server never gives up on the client.
	if err := conn.SetDeadline(time.Now().Add(10 * loadReadTimeout)); err != nil {
		return loadOutcome{}, err
	}
	if _, err := io.WriteString(conn, partial); err != nil {
		return loadOutcome{}, err
	}
	br := bufio.NewReader(conn)
	if _, err := br.Peek(1); errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
		return loadOutcome{status: statusClosed}, nil
	} else if err != nil {
		return loadOutcome{}, fmt.Errorf("waiting for the server: %w", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return loadOutcome{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return loadOutcome{}, err
	}
	return outcomeOf(resp, raw)
}

// isReset reports whether err is a connection reset, which a closed
// connection may give instead of EOF.
func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "connection reset")
}

// outcomeOf returns the status of a response and, for an error, the
// error_code of its problem document, which it must be.
func outcomeOf(resp *http.Response, raw []byte) (loadOutcome, error) {
	got := loadOutcome{status: resp.StatusCode}
	if resp.StatusCode < 400 {
		return got, nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != membership.ProblemContentType {
		return got, fmt.Errorf("status %d with Content-Type %q: %.200s", resp.StatusCode, ct, raw)
	}
	var p membership.Problem
	if err := json.Unmarshal(raw, &p, json.RejectUnknownMembers(true)); err != nil || p.Status != resp.StatusCode {
		return got, fmt.Errorf("status %d with a body that is not its problem document (%v): %.200s", resp.StatusCode, err, raw)
	}
	got.code = p.ErrorCode
	return got, nil
}

// loadWorld is the demo fixture plus loadTargets users for each of
// loadClients clients (see demoWithTargets).
func loadWorld() (f *fixture.Fixture, targets [][]string) {
	return demoWithTargets(loadClients, loadTargets)
}

// demoWithTargets is the demo fixture plus perClient users for each of
// clients clients, members of the organization Research, whom nothing else
// in the fixture names; targets lists them by client.
func demoWithTargets(clients, perClient int) (f *fixture.Fixture, targets [][]string) {
	f = fixture.Demo()
	targets = make([][]string, clients)
	for c := range clients {
		for k := range perClient {
			name := fmt.Sprintf("load-%d-%d", c, k)
			id := membership.ID(base64.StdEncoding.EncodeToString([]byte("User:" + name)))
			f.Users = append(f.Users, membership.User{ID: id, AccountID: accountOne, Name: name,
				Email: name + "@example.com", Role: membership.AccountMember})
			f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{
				OrganizationID: orgResearch, UserID: id, Role: membership.Predefined(membership.RoleMember)})
			targets[c] = append(targets[c], string(id))
		}
	}
	return f, targets
}

// TestLoadAndFaults runs loadClients concurrent clients against the server
// as run builds it (newHTTPServer, serve, the memory store), on loopback,
// with short read timeouts, for loadClients*loadPerClient requests drawn
// from loadKinds with seeded randomness. Then:
//
//   - every request got the status (and error_code) of its kind: for an
//     add, 200; for a remove, 204 or 404 membership_not_found as the
//     client's own earlier answers say; for a stalled body, 408
//     request_timeout, a client error; for stalled headers, a closed
//     connection. No request may get a 5xx: the server's own work has
//     10 s per request, far more than it needs, and the only timeouts are
//     the clients' stalls.
//   - the server logged exactly the statuses the clients received, and
//     nothing at level WARN or ERROR.
//   - llm-evals holds exactly what the answers say: each client has users
//     of its own, so the last 200 or 204 of a client decides each of its
//     users' membership and role, with the id of its last add; the
//     fixture's own members are untouched.
//   - the store's changelog, replayed from the fixture, gives exactly the
//     memberships the store holds.
//
// It is not parallel, so that no other test of the package competes with
// it for the CPU and the timeouts.
func TestLoadAndFaults(t *testing.T) {
	f, targets := loadWorld()
	h, store, logs, logger := newTestHandler(t, f)
	base := startHTTPServer(t, h, logger, func(srv *http.Server) {
		srv.ReadHeaderTimeout = loadReadHeaderTimeout
		srv.ReadTimeout = loadReadTimeout
	})
	addr := strings.TrimPrefix(base, "http://")

	// The run stops by itself after its requests; this only bounds a run
	// that hangs.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	// A client must drop an idle connection before the server does, or a
	// request may go out on a connection the server is closing and fail
	// with EOF (a POST is not retried). The server gives a connection
	// that has not sent its first request only its read header timeout,
	// and the transport keeps spare connections it dialed but did not
	// use: so the pool keeps idle connections for less than that.
	transport := &http.Transport{
		MaxIdleConnsPerHost: loadClients,
		IdleConnTimeout:     loadReadHeaderTimeout / 2,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{Transport: transport}

	total := 0
	for _, k := range loadKinds {
		total += k.weight
	}
	type tally struct {
		got          map[string]map[loadOutcome]int // by kind
		took         map[string]time.Duration       // by kind, in all
		mismatches   []string
		mismatchSeen int
	}
	var (
		mu  sync.Mutex
		all = tally{got: map[string]map[loadOutcome]int{}, took: map[string]time.Duration{}}
		wg  sync.WaitGroup
	)
	clients := make([]*loadClient, loadClients)
	start := time.Now()
	for c := range loadClients {
		cl := &loadClient{
			rng:     rand.New(rand.NewPCG(loadSeed, uint64(c))),
			ctx:     ctx,
			addr:    addr,
			http:    httpClient,
			targets: targets[c],
			members: map[string]loadMember{},
		}
		clients[c] = cl
		wg.Go(func() {
			for i := range loadPerClient {
				n := cl.rng.IntN(total)
				var kind loadKind
				for _, kind = range loadKinds {
					if n < kind.weight {
						break
					}
					n -= kind.weight
				}
				sent := time.Now()
				got, want, err := kind.send(cl)
				took := time.Since(sent)
				mu.Lock()
				all.took[kind.name] += took
				if all.got[kind.name] == nil {
					all.got[kind.name] = map[loadOutcome]int{}
				}
				all.got[kind.name][got]++
				if err != nil || got != want {
					all.mismatchSeen++
					if len(all.mismatches) < 20 {
						all.mismatches = append(all.mismatches, fmt.Sprintf("client %d, request %d (%s): got %v, want %v; %v", c, i, kind.name, got, want, err))
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// The breakdown, by kind and by status.
	byStatus := map[loadOutcome]int{}
	requests := 0
	var report strings.Builder
	for _, k := range loadKinds {
		var (
			parts []string
			sent  int
		)
		for _, o := range slices.SortedFunc(maps.Keys(all.got[k.name]), compareOutcomes) {
			n := all.got[k.name][o]
			parts = append(parts, fmt.Sprintf("%v: %d", o, n))
			byStatus[loadOutcome{status: o.status}] += n
			sent += n
		}
		requests += sent
		mean := time.Duration(0)
		if sent > 0 {
			mean = all.took[k.name] / time.Duration(sent)
		}
		fmt.Fprintf(&report, "\n  %-28s %-40s mean %v", k.name, strings.Join(parts, ", "), mean.Round(100*time.Microsecond))
	}
	var statuses []string
	for _, o := range slices.SortedFunc(maps.Keys(byStatus), compareOutcomes) {
		statuses = append(statuses, fmt.Sprintf("%v: %d", o, byStatus[o]))
	}
	t.Logf("%d requests from %d clients in %v (%.0f/s); by status: %s; by kind:%s",
		requests, loadClients, elapsed.Round(time.Millisecond), float64(requests)/elapsed.Seconds(), strings.Join(statuses, ", "), report.String())

	if requests != loadClients*loadPerClient {
		t.Errorf("%d requests answered, want %d", requests, loadClients*loadPerClient)
	}
	for o, n := range byStatus {
		if o.status >= 500 {
			t.Errorf("%d answers with status %d", n, o.status)
		}
	}
	if all.mismatchSeen > 0 {
		t.Errorf("%d requests did not get the answer of their kind; the first:\n%s", all.mismatchSeen, strings.Join(all.mismatches, "\n"))
	}

	checkLoadLog(t, logs.String(), byStatus)
	checkLoadState(t, store, clients, f)
	// Every change of the run committed its audit entry, in commit order:
	// the changelog replayed from the fixture is what the store holds.
	auditreplay.Check(t, context.Background(), store, f)
}

// compareOutcomes orders outcomes by status, then error_code.
func compareOutcomes(a, b loadOutcome) int {
	if a.status != b.status {
		return a.status - b.status
	}
	return strings.Compare(string(a.code), string(b.code))
}

// checkLoadLog checks that the request log holds one record per answer the
// clients received, with the same statuses, and nothing at level WARN or
// ERROR.
func checkLoadLog(t *testing.T, logs string, byStatus map[loadOutcome]int) {
	t.Helper()
	logged := map[int]int{}
	for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var rec struct {
			Level  string `json:"level"`
			Msg    string `json:"msg"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line that is not JSON: %v: %s", err, line)
		}
		// ERROR is a 5xx of the request log; WARN is what net/http itself
		// reports through the server's ErrorLog (a panic, a superfluous
		// WriteHeader): neither may happen.
		if rec.Level == "ERROR" || rec.Level == "WARN" {
			t.Errorf("a %s record in the log: %s", rec.Level, line)
		}
		if rec.Msg == "request" {
			logged[rec.Status]++
		}
	}
	answered := map[int]int{}
	for o, n := range byStatus {
		if o.status != statusClosed {
			answered[o.status] += n
		}
	}
	if !maps.Equal(logged, answered) {
		t.Errorf("the log holds requests by status %v; the clients got %v", logged, answered)
	}
}

// checkLoadState compares llm-evals, as the list answers it and as the
// store holds it, with what the clients' answers say: each target's last
// successful add or remove, and the fixture's own members untouched.
func checkLoadState(t *testing.T, store membership.Store, clients []*loadClient, f *fixture.Fixture) {
	t.Helper()
	want := map[string]loadMember{}
	for _, m := range f.SpaceMembers {
		if m.SpaceID == spaceLLMEvals {
			want[string(m.UserID)] = loadMember{role: m.Role.Canonical().Name.String()}
		}
	}
	for _, cl := range clients {
		maps.Copy(want, cl.members)
	}
	// The fixture's memberships have ids the store chose: compare their
	// roles only.
	withoutFixtureIDs := func(got map[string]loadMember) map[string]loadMember {
		for _, m := range f.SpaceMembers {
			if g, ok := got[string(m.UserID)]; ok {
				got[string(m.UserID)] = loadMember{role: g.role}
			}
		}
		return got
	}

	listed := map[string]loadMember{}
	cl := clients[0]
	for cursor := ""; ; {
		path := usersPath(spaceLLMEvals) + "?limit=7"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		got, body, err := cl.do(http.MethodGet, path, keyAdmin, "", "")
		if err != nil || got.status != http.StatusOK {
			t.Fatalf("list after the run: %v, %v: %s", got, err, body)
		}
		var p wirePage
		if err := json.Unmarshal(body, &p, json.RejectUnknownMembers(true)); err != nil {
			t.Fatalf("list after the run: %v: %s", err, body)
		}
		for _, m := range p.Members {
			name, _ := m.Role["name"].(string)
			listed[m.UserID] = loadMember{id: m.ID, role: name}
		}
		if p.Pagination.NextCursor == nil {
			break
		}
		cursor = *p.Pagination.NextCursor
	}
	if got := withoutFixtureIDs(listed); !maps.Equal(got, want) {
		t.Errorf("the list answers llm-evals as %v; the answers say %v", got, want)
	}

	stored := map[string]loadMember{}
	for _, m := range storedMembers(t, store, spaceLLMEvals) {
		stored[string(m.UserID)] = loadMember{id: string(m.ID), role: m.Role.Name.String()}
	}
	if got := withoutFixtureIDs(stored); !maps.Equal(got, want) {
		t.Errorf("the store holds llm-evals as %v; the answers say %v", got, want)
	}
	t.Logf("llm-evals ends with %d members, %d of them the clients'", len(want), len(want)-len(f.SpaceMembers))
}
