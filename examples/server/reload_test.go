package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/policy"
)

// startPolicyServer serves the server's handler over HTTP with an engine
// built from src the way run builds it (newEngine, with the audit), on a
// memory store seeded from f (the demo fixture when f is nil). The reloader
// reloads src into that engine, as SIGHUP does. Every log record, the
// audit's among them, goes to s.logs as a JSON line.
func startPolicyServer(t *testing.T, f *fixture.Fixture, src policySource) (*testServer, *policyReloader) {
	t.Helper()
	if f == nil {
		f = fixture.Demo()
	}
	logs := new(syncBuffer)
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	engine, err := newEngine(src, true, logger)
	if err != nil {
		t.Fatal(err)
	}
	h, store := newHandlerWithEngine(t, f, engine, logger)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, fixture: f, store: store, logs: logs},
		&policyReloader{engine: engine, source: src, logger: logger}
}

// logRecords returns the JSON log records in logs whose message is msg.
func logRecords(t *testing.T, logs string, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line that is not JSON: %v\n%s", err, line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// addGrace is Ada, the account ADMIN, giving Grace the MEMBER role in
// space: an add of a new member unless Grace is in the space already.
func addGrace(space string) call {
	return call{path: usersPath(space), key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")}
}

// TestRunReloadsTheArchivedSpaceRule serves the example bundle with no
// space archived, archives llm-evals on disk and reloads, as SIGHUP does:
// from then on the server refuses new members there with 409
// space_archived, while a member's role change, a remove and a list still
// pass, and the log says which revision replaced which.
func TestRunReloadsTheArchivedSpaceRule(t *testing.T) {
	t.Parallel()
	dir := archivedBundle(t, "archived-test-1")
	r := startRun(t, "-addr", "127.0.0.1:0", "-policy", dir)
	if got := r.startRecord(t, "policy loaded")["revision"]; got != "archived-test-1" {
		t.Errorf("policy loaded with revision %v, want archived-test-1", got)
	}

	if resp, body := r.send(t, keyAdmin, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusOK {
		t.Fatalf("add Grace before llm-evals is archived: status %d, want 200; %s", resp.StatusCode, body)
	}
	decision := r.nextRecord(t, "decision")
	if decision["revision"] != "archived-test-1" || decision["allow"] != true {
		t.Errorf("the add's audit record %v, want allowed by revision archived-test-1", decision)
	}

	setArchived(t, dir, "archived-test-2", spaceLLMEvals)
	r.hangup(t)
	reloaded := r.nextRecord(t, "policy reloaded", "policy reload refused")
	want := map[string]any{"msg": "policy reloaded", "trigger": "SIGHUP", "bundle": dir,
		"old_revision": "archived-test-1", "new_revision": "archived-test-2"}
	for k, v := range want {
		if reloaded[k] != v {
			t.Errorf("reload record %s = %v, want %v; the record: %v", k, reloaded[k], v, reloaded)
		}
	}

	resp, body := r.send(t, keyAdmin, usersPath(spaceLLMEvals), predefinedBody(userAlan, "PREDEFINED", "MEMBER"))
	checkProblem(t, resp, body, http.StatusConflict, "space_archived")
	decision = r.nextRecord(t, "decision")
	if decision["revision"] != "archived-test-2" || decision["allow"] != false ||
		!slices.Equal(anyStrings(decision["violations"]), []string{"space_archived=space_archived"}) {
		t.Errorf("the refused add's audit record %v, want the space_archived rule of revision archived-test-2", decision)
	}
	steps := []struct {
		name   string
		method string
		path   string
		body   string
		want   int
	}{
		{"Grace, a member, becomes READ_ONLY", http.MethodPost, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "READ_ONLY"), http.StatusOK},
		{"list llm-evals", http.MethodGet, usersPath(spaceLLMEvals), "", http.StatusOK},
		{"remove Grace", http.MethodDelete, userPath(spaceLLMEvals, userGrace), "", http.StatusNoContent},
		{"add Grace, now a new member again", http.MethodPost, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "MEMBER"), http.StatusConflict},
		{"add Grace to red-team, not archived", http.MethodPost, usersPath(spaceRedTeam), predefinedBody(userGrace, "PREDEFINED", "MEMBER"), http.StatusOK},
	}
	for _, s := range steps {
		if resp, body := r.request(t, s.method, keyAdmin, s.path, s.body); resp.StatusCode != s.want {
			t.Errorf("%s: status %d, want %d; %s", s.name, resp.StatusCode, s.want, body)
		}
	}
	r.stopAndDrain(t)
}

// statusOf is the status of resp, statusClosed when there is no response.
func statusOf(resp *http.Response) int {
	if resp == nil {
		return statusClosed
	}
	return resp.StatusCode
}

// anyStrings returns the strings of a JSON array.
func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// TestReloadKeepsThePolicyInForce reloads bundles that cannot be used: each
// reload is refused with an error that says why, naming the file (and the
// line, where there is one), the log says so with the revision that stays
// in force, and the server answers exactly as before.
func TestReloadKeepsThePolicyInForce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spoil func(t *testing.T, dir string)
		is    error
		names string // a part of the message: the file, and the line where there is one
	}{
		{"a module that does not parse", func(t *testing.T, dir string) {
			setArchived(t, dir, "kept-2")
			editFile(t, filepath.Join(dir, "archived.rego"), "not target_is_member", "not target_is_member(")
		}, policy.ErrInvalidPolicy, "/archived.rego:"},
		{"a module that does not compile", func(t *testing.T, dir string) {
			setArchived(t, dir, "kept-2")
			editFile(t, filepath.Join(dir, "archived.rego"), "not target_is_member", "not target_is_a_member")
		}, policy.ErrInvalidPolicy, filepath.Join("bundle", "archived.rego") + ":"},
		{"a Rego test that fails", func(t *testing.T, dir string) {
			setArchived(t, dir, "kept-2")
			editFile(t, filepath.Join(dir, "archived.rego"), `"status": 409`, `"status": 410`)
		}, policy.ErrPolicyTestFailed, filepath.Join("bundle", "archived_test.rego") + ":75"},
		{"data that is not JSON", func(t *testing.T, dir string) {
			replaceFile(t, filepath.Join(dir, "archived", "data.json"), []byte(`{"spaces": [`))
		}, policy.ErrInvalidPolicy, "/archived/data.json"},
		{"a bundle that is gone", func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}, fs.ErrNotExist, "bundle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := archivedBundle(t, "kept-1", spaceLLMEvals)
			s, reloader := startPolicyServer(t, nil, policySource{bundlePath: dir, mode: policyExtend})
			answers := func() []int {
				var statuses []int
				for _, c := range []call{
					addGrace(spaceLLMEvals), // archived: 409
					addGrace(spaceRedTeam),  // 200
					{path: usersPath(spaceRedTeam), key: keyMember, body: predefinedBody(userAlan, "PREDEFINED", "MEMBER")}, // 404: Barbara cannot read red-team
				} {
					resp, _ := s.do(t, c)
					statuses = append(statuses, resp.StatusCode)
				}
				return statuses
			}
			before := answers()
			if want := []int{http.StatusConflict, http.StatusOK, http.StatusNotFound}; !slices.Equal(before, want) {
				t.Fatalf("before the reload: statuses %v, want %v", before, want)
			}

			tc.spoil(t, dir)
			err := reloader.Reload("test")
			if !errors.Is(err, tc.is) {
				t.Fatalf("Reload = %v, want an error wrapping %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.names) {
				t.Errorf("Reload's error does not name %q: %v", tc.names, err)
			}
			if got := reloader.engine.Revision(); got != "kept-1" {
				t.Errorf("after a refused reload the revision is %q, want kept-1", got)
			}
			if after := answers(); !slices.Equal(after, before) {
				t.Errorf("after a refused reload: statuses %v, want %v as before", after, before)
			}

			refused := logRecords(t, s.logs.String(), "policy reload refused")
			if len(refused) != 1 {
				t.Fatalf("%d records of a refused reload, want 1:\n%s", len(refused), s.logs.String())
			}
			if refused[0]["kept_revision"] != "kept-1" || refused[0]["error"] != err.Error() || refused[0]["level"] != "ERROR" {
				t.Errorf("refused reload logged as %v, want level ERROR, the error %q and kept_revision kept-1", refused[0], err)
			}
			for _, d := range logRecords(t, s.logs.String(), "decision") {
				if d["revision"] != "kept-1" {
					t.Errorf("a decision of revision %v, want every one of kept-1: %v", d["revision"], d)
				}
			}
		})
	}
}

// TestReloadRefusesATamperedSignedBundle serves a signed tarball, then
// replaces it on disk with one whose data was changed after signing: the
// reload is refused and the signed policy stays; a properly signed new
// revision is then accepted.
func TestReloadRefusesATamperedSignedBundle(t *testing.T) {
	t.Parallel()
	key := newSigningKey(t)
	path := filepath.Join(t.TempDir(), "archived.tar.gz")
	writeSignedBundle(t, path, key, "signed-1", []string{spaceLLMEvals}, nil)
	publicKey, err := os.ReadFile(key.publicKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	s, reloader := startPolicyServer(t, nil, policySource{bundlePath: path, publicKey: publicKey, mode: policyExtend})

	writeSignedBundle(t, path, key, "signed-2", []string{spaceLLMEvals}, func(b *bundle.Bundle) {
		b.Data = map[string]any{"archived": map[string]any{"spaces": []any{}}}
	})
	if err := reloader.Reload("test"); !errors.Is(err, policy.ErrBundleSignature) {
		t.Fatalf("Reload of a tampered bundle = %v, want an error wrapping policy.ErrBundleSignature", err)
	}
	if resp, body := s.do(t, addGrace(spaceLLMEvals)); resp.StatusCode != http.StatusConflict {
		t.Errorf("after the refused reload, add to the archived space: status %d, want 409; %s", resp.StatusCode, body)
	}

	writeSignedBundle(t, path, key, "signed-3", nil, nil)
	if err := reloader.Reload("test"); err != nil {
		t.Fatalf("Reload of a signed bundle: %v", err)
	}
	if resp, body := s.do(t, addGrace(spaceLLMEvals)); resp.StatusCode != http.StatusOK {
		t.Errorf("after llm-evals is no longer archived, add: status %d, want 200; %s", resp.StatusCode, body)
	}
	reloaded := logRecords(t, s.logs.String(), "policy reloaded")
	if len(reloaded) != 1 || reloaded[0]["old_revision"] != "signed-1" || reloaded[0]["new_revision"] != "signed-3" {
		t.Errorf("reload records %v, want one from signed-1 to signed-3", reloaded)
	}
}

// TestRunWithoutABundleIgnoresSIGHUP asks a server without -policy to
// reload: it logs that there is no bundle and serves on.
func TestRunWithoutABundleIgnoresSIGHUP(t *testing.T) {
	t.Parallel()
	r := startRun(t, "-addr", "127.0.0.1:0")
	revision := r.startRecord(t, "policy loaded")["revision"]
	r.hangup(t)
	skipped := r.nextRecord(t, "policy reload skipped", "policy reloaded", "policy reload refused")
	if skipped["msg"] != "policy reload skipped" || skipped["reason"] != errNoBundle.Error() || skipped["revision"] != revision {
		t.Errorf("reload record %v, want it skipped for want of a bundle, with revision %v", skipped, revision)
	}
	if resp := r.post(t, keyAdmin, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusOK {
		t.Errorf("add after SIGHUP: status %d, want 200", resp.StatusCode)
	}
	r.stopAndDrain(t)
}

// TestRunReloadsOnSIGHUP sends the process a real SIGHUP while run serves
// a bundle: run catches it and reloads.
//
// It is not parallel: SIGHUP reaches every run in the process, and would
// end the test binary if none were catching it. While this test runs, no
// parallel test does.
func TestRunReloadsOnSIGHUP(t *testing.T) {
	dir := archivedBundle(t, "hangup-1")
	r := startRunCatchingSIGHUP(t, "-addr", "127.0.0.1:0", "-policy", dir)
	setArchived(t, dir, "hangup-2", spaceLLMEvals)
	// run has caught SIGHUP since before it listened, and catches it until
	// it returns, after the stop below.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	reloaded := r.nextRecord(t, "policy reloaded", "policy reload refused")
	if reloaded["msg"] != "policy reloaded" || reloaded["trigger"] != "SIGHUP" || reloaded["new_revision"] != "hangup-2" {
		t.Errorf("reload record %v, want a reload to hangup-2 on SIGHUP", reloaded)
	}
	if resp := r.post(t, keyAdmin, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusConflict {
		t.Errorf("add to llm-evals after the reload: status %d, want 409", resp.StatusCode)
	}
	r.stopAndDrain(t)
}

// The two revisions of TestReloadUnderLoad: one archives llm-evals, the
// other archives nothing.
const (
	revisionArchived = "load-archived"
	revisionOpen     = "load-open"
)

// TestReloadUnderLoad reloads the policy back and forth between two
// revisions, reloadFlips times, while clients add their own users to
// llm-evals (and remove them after a 200), and list it. Under one revision
// llm-evals is archived and an add answers 409 space_archived; under the
// other it answers 200. Then:
//
//   - every answer is one that one of the two policies gives: 200 or 409
//     for an add, 204 for a remove, 200 for a list; none is a 5xx, and no
//     request fails to connect or to be answered;
//   - every decision's audit record agrees with its revision: an add
//     decided by load-archived is refused by the space_archived rule and
//     nothing else, one decided by load-open is allowed, a remove or a list
//     is allowed by both. A decision that mixed the two policies (or a
//     decision remembered under one served under the other) would break
//     this;
//   - the audit counts as many allowed and refused adds as the clients
//     received 200s and 409s, and both happened;
//   - every reload succeeded and was logged.
//
// It is not parallel, so that the reloads compete only with its own
// clients for the CPU.
func TestReloadUnderLoad(t *testing.T) {
	const (
		clients     = 8
		reloadFlips = 30
	)
	f, targets := demoWithTargets(clients, 1)
	dir := archivedBundle(t, revisionOpen)
	s, reloader := startPolicyServer(t, f, policySource{bundlePath: dir, mode: policyExtend})

	var (
		mu       sync.Mutex
		statuses = map[string]map[int]int{} // by kind of request
		failures []string
		wg       sync.WaitGroup
	)
	flipped := make(chan struct{})
	record := func(kind string, status int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if statuses[kind] == nil {
			statuses[kind] = map[int]int{}
		}
		statuses[kind][status]++
		if err != nil && len(failures) < 20 {
			failures = append(failures, fmt.Sprintf("%s: %v", kind, err))
		}
	}
	for c := range clients {
		target := targets[c][0]
		wg.Go(func() {
			for {
				// An answer of neither policy, or no answer at all, is a
				// failure; do would end the test from this goroutine.
				resp, body, err := s.try(t.Context(), call{path: usersPath(spaceLLMEvals), key: keyAdmin, body: predefinedBody(target, "PREDEFINED", "MEMBER")})
				switch {
				case err != nil:
					record("add", statusClosed, err)
				case resp.StatusCode == http.StatusOK:
					record("add", resp.StatusCode, nil)
					resp, body, err := s.try(t.Context(), call{method: http.MethodDelete, path: userPath(spaceLLMEvals, target), key: keyAdmin})
					if err == nil && resp.StatusCode != http.StatusNoContent {
						err = fmt.Errorf("status %d, want 204; %s", resp.StatusCode, body)
					}
					record("remove", statusOf(resp), err)
				case resp.StatusCode == http.StatusConflict:
					if !strings.Contains(string(body), `"error_code":"space_archived"`) {
						err = fmt.Errorf("409 that is not space_archived: %s", body)
					}
					record("add", resp.StatusCode, err)
				default:
					record("add", resp.StatusCode, fmt.Errorf("status %d, want 200 or 409; %s", resp.StatusCode, body))
				}
				resp, body, err = s.try(t.Context(), call{method: http.MethodGet, path: usersPath(spaceLLMEvals) + "?limit=5", key: keyAdmin})
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d, want 200; %s", resp.StatusCode, body)
				}
				record("list", statusOf(resp), err)
				select {
				case <-flipped:
					return
				default:
				}
			}
		})
	}
	for i := range reloadFlips {
		if i%2 == 0 {
			setArchived(t, dir, revisionArchived, spaceLLMEvals)
		} else {
			setArchived(t, dir, revisionOpen)
		}
		if err := reloader.Reload("test"); err != nil {
			t.Errorf("reload %d: %v", i, err)
		}
	}
	close(flipped)
	wg.Wait()

	t.Logf("answers by kind and status: %v", statuses)
	if len(failures) > 0 {
		t.Errorf("requests without the answer of either policy; the first:\n%s", strings.Join(failures, "\n"))
	}
	adds := statuses["add"]
	if adds[http.StatusOK] == 0 || adds[http.StatusConflict] == 0 {
		t.Errorf("adds answered %v: want both 200s (load-open) and 409s (load-archived), or the test proves nothing", adds)
	}

	logs := s.logs.String()
	allowedAdds, refusedAdds := 0, 0
	mixed := 0
	for _, d := range logRecords(t, logs, "decision") {
		violations := anyStrings(d["violations"])
		consistent := false
		switch {
		case d["operation"] != "add":
			consistent = d["allow"] == true && len(violations) == 0 && (d["revision"] == revisionArchived || d["revision"] == revisionOpen)
		case d["revision"] == revisionArchived:
			consistent = d["allow"] == false && slices.Equal(violations, []string{"space_archived=space_archived"})
			refusedAdds++
		case d["revision"] == revisionOpen:
			consistent = d["allow"] == true && len(violations) == 0
			allowedAdds++
		}
		if !consistent {
			if mixed < 10 {
				t.Errorf("a decision that does not agree with its revision: %v", d)
			}
			mixed++
		}
	}
	if allowedAdds != adds[http.StatusOK] || refusedAdds != adds[http.StatusConflict] {
		t.Errorf("the audit has %d allowed and %d refused adds; the clients got %d 200s and %d 409s",
			allowedAdds, refusedAdds, adds[http.StatusOK], adds[http.StatusConflict])
	}
	if n := len(logRecords(t, logs, "policy reloaded")); n != reloadFlips {
		t.Errorf("%d reloads logged, want %d", n, reloadFlips)
	}
	for _, req := range logRecords(t, logs, "request") {
		if status, _ := req["status"].(float64); status >= 500 {
			t.Errorf("a request answered %v: %v", status, req)
		}
	}
}
