package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// running is a run of the program in this process.
type running struct {
	addr    string
	started []map[string]any      // the log records before "listening"
	records <-chan map[string]any // the log records after "listening"
	done    <-chan error          // what run returned
	stop    context.CancelFunc    // what SIGINT does
	// hangups stands for SIGHUP; nil when the run catches the real
	// signal (startRunCatchingSIGHUP).
	hangups chan<- os.Signal
}

// startRun runs the program with args plus JSON logs, and waits until it
// listens. The run takes its reload requests from r.hangup rather than from
// the process's SIGHUP, so that runs of parallel tests stay apart.
func startRun(t *testing.T, args ...string) *running {
	t.Helper()
	hangups := make(chan os.Signal, 1)
	r := startProgram(t, func(ctx context.Context, args []string, logOut io.Writer) error {
		return runWithHangups(ctx, args, logOut, hangups)
	}, args)
	r.hangups = hangups
	return r
}

// startRunCatchingSIGHUP is startRun for run itself, which catches the
// process's SIGHUP. Only a test that is not parallel may send the signal:
// SIGHUP reaches every run in the process, and once none is running it
// ends the test binary.
func startRunCatchingSIGHUP(t *testing.T, args ...string) *running {
	t.Helper()
	return startProgram(t, run, args)
}

// startProgram runs program (run, or a variant of it) with args plus JSON
// logs, and waits until it listens.
func startProgram(t *testing.T, program func(context.Context, []string, io.Writer) error, args []string) *running {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	pr, pw := io.Pipe()
	records := make(chan map[string]any, 100)
	go func() {
		defer close(records)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				rec = map[string]any{"unparsed": sc.Text()}
			}
			records <- rec
		}
	}()
	done := make(chan error, 1)
	go func() {
		err := program(ctx, append(args, "-log-format", "json"), pw)
		pw.Close()
		done <- err
	}()
	var started []map[string]any
	for {
		select {
		case rec, ok := <-records:
			if !ok {
				t.Fatalf("run stopped before listening: %v", <-done)
			}
			if rec["msg"] == "listening" {
				addr, _ := rec["addr"].(string)
				return &running{addr: addr, started: started, records: records, done: done, stop: stop}
			}
			started = append(started, rec)
		case <-time.After(time.Minute):
			t.Fatal("run did not log a listening address")
		}
	}
}

// hangup asks the run to reload its policy, as SIGHUP does.
func (r *running) hangup(t *testing.T) {
	t.Helper()
	if r.hangups == nil {
		t.Fatal("this run catches the real SIGHUP")
	}
	r.hangups <- syscall.SIGHUP
}

// nextRecord reads the log until a record whose message is one of msgs, and
// returns it; it fails after a minute without one.
func (r *running) nextRecord(t *testing.T, msgs ...string) map[string]any {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case rec, ok := <-r.records:
			if !ok {
				t.Fatalf("the log ended without a record %q", msgs)
			}
			if msg, _ := rec["msg"].(string); slices.Contains(msgs, msg) {
				return rec
			}
		case <-deadline:
			t.Fatalf("no log record %q within a minute", msgs)
		}
	}
}

// post sends one add to the running program.
func (r *running) post(t *testing.T, key, path, body string) *http.Response {
	t.Helper()
	resp, _ := r.send(t, key, path, body)
	return resp
}

// postMembership sends one add and decodes the id of the membership it
// answers with, if it does.
func (r *running) postMembership(t *testing.T, key, path, body string) (*http.Response, struct{ ID string }) {
	t.Helper()
	resp, raw := r.send(t, key, path, body)
	var m struct {
		ID string `json:"id"`
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("decoding %s: %v", raw, err)
		}
	}
	return resp, struct{ ID string }{m.ID}
}

// send posts one add and reads the whole answer.
func (r *running) send(t *testing.T, key, path, body string) (*http.Response, []byte) {
	t.Helper()
	return r.request(t, http.MethodPost, key, path, body)
}

// request sends one request, with a JSON body unless body is empty, and
// reads the whole answer.
func (r *running) request(t *testing.T, method, key, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+r.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// startRecord returns the log record with message msg that run wrote before
// it listened, and fails if there is none.
func (r *running) startRecord(t *testing.T, msg string) map[string]any {
	t.Helper()
	for _, rec := range r.started {
		if rec["msg"] == msg {
			return rec
		}
	}
	t.Fatalf("no %q record before listening; got %v", msg, r.started)
	return nil
}

// stopAndDrain stops the run, checks that it returned nil, and drains its
// log.
func (r *running) stopAndDrain(t *testing.T) {
	t.Helper()
	r.stop()
	if err := <-r.done; err != nil {
		t.Fatalf("run after a stop: %v", err)
	}
	for range r.records {
	}
}

// seededCounts are the counts of records a "seeded the store" record must
// carry for f.
func seededCounts(f *fixture.Fixture) map[string]int {
	return map[string]int{
		"accounts":             len(f.Accounts),
		"users":                len(f.Users),
		"organizations":        len(f.Organizations),
		"organization_members": len(f.OrganizationMembers),
		"spaces":               len(f.Spaces),
		"roles":                len(f.Roles),
		"space_members":        len(f.SpaceMembers),
	}
}

// checkSeeded checks that the run seeded f and logged its counts.
func (r *running) checkSeeded(t *testing.T, f *fixture.Fixture) {
	t.Helper()
	rec := r.startRecord(t, "seeded the store")
	for name, want := range seededCounts(f) {
		if got, _ := rec[name].(float64); int(got) != want {
			t.Errorf("seeded %s = %v, want %d", name, rec[name], want)
		}
	}
}

// messages drains the log after run has returned and lists the messages.
func (r *running) messages() []string {
	var msgs []string
	for rec := range r.records {
		msg, _ := rec["msg"].(string)
		msgs = append(msgs, msg)
	}
	return msgs
}

func TestRunServesTheDemoAndStops(t *testing.T) {
	t.Parallel()
	r := startRun(t, "-addr", "127.0.0.1:0")
	host, port, err := net.SplitHostPort(r.addr)
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("listening address %q, want 127.0.0.1 and the port the system chose", r.addr)
	}
	r.checkSeeded(t, fixture.Demo()) // a fresh memory store is always empty
	if resp := r.post(t, keyAdmin, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusOK {
		t.Errorf("add as the demo admin: status %d, want 200", resp.StatusCode)
	}
	if resp := r.post(t, keyMember, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "ADMIN")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("add as a demo member: status %d, want 403", resp.StatusCode)
	}

	r.stop()
	if err := <-r.done; err != nil {
		t.Fatalf("run after a stop: %v", err)
	}
	msgs := strings.Join(r.messages(), ",")
	if want := "decision,request,decision,request,shutting down,stopped"; msgs != want {
		t.Errorf("log messages after listening: %s, want %s", msgs, want)
	}
}

// TestRunAuditsEveryDecision checks the audit records: with the default
// -audit, each decision is a "decision" record naming the request, the
// answer, the rules that fired and the revision the "policy loaded" record
// named; with -audit=false there is none, and the requests are logged as
// ever.
func TestRunAuditsEveryDecision(t *testing.T) {
	t.Parallel()
	r := startRun(t, "-addr", "127.0.0.1:0")
	revision := r.startRecord(t, "policy loaded")["revision"]
	if s, _ := revision.(string); !strings.HasPrefix(s, "sha256:") {
		t.Errorf("the default policy's revision is %v, want a sha256: digest", revision)
	}
	r.post(t, keyMember, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "ADMIN"))
	got := r.nextRecord(t, "decision")
	want := map[string]any{"level": "INFO", "operation": "add", "actor": userBarbara, "space": spaceLLMEvals,
		"user": userGrace, "role": "PREDEFINED/ADMIN", "allow": false, "revision": revision, "cached": false}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("decision record %s = %v, want %v; the record: %v", k, got[k], v, got)
		}
	}
	if v := anyStrings(got["violations"]); !slices.Contains(v, "space_admin=forbidden") {
		t.Errorf("decision record violations %v, want space_admin=forbidden among them", v)
	}
	r.stopAndDrain(t)

	r = startRun(t, "-addr", "127.0.0.1:0", "-audit=false")
	if r.startRecord(t, "policy loaded")["audit"] != false {
		t.Error("policy loaded does not say audit=false")
	}
	r.post(t, keyAdmin, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "MEMBER"))
	r.stop()
	if err := <-r.done; err != nil {
		t.Fatalf("run after a stop: %v", err)
	}
	if msgs, want := strings.Join(r.messages(), ","), "request,shutting down,stopped"; msgs != want {
		t.Errorf("log messages with -audit=false: %s, want %s", msgs, want)
	}
}

// TestRunOnPostgreSQL serves the demo from a PostgreSQL database, three
// times on the same schema. The first start seeds the empty schema; the API
// then adds Grace and demotes Barbara, a MEMBER in the fixture, to
// READ_ONLY. A restart with the default -seed finds the fixture there,
// seeds nothing, and keeps both changes: the fixture is not put back over
// live data. A start with -seed=always writes the fixture again: Barbara is
// a MEMBER once more, and Grace, whom the fixture does not list, stays.
// Finally Grace is removed, once.
func TestRunOnPostgreSQL(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t, "server_test")
	demo := fixture.Demo()

	// roles lists llm-evals as Barbara sees it: user id to role name, and
	// the membership ids by user.
	roles := func(r *running) (map[string]string, map[string]string) {
		t.Helper()
		resp, body := r.request(t, http.MethodGet, keyMember, usersPath(spaceLLMEvals)+"?limit=100", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list: status %d, want 200; %s", resp.StatusCode, body)
		}
		page := decodePage(t, resp, body, spaceLLMEvals, 100)
		names, ids := map[string]string{}, map[string]string{}
		for _, m := range page.Members {
			names[m.UserID], _ = m.Role["name"].(string)
			ids[m.UserID] = m.ID
		}
		return names, ids
	}

	r := startRun(t, "-addr", "127.0.0.1:0", "-store", dsn)
	r.checkSeeded(t, demo)
	resp, grace := r.postMembership(t, keyAdmin, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "MEMBER"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("add Grace as the demo admin: status %d, want 200", resp.StatusCode)
	}
	if resp := r.post(t, keyAdmin, usersPath(spaceLLMEvals), predefinedBody(userBarbara, "PREDEFINED", "READ_ONLY")); resp.StatusCode != http.StatusOK {
		t.Fatalf("demote Barbara as the demo admin: status %d, want 200", resp.StatusCode)
	}
	_, firstIDs := roles(r)
	r.stopAndDrain(t)

	r = startRun(t, "-addr", "127.0.0.1:0", "-store", dsn)
	skipped := r.startRecord(t, "seeding skipped")
	if n, _ := skipped["records_found"].(float64); int(n) != len(demo.Users)+len(demo.Spaces)+len(demo.Roles) {
		t.Errorf("seeding skipped with records_found %v, want every user, space and role of the demo", skipped["records_found"])
	}
	for _, rec := range r.started {
		if rec["msg"] == "seeded the store" {
			t.Errorf("a restart with the default -seed seeded the store: %v", rec)
		}
	}
	names, ids := roles(r)
	if want := map[string]string{userLinus: "ADMIN", userBarbara: "READ_ONLY", userGrace: "MEMBER"}; !maps.Equal(names, want) {
		t.Errorf("after a restart, llm-evals holds %v, want %v: what the API changed must stay", names, want)
	}
	if !maps.Equal(ids, firstIDs) {
		t.Errorf("after a restart, the membership ids are %v, want %v", ids, firstIDs)
	}
	if resp := r.post(t, keyMember, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "ADMIN")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("after a restart: add as Barbara: status %d, want 403", resp.StatusCode)
	}
	r.stopAndDrain(t)

	r = startRun(t, "-addr", "127.0.0.1:0", "-store", dsn, "-seed", "always")
	r.checkSeeded(t, demo)
	names, ids = roles(r)
	if want := map[string]string{userLinus: "ADMIN", userBarbara: "MEMBER", userGrace: "MEMBER"}; !maps.Equal(names, want) {
		t.Errorf("after -seed=always, llm-evals holds %v, want %v", names, want)
	}
	if !maps.Equal(ids, firstIDs) {
		t.Errorf("after -seed=always, the membership ids are %v, want %v: seeding is an upsert", ids, firstIDs)
	}
	for _, want := range []int{http.StatusNoContent, http.StatusNotFound} {
		if resp, body := r.request(t, http.MethodDelete, keyAdmin, userPath(spaceLLMEvals, userGrace), ""); resp.StatusCode != want {
			t.Errorf("remove Grace: status %d, want %d; %s", resp.StatusCode, want, body)
		}
	}
	if _, ids := roles(r); ids[userGrace] != "" {
		t.Errorf("the list still holds Grace's removed membership %s", grace.ID)
	}
	r.stopAndDrain(t)
}

func TestRunServesAFixtureFile(t *testing.T) {
	t.Parallel()
	r := startRun(t, "-addr", "127.0.0.1:0", "-fixture", "testdata/reserved_chars.json")
	if resp := r.post(t, "reserved-admin-key", usersPath("U3BhY2U6+/+/"), predefinedBody("VXNlcjr7/74=", "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusOK {
		t.Errorf("add with the fixture's key: status %d, want 200", resp.StatusCode)
	}
	if resp := r.post(t, keyAdmin, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("add with a demo key: status %d, want 401", resp.StatusCode)
	}
	r.stop()
	if err := <-r.done; err != nil {
		t.Fatalf("run after a stop: %v", err)
	}
}

func TestRunRefuses(t *testing.T) {
	t.Parallel()
	var fixtureErr *fixture.Error
	tests := []struct {
		name  string
		args  []string
		check func(error) bool
	}{
		{"unknown flag", []string{"-port", "80"}, func(err error) bool { return errors.Is(err, errUsage) }},
		{"argument", []string{"serve"}, func(err error) bool { return errors.Is(err, errUsage) }},
		{"log format", []string{"-log-format", "xml"}, func(err error) bool { return errors.Is(err, errUsage) }},
		{"seed mode", []string{"-seed", "sometimes"}, func(err error) bool { return errors.Is(err, errUsage) }},
		{"missing fixture", []string{"-fixture", "testdata/no_such_file.json"}, func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
		{"invalid fixture", []string{"-fixture", "testdata/invalid_fixture.json"}, func(err error) bool { return errors.As(err, &fixtureErr) }},
		{"bad address", []string{"-addr", "127.0.0.1:99999"}, func(err error) bool { return err != nil && !errors.Is(err, errUsage) }},
		{"policy mode", []string{"-policy-mode", "merge"}, func(err error) bool { return errors.Is(err, errUsage) }},
		{"public key without a bundle", []string{"-policy-pubkey", "key.pem"}, func(err error) bool { return errors.Is(err, errUsage) }},
		{"replace without a bundle", []string{"-policy-mode", "replace"}, func(err error) bool { return errors.Is(err, errUsage) }},
		{"watch without a bundle", []string{"-policy-watch"}, func(err error) bool { return errors.Is(err, errUsage) }},
		{"missing public key", []string{"-policy", exampleBundle, "-policy-pubkey", "testdata/no_such_key.pem"}, func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			err := run(t.Context(), tc.args, &out)
			if !tc.check(err) {
				t.Errorf("run(%q) = %v", tc.args, err)
			}
		})
	}

	t.Run("help", func(t *testing.T) {
		t.Parallel()
		var out strings.Builder
		if err := run(t.Context(), []string{"-h"}, &out); err != nil {
			t.Errorf("run(-h) = %v, want nil", err)
		}
		for _, flag := range []string{"-fixture", "-policy", "-policy-pubkey", "-policy-mode", "-policy-watch", "-audit"} {
			if !strings.Contains(out.String(), flag+" ") && !strings.Contains(out.String(), flag+"\n") {
				t.Errorf("usage does not list %s:\n%s", flag, out.String())
			}
		}
	})
}

// TestServeFinishesInFlightRequests stops the server while a request is
// in flight: serve stops accepting connections at once, waits for the
// request to finish, and returns nil.
func TestServeFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.Write([]byte("finished"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	srv := newHTTPServer(h, logger)
	shutdownBegun := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(shutdownBegun) }) // after the listener is closed

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- serve(ctx, srv, ln, logger, time.Hour) }()

	type result struct {
		body string
		err  error
	}
	answered := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			answered <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- result{string(b), err}
	}()

	<-started
	stop() // as SIGINT does
	<-shutdownBegun
	if conn, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		conn.Close()
		t.Error("a new connection was accepted during shutdown")
	}
	select {
	case err := <-served:
		t.Fatalf("serve returned %v with a request in flight", err)
	case <-answered:
		t.Fatal("the request finished before it was released")
	default:
	}

	close(release)
	if got := <-answered; got.err != nil || got.body != "finished" {
		t.Errorf("in-flight request: %q, %v; want it to finish", got.body, got.err)
	}
	if err := <-served; err != nil {
		t.Errorf("serve = %v, want nil after a graceful shutdown", err)
	}
}

// TestServeGivesUpAfterGrace stops the server while a request never
// finishes: serve closes the connection after the grace period and says so.
func TestServeGivesUpAfterGrace(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- serve(ctx, newHTTPServer(h, logger), ln, logger, time.Millisecond) }()

	failed := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err == nil {
			resp.Body.Close()
		}
		failed <- err
	}()
	<-started
	stop()
	if err := <-served; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("serve = %v, want the grace period's deadline", err)
	}
	if err := <-failed; err == nil {
		t.Error("the abandoned request got an answer")
	}
}

func TestServeReportsAFailedListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	logger := slog.New(slog.DiscardHandler)
	if err := serve(t.Context(), newHTTPServer(http.NotFoundHandler(), logger), ln, logger, time.Second); err == nil {
		t.Error("serve on a closed listener = nil, want an error")
	}
}
