package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/jackc/pgx/v5"

	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// This file holds what TestCrashRestartKeepsEveryAcknowledgedChange runs:
// the server as a process of its own, its fixture, and the clients that
// write while it is killed.

// The shape of the crash run's world: each client has an organization of
// its own, with crashSpaces spaces and crashUsers users that nothing else
// names, so that what a client's answers say about them depends on its own
// requests alone.
const (
	crashClients = 4
	crashSpaces  = 2
	crashUsers   = 4
)

// crashKeys are the records of one client.
type crashKeys struct {
	org    membership.ID
	spaces [crashSpaces]membership.ID
	users  [crashUsers]membership.ID
}

// crashID is the id of a record of the crash world: base64 of kind:name,
// the shape of the demo's ids.
func crashID(kind, name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(kind + ":" + name)))
}

// crashFixture is the demo fixture plus, for each client, an organization
// of the demo's first account, its spaces and its users (account MEMBERs).
// The even users start as organization MEMBERs and the first of them as a
// READ_ONLY member of the first space, so that the first removals and
// cascades have something to remove.
func crashFixture() (*fixture.Fixture, []crashKeys) {
	f := fixture.Demo()
	keys := make([]crashKeys, crashClients)
	for c := range keys {
		k := &keys[c]
		k.org = crashID("Org", fmt.Sprintf("crash-%d", c))
		f.Organizations = append(f.Organizations, membership.Organization{ID: k.org, AccountID: accountOne, Name: fmt.Sprintf("Crash %d", c)})
		for s := range k.spaces {
			name := fmt.Sprintf("crash-%d-%d", c, s)
			k.spaces[s] = crashID("Space", name)
			f.Spaces = append(f.Spaces, membership.Space{ID: k.spaces[s], OrganizationID: k.org, Name: name,
				CreatedAt: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)})
		}
		for u := range k.users {
			name := fmt.Sprintf("crash-%d-%d", c, u)
			k.users[u] = crashID("User", name)
			f.Users = append(f.Users, membership.User{ID: k.users[u], AccountID: accountOne, Name: name,
				Email: name + "@example.com", Role: membership.AccountMember})
			if u%2 == 0 {
				f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{
					OrganizationID: k.org, UserID: k.users[u], Role: membership.Predefined(membership.RoleMember)})
			}
		}
		f.SpaceMembers = append(f.SpaceMembers, fixture.SpaceMember{SpaceID: k.spaces[0], UserID: k.users[0],
			Role: membership.Predefined(membership.RoleReadOnly)})
	}
	return f, keys
}

// writeFixture writes f as a fixture document into dir and returns its
// path. The document's organization members carry no id, so they are
// written without one; the file is loaded back as the server will load
// it, so that a document the server would refuse fails here.
func writeFixture(t *testing.T, dir string, f *fixture.Fixture) string {
	t.Helper()
	type organizationMember struct {
		OrganizationID membership.ID             `json:"organization_id"`
		UserID         membership.ID             `json:"user_id"`
		Role           membership.RoleAssignment `json:"role"`
	}
	doc := struct {
		*fixture.Fixture
		OrganizationMembers []organizationMember `json:"organization_members"`
	}{Fixture: f}
	for _, m := range f.OrganizationMembers {
		doc.OrganizationMembers = append(doc.OrganizationMembers, organizationMember{m.OrganizationID, m.UserID, m.Role})
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "crash_fixture.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fixture.Load(path); err != nil {
		t.Fatalf("the crash fixture does not load: %v", err)
	}
	return path
}

// buildServer builds this package's program into dir and returns the
// binary's path: the crash test kills a process, not a goroutine.
func buildServer(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the crash test builds the server with the go command: %v", err)
	}
	bin := filepath.Join(dir, "server")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// withApplicationName returns dsn naming its sessions appName, so that
// pg_stat_activity tells which sessions are the server's.
func withApplicationName(t *testing.T, dsn, appName string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", pgtest.DSNVariable, err)
	}
	q := u.Query()
	q.Set("application_name", appName)
	u.RawQuery = q.Encode()
	return u.String()
}

// uniqueName returns prefix followed by random hex digits.
func uniqueName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// waitForSessionsToEnd waits until the database has no session named
// appName. A killed server's sessions end once PostgreSQL notices, which
// is not at once: a session busy with a statement finishes it first, and
// one whose COMMIT had arrived commits. Restarting only after that keeps a
// dead server's last commit from landing after the new server's first
// writes, where no client could order it.
func waitForSessionsToEnd(t *testing.T, appName string) {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, appName).Scan(&n); err != nil {
			t.Fatalf("counting the killed server's sessions: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed server still has %d sessions after a minute", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serverProcess is a run of the server binary.
type serverProcess struct {
	cmd  *exec.Cmd
	addr string
	// startup holds the log records before "listening".
	startup []map[string]any
	// logEnded is closed once the process's log has ended.
	logEnded chan struct{}
}

// startServerProcess starts bin with args plus JSON logs and no decision
// records, and waits until it listens. The process is killed when t ends,
// if it still runs.
func startServerProcess(t *testing.T, bin string, args ...string) *serverProcess {
	t.Helper()
	cmd := exec.Command(bin, append(args, "-log-format", "json", "-audit=false")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, logEnded: make(chan struct{})}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.logEnded
			cmd.Wait()
		}
	})
	records := make(chan map[string]any, 64)
	go readLog(stderr, records)
	timeout := time.After(time.Minute)
	for p.addr == "" {
		select {
		case rec, ok := <-records:
			if !ok {
				close(p.logEnded)
				t.Fatalf("the server stopped before listening: %v; its log: %v", cmd.Wait(), p.startup)
			}
			if rec["msg"] == "listening" {
				p.addr, _ = rec["addr"].(string)
				break
			}
			p.startup = append(p.startup, rec)
		case <-timeout:
			t.Fatalf("the server did not listen within a minute; its log: %v", p.startup)
		}
	}
	// The server blocks once its log is not read: drain it.
	go func() {
		defer close(p.logEnded)
		for range records {
		}
	}()
	return p
}

// readLog sends every record of a JSON log to records, and closes it at
// the log's end.
func readLog(r io.Reader, records chan<- map[string]any) {
	defer close(records)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			rec = map[string]any{"unparsed": sc.Text()}
		}
		records <- rec
	}
}

// startupRecord reports whether the server logged a record with message
// msg before it listened.
func (p *serverProcess) startupRecord(msg string) bool {
	for _, rec := range p.startup {
		if rec["msg"] == msg {
			return true
		}
	}
	return false
}

// kill kills the server with SIGKILL, which it cannot catch, and checks
// that the signal is what ended it.
func (p *serverProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	<-p.logEnded
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the server ended with %v, want killed by SIGKILL", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the server ended with %v, want killed by SIGKILL", err)
	}
}

// stop stops the server gracefully with SIGTERM and checks that it
// exited cleanly.
func (p *serverProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	<-p.logEnded
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("the server after SIGTERM: %v", err)
	}
}

// crashKind is a kind of request of the crash run's clients.
type crashKind int

const (
	crashSpaceAdd crashKind = iota
	crashSpaceRemove
	crashOrgAdd
	crashOrgRemove
)

func (k crashKind) String() string {
	return [...]string{"space add", "space remove", "organization add", "organization remove"}[k]
}

// crashRoles are the roles the clients' adds ask for: each predefined role
// but ANNOTATOR, which the users' account role forbids, and a custom one.
var crashRoles = []membership.RoleAssignment{
	membership.Predefined(membership.RoleAdmin),
	membership.Predefined(membership.RoleMember),
	membership.Predefined(membership.RoleReadOnly),
	membership.Custom(roleReviewer),
}

// crashOp is one request of a client: a kind, on one of its users (and
// one of its spaces, for a space operation), sent with key. Every request
// by keyAdmin (Ada, the account ADMIN) is decided by the state of the
// client's records alone; a request with another key is foreign: its
// caller may change none of the client's records.
type crashOp struct {
	kind  crashKind
	space int
	user  int
	role  membership.RoleAssignment
	key   string
}

func (op crashOp) foreign() bool { return op.key != keyAdmin }

func (op crashOp) String() string {
	s := fmt.Sprintf("%s of user %d", op.kind, op.user)
	if op.kind == crashSpaceAdd || op.kind == crashSpaceRemove {
		s += fmt.Sprintf(" in space %d", op.space)
	}
	if op.kind == crashSpaceAdd || op.kind == crashOrgAdd {
		s += " as " + op.role.String()
	}
	return s + " with " + op.key
}

// request returns the method, path and body of op on the records of k.
func (op crashOp) request(k crashKeys) (method, path, body string) {
	user := string(k.users[op.user])
	switch op.kind {
	case crashSpaceAdd:
		return http.MethodPost, usersPath(string(k.spaces[op.space])), roleBody(user, op.role)
	case crashSpaceRemove:
		return http.MethodDelete, userPath(string(k.spaces[op.space]), user), ""
	case crashOrgAdd:
		return http.MethodPost, orgUsersPath(string(k.org)), roleBody(user, op.role)
	default:
		return http.MethodDelete, orgUserPath(string(k.org), user), ""
	}
}

func roleBody(user string, r membership.RoleAssignment) string {
	if r.Kind == membership.RoleKindCustom {
		return customBody(user, "CUSTOM", string(r.ID))
	}
	return predefinedBody(user, "PREDEFINED", r.Name.String())
}

// crashOutcome is what a client learnt of one request.
type crashOutcome int

const (
	// crashAcknowledged: a 2xx answer; the change happened.
	crashAcknowledged crashOutcome = iota
	// crashRefused: a 4xx answer; nothing changed.
	crashRefused
	// crashNotSent: the connection could not be made, so the server
	// never saw the request; nothing changed.
	crashNotSent
	// crashUnknown: a 5xx answer, or the connection failed after the
	// request went out; the change happened wholly or not at all.
	crashUnknown
)

func (o crashOutcome) String() string {
	return [...]string{"acknowledged", "refused", "not sent", "unknown"}[o]
}

// crashResult is one request of a client and what it got.
type crashResult struct {
	op      crashOp
	outcome crashOutcome
	status  int
	code    membership.Code
	err     error
	// phase counts the kills before the request was sent.
	phase int
}

func (r crashResult) String() string {
	switch {
	case r.err != nil:
		return fmt.Sprintf("%s: %s (%v)", r.op, r.outcome, r.err)
	case r.code != "":
		return fmt.Sprintf("%s: %s (%d %s)", r.op, r.outcome, r.status, r.code)
	}
	return fmt.Sprintf("%s: %s (%d)", r.op, r.outcome, r.status)
}

// crashClient is one client of the run: it sends random requests on its
// own records, one at a time, and records each with its outcome.
type crashClient struct {
	keys    crashKeys
	base    string // http://host:port
	rng     *mathrand.Rand
	http    *http.Client
	results []crashResult
}

func newCrashClient(keys crashKeys, addr string, seed uint64) *crashClient {
	return &crashClient{
		keys: keys,
		base: "http://" + addr,
		rng:  mathrand.New(mathrand.NewPCG(seed, 0)),
		// A fresh connection for every request: a request that fails to
		// connect was surely not sent, and none goes out on a connection
		// of a server that has been killed.
		http: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

// run sends requests until stop is closed, counting the acknowledged ones
// in acknowledged and stamping each with the current phase.
func (c *crashClient) run(stop <-chan struct{}, acknowledged *atomic.Int64, phase *atomic.Int32) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		op := c.nextOp()
		p := int(phase.Load())
		r := c.send(op)
		r.phase = p
		c.results = append(c.results, r)
		switch r.outcome {
		case crashAcknowledged:
			acknowledged.Add(1)
		case crashNotSent:
			// The server is down: wait a little rather than spin.
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// nextOp draws the next request. Most are Ada's, who may make every
// change the state allows; a few are foreign, by a member of another
// organization (Barbara) or the other account's ADMIN (Eve).
func (c *crashClient) nextOp() crashOp {
	op := crashOp{
		space: c.rng.IntN(crashSpaces),
		user:  c.rng.IntN(crashUsers),
		role:  crashRoles[c.rng.IntN(len(crashRoles))],
		key:   keyAdmin,
	}
	switch n := c.rng.IntN(100); {
	case n < 38:
		op.kind = crashSpaceAdd
	case n < 58:
		op.kind = crashSpaceRemove
	case n < 78:
		op.kind = crashOrgAdd
	default:
		op.kind = crashOrgRemove
	}
	if c.rng.IntN(10) == 0 {
		op.key = []string{keyMember, keyOther}[c.rng.IntN(2)]
	}
	return op
}

// send sends op and classifies what it got.
func (c *crashClient) send(op crashOp) crashResult {
	method, path, body := op.request(c.keys)
	// Bounds a request that hangs; a killed server resets its connections
	// at once.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, strings.NewReader(body))
	if err != nil {
		return crashResult{op: op, outcome: crashNotSent, err: err}
	}
	req.Header.Set("Authorization", "Bearer "+op.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if isDialError(err) {
			return crashResult{op: op, outcome: crashNotSent, err: err}
		}
		return crashResult{op: op, outcome: crashUnknown, err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		// The status came, but a refusal's error_code did not.
		return crashResult{op: op, outcome: crashUnknown, status: resp.StatusCode, err: err}
	}
	r := crashResult{op: op, status: resp.StatusCode}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		r.outcome = crashAcknowledged
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		r.outcome = crashRefused
		var problem struct {
			Code membership.Code `json:"error_code"`
		}
		if err := json.Unmarshal(raw, &problem); err != nil {
			r.err = fmt.Errorf("a refusal that is no problem document: %v: %s", err, raw)
		}
		r.code = problem.Code
	default:
		r.outcome = crashUnknown
	}
	return r
}

// isDialError reports whether err is a failure to connect: the request
// was not sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
