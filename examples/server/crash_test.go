package main

import (
	"context"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/internal/auditreplay"
	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/pgstore"
)

// The shape of the crash run.
const (
	// crashKills is how many times the server is killed; it is restarted
	// after each.
	crashKills = 3
	// A phase of writes lasts from crashPhaseMin to crashPhaseMax, and at
	// least until crashPhaseWrites requests of the phase were
	// acknowledged, so that every kill lands among writes and every
	// restarted server is seen to write.
	crashPhaseMin    = 150 * time.Millisecond
	crashPhaseMax    = 450 * time.Millisecond
	crashPhaseWrites = 30
)

// TestCrashRestartKeepsEveryAcknowledgedChange runs the server binary on
// PostgreSQL while crashClients clients write, kills it with SIGKILL
// crashKills times, restarting it on the same schema after each kill (the
// default -seed finds the fixture there and writes nothing), then stops it
// and reads the database through pgstore. Each client owns an
// organization, its spaces and its users, and sends one request at a time:
// space adds (with varying roles), space removes, organization adds and
// organization removes (cascades), mostly as the account ADMIN, a few with
// keys that may not touch its records. What each request got is recorded:
// acknowledged (2xx), refused (4xx), not sent (no connection) or unknown
// (5xx, or a connection that broke after the request went out). Then:
//
//   - for every client, one history explains both its answers and the
//     database: applying its acknowledged requests in order, and each
//     unknown one wholly or not at all, gives exactly the final state of
//     its records, every answer is the one its state at that point called
//     for, and the changelog of its records is exactly the entries of the
//     requests applied that changed something (operation, space or
//     organization, user, role before and after, the memberships a cascade
//     removed, the request's client address and body), in their order: no
//     acknowledged change lost its entry, no refused request has one;
//   - every entry is Ada's, of her account, with its own id and a position
//     after the one before: seeding writes none;
//   - the whole changelog, replayed from the fixture (auditreplay.Check),
//     gives the memberships the store holds;
//   - the library's changelog (Service.Changes) walks the same entries,
//     and the other account has none.
func TestCrashRestartKeepsEveryAcknowledgedChange(t *testing.T) {
	// Registered first, so that the schema is dropped after every server
	// process has ended.
	dsn := pgtest.Schema(t, "server_crash")
	dir := t.TempDir()
	bin := buildServer(t, dir)
	f, keys := crashFixture()
	fixturePath := writeFixture(t, dir, f)
	appName := uniqueName("spaceauthz_crash_")
	serverDSN := withApplicationName(t, dsn, appName)
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := mathrand.New(mathrand.NewPCG(seed, 1))

	srv := startServerProcess(t, bin, "-addr", "127.0.0.1:0", "-store", serverDSN, "-fixture", fixturePath)
	if !srv.startupRecord("seeded the store") {
		t.Fatalf("the first start did not seed the empty schema; its log: %v", srv.startup)
	}
	// Restarts listen where the first start did, as a restarted service
	// does: the clients keep their address.
	addr := srv.addr

	var (
		acknowledged atomic.Int64
		phase        atomic.Int32
		wg           sync.WaitGroup
		stop         = make(chan struct{})
	)
	clients := make([]*crashClient, len(keys))
	for i := range clients {
		clients[i] = newCrashClient(keys[i], addr, rng.Uint64())
		wg.Go(func() { clients[i].run(stop, &acknowledged, &phase) })
	}
	stopClients := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopClients)

	for kill := range crashKills {
		waitForWrites(t, &acknowledged, crashPhaseMin+time.Duration(rng.Int64N(int64(crashPhaseMax-crashPhaseMin))))
		srv.kill(t)
		phase.Store(int32(kill + 1))
		waitForSessionsToEnd(t, appName)
		srv = startServerProcess(t, bin, "-addr", addr, "-store", serverDSN, "-fixture", fixturePath)
		if !srv.startupRecord("seeding skipped") || srv.startupRecord("seeded the store") {
			t.Fatalf("restart %d did not leave the schema's data alone; its log: %v", kill+1, srv.startup)
		}
	}
	waitForWrites(t, &acknowledged, crashPhaseMin)
	stopClients()
	srv.stop(t)

	ctx := t.Context()
	store, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	entries := readChangelog(t, ctx, store, userAda)
	checkChangelogEntries(t, entries)
	checkLibraryChangelog(t, ctx, store, entries)
	if other := readChangelog(t, ctx, store, userEve); len(other) != 0 {
		t.Errorf("the other account's changelog holds %d entries, want none: no request of the run could change it", len(other))
	}
	perClient := entriesByClient(t, keys, entries)
	for i, c := range clients {
		checkClientHistory(t, i, c, perClient[i], stateOf(f, c.keys), readState(t, ctx, store, c.keys))
	}
	auditreplay.Check(t, ctx, store, f)
	logCrashCounts(t, clients, len(entries))
}

// waitForWrites lets the clients write for d, and then until
// crashPhaseWrites more of their requests have been acknowledged.
func waitForWrites(t *testing.T, acknowledged *atomic.Int64, d time.Duration) {
	t.Helper()
	start := acknowledged.Load()
	time.Sleep(d)
	deadline := time.Now().Add(time.Minute)
	for acknowledged.Load()-start < crashPhaseWrites {
		if time.Now().After(deadline) {
			t.Fatalf("the clients had %d requests acknowledged in a minute, want %d", acknowledged.Load()-start, crashPhaseWrites)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readChangelog returns the changelog of actor's account, read from the
// store in commit order a page at a time.
func readChangelog(t *testing.T, ctx context.Context, store membership.Store, actor membership.ID) []membership.AuditEntry {
	t.Helper()
	var (
		all   []membership.AuditEntry
		after int64
	)
	for {
		page, err := store.AuditLog(ctx, membership.AuditQuery{Actor: actor, Ascending: true, After: after, Limit: 100})
		if err != nil {
			t.Fatalf("reading the changelog: %v", err)
		}
		if page.Actor == nil || page.Actor.ID != actor {
			t.Fatalf("reading the changelog as %s: the page's actor is %v", actor, page.Actor)
		}
		all = append(all, page.Entries...)
		if !page.More {
			return all
		}
		if len(page.Entries) == 0 {
			t.Fatal("a changelog page with more to come holds no entry")
		}
		after = page.Entries[len(page.Entries)-1].Position
	}
}

// checkChangelogEntries checks what every entry of the run must hold:
// its own id, the account, a position after the one before, a commit time,
// and Ada as the actor, since nobody else may change anything.
func checkChangelogEntries(t *testing.T, entries []membership.AuditEntry) {
	t.Helper()
	ids := map[membership.ID]bool{}
	for i, e := range entries {
		if !e.ID.Valid() || ids[e.ID] {
			t.Errorf("entry %d: id %q is not a fresh ID", i, e.ID)
		}
		ids[e.ID] = true
		if i > 0 && e.Position <= entries[i-1].Position {
			t.Errorf("entry %d: position %d after %d, want greater", i, e.Position, entries[i-1].Position)
		}
		if e.AccountID != accountOne || e.Time.IsZero() {
			t.Errorf("entry %d: account %s, time %v; want %s and a commit time", i, e.AccountID, e.Time, accountOne)
		}
		if e.Actor != userAda {
			t.Errorf("entry %d (%s of %s in %s%s): actor %s, want %s: only Ada's requests may change anything, and seeding writes no entry",
				i, e.Operation, e.UserID, e.SpaceID, e.OrganizationID, e.Actor, userAda)
		}
	}
}

// checkLibraryChangelog walks the changelog through Service.Changes, as a
// host reads it, and checks that it holds the entries the store does, in
// the same order.
func checkLibraryChangelog(t *testing.T, ctx context.Context, store membership.Store, want []membership.AuditEntry) {
	t.Helper()
	engine, err := sharedEngine()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := membership.NewService(store, engine)
	if err != nil {
		t.Fatal(err)
	}
	var got []membership.ID
	for cursor := ""; ; {
		page, err := svc.Changes(ctx, membership.ChangesRequest{Actor: userAda, Cursor: cursor, Limit: 37})
		if err != nil {
			t.Fatalf("Service.Changes: %v", err)
		}
		for _, e := range page.Entries {
			got = append(got, e.ID)
		}
		if len(page.Entries) == 0 {
			break
		}
		cursor = page.NextCursor
	}
	wantIDs := make([]membership.ID, len(want))
	for i, e := range want {
		wantIDs[i] = e.ID
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("Service.Changes walks %d entries, the store holds %d; they differ:\n%s", len(got), len(wantIDs), cmp.Diff(wantIDs, got))
	}
}

// crashEntry is what an audit entry says of a change, comparable with ==.
// Roles are roleKeys; removed lists a cascade's space memberships as
// "space role", in space id order; ip and body are the request's origin.
type crashEntry struct {
	operation     membership.Operation
	space, org    membership.ID
	user          membership.ID
	before, after string
	removed       string
	actor         membership.ID
	ip, body      string
}

func entryOf(e membership.AuditEntry) crashEntry {
	removed := make([]string, len(e.Removed))
	for i, m := range e.Removed {
		removed[i] = string(m.SpaceID) + " " + roleKey(m.Role)
		if m.UserID != e.UserID {
			removed[i] += " of " + string(m.UserID) // never equal to what a cascade of e.UserID removes
		}
	}
	return crashEntry{operation: e.Operation, space: e.SpaceID, org: e.OrganizationID, user: e.UserID,
		before: roleKey(e.Before), after: roleKey(e.After), removed: strings.Join(removed, ","), actor: e.Actor,
		ip: e.IP, body: e.Body}
}

// roleKey names a role for comparison; "" is none.
func roleKey(r membership.RoleAssignment) string {
	if r == (membership.RoleAssignment{}) {
		return ""
	}
	return r.Canonical().String()
}

// entriesByClient splits the changelog by the client whose records each
// entry changed; an entry of a record no client owns fails the test.
func entriesByClient(t *testing.T, keys []crashKeys, entries []membership.AuditEntry) [][]crashEntry {
	t.Helper()
	owner := map[membership.ID]int{}
	for i, k := range keys {
		owner[k.org] = i
		for _, sp := range k.spaces {
			owner[sp] = i
		}
	}
	perClient := make([][]crashEntry, len(keys))
	for _, e := range entries {
		target := e.SpaceID
		if target == "" {
			target = e.OrganizationID
		}
		i, ok := owner[target]
		if !ok {
			t.Errorf("an entry changed %s, which no client wrote to: %+v", target, e)
			continue
		}
		perClient[i] = append(perClient[i], entryOf(e))
	}
	return perClient
}

// crashState is the state of one client's records: the role of each of
// its users in its organization and in each of its spaces ("" for none).
type crashState struct {
	org   [crashUsers]string
	space [crashSpaces][crashUsers]string
}

// stateOf is the state of k's records that f seeds.
func stateOf(f *fixture.Fixture, k crashKeys) crashState {
	var s crashState
	for _, m := range f.OrganizationMembers {
		if u := slices.Index(k.users[:], m.UserID); u >= 0 && m.OrganizationID == k.org {
			s.org[u] = roleKey(m.Role)
		}
	}
	for _, m := range f.SpaceMembers {
		if sp, u := slices.Index(k.spaces[:], m.SpaceID), slices.Index(k.users[:], m.UserID); sp >= 0 && u >= 0 {
			s.space[sp][u] = roleKey(m.Role)
		}
	}
	return s
}

// readState reads the state of k's records from the store; a member of
// one of k's spaces who is not one of k's users fails the test.
func readState(t *testing.T, ctx context.Context, store membership.Store, k crashKeys) crashState {
	t.Helper()
	var s crashState
	for sp, id := range k.spaces {
		for _, m := range storedMembers(t, store, id) {
			u := slices.Index(k.users[:], m.UserID)
			if u < 0 {
				t.Errorf("space %s holds %s, whom no request of its client names", id, m.UserID)
				continue
			}
			s.space[sp][u] = roleKey(m.Role)
		}
	}
	for u, id := range k.users {
		s.org[u] = storedOrgRole(t, ctx, store, k.org, id)
	}
	return s
}

// storedOrgRole returns the roleKey of user's membership of org as the
// store holds it.
func storedOrgRole(t *testing.T, ctx context.Context, store membership.Store, org, user membership.ID) string {
	t.Helper()
	q := membership.Query{Operation: membership.OperationOrgRemove, Actor: userAda, OrganizationID: org, UserID: user}
	facts, _, err := store.Read(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if facts.TargetOrganizationMember == nil {
		return ""
	}
	return roleKey(facts.TargetOrganizationMember.Role)
}

// crashClientIP is the address the server sees the clients at.
const crashClientIP = "127.0.0.1"

// crashAnswer is the answer a request calls for.
type crashAnswer struct {
	status int
	code   membership.Code
	// anyClientError: a foreign request gets some 4xx; which one depends
	// on rules that are not the crash test's concern.
	anyClientError bool
}

func (a crashAnswer) matches(r crashResult) bool {
	if a.anyClientError {
		return r.status >= 400 && r.status < 500
	}
	return r.status == a.status && r.code == a.code
}

// apply returns the answer op calls for in state s of k's records, the
// entry it writes (nil when it changes nothing) and the state after it.
// Ada may make every change; the rules that can refuse one of hers are the
// organization membership a space add needs and the membership a remove
// removes.
func (s crashState) apply(op crashOp, k crashKeys) (crashAnswer, *crashEntry, crashState) {
	if op.foreign() {
		return crashAnswer{anyClientError: true}, nil, s
	}
	after := s
	role := roleKey(op.role)
	// The clients connect over loopback, and the body of a request is
	// kept as sent.
	_, _, body := op.request(k)
	base := crashEntry{user: k.users[op.user], actor: userAda, ip: crashClientIP, body: body}
	switch op.kind {
	case crashSpaceAdd:
		if s.org[op.user] == "" {
			return crashAnswer{status: http.StatusBadRequest, code: membership.CodeUserNotInOrganization}, nil, s
		}
		before := s.space[op.space][op.user]
		if before == role {
			return crashAnswer{status: http.StatusOK}, nil, s
		}
		after.space[op.space][op.user] = role
		e := base
		e.operation, e.space, e.before, e.after = membership.OperationAdd, k.spaces[op.space], before, role
		return crashAnswer{status: http.StatusOK}, &e, after
	case crashSpaceRemove:
		before := s.space[op.space][op.user]
		if before == "" {
			return crashAnswer{status: http.StatusNotFound, code: membership.CodeMembershipNotFound}, nil, s
		}
		after.space[op.space][op.user] = ""
		e := base
		e.operation, e.space, e.before = membership.OperationRemove, k.spaces[op.space], before
		return crashAnswer{status: http.StatusNoContent}, &e, after
	case crashOrgAdd:
		before := s.org[op.user]
		if before == role {
			return crashAnswer{status: http.StatusOK}, nil, s
		}
		after.org[op.user] = role
		e := base
		e.operation, e.org, e.before, e.after = membership.OperationOrgAdd, k.org, before, role
		return crashAnswer{status: http.StatusOK}, &e, after
	default:
		before := s.org[op.user]
		if before == "" {
			return crashAnswer{status: http.StatusNotFound, code: membership.CodeMembershipNotFound}, nil, s
		}
		after.org[op.user] = ""
		var removed []string
		for sp := range k.spaces {
			if r := s.space[sp][op.user]; r != "" {
				removed = append(removed, string(k.spaces[sp])+" "+r)
				after.space[sp][op.user] = ""
			}
		}
		// " " sorts before every character of an ID: this is space id
		// order.
		slices.Sort(removed)
		e := base
		e.operation, e.org, e.before, e.removed = membership.OperationOrgRemove, k.org, before, strings.Join(removed, ",")
		return crashAnswer{status: http.StatusNoContent}, &e, after
	}
}

// crashWorld is one history a client's requests so far may have had: the
// state of its records, and how many entries of its changelog that
// history wrote.
type crashWorld struct {
	state crashState
	next  int
}

// step returns the worlds that follow w once r is done, given the
// client's changelog: none when r's answer contradicts w, two when r's
// outcome is unknown and it would change something (done wholly, or not
// at all).
func (w crashWorld) step(r crashResult, k crashKeys, entries []crashEntry) []crashWorld {
	answer, entry, after := w.state.apply(r.op, k)
	done := func() (crashWorld, bool) {
		if entry == nil {
			return crashWorld{after, w.next}, true
		}
		if w.next < len(entries) && entries[w.next] == *entry {
			return crashWorld{after, w.next + 1}, true
		}
		return crashWorld{}, false
	}
	switch r.outcome {
	case crashNotSent:
		return []crashWorld{w}
	case crashUnknown:
		if n, ok := done(); ok && n != w {
			return []crashWorld{w, n}
		}
		return []crashWorld{w}
	}
	if !answer.matches(r) {
		return nil
	}
	if r.outcome == crashRefused {
		return []crashWorld{w}
	}
	if n, ok := done(); ok {
		return []crashWorld{n}
	}
	return nil
}

// checkClientHistory checks that some history of client i's requests
// explains every answer it got, its whole changelog and the final state of
// its records.
func checkClientHistory(t *testing.T, i int, c *crashClient, entries []crashEntry, initial, final crashState) {
	t.Helper()
	worlds := map[crashWorld]bool{{state: initial}: true}
	for n, r := range c.results {
		next := map[crashWorld]bool{}
		for w := range worlds {
			for _, w2 := range w.step(r, c.keys, entries) {
				next[w2] = true
			}
		}
		if len(next) == 0 {
			t.Errorf("client %d: no history explains request %d, %v; the histories before it: %s",
				i, n, r, describeWorlds(worlds, entries))
			return
		}
		worlds = next
	}
	for w := range worlds {
		if w.next == len(entries) && w.state == final {
			return
		}
	}
	t.Errorf("client %d: the store holds %+v after %d requests and %d entries; no history of the answers ends there: %s",
		i, final, len(c.results), len(entries), describeWorlds(worlds, entries))
}

// describeWorlds says, for a failure, what each world holds and which
// entry it expects next.
func describeWorlds(worlds map[crashWorld]bool, entries []crashEntry) string {
	var b strings.Builder
	for w := range worlds {
		fmt.Fprintf(&b, "\n  state %+v, %d entries written", w.state, w.next)
		if w.next < len(entries) {
			fmt.Fprintf(&b, ", the next one %+v", entries[w.next])
		}
	}
	return b.String()
}

// logCrashCounts logs what the clients sent and got, phase by phase.
func logCrashCounts(t *testing.T, clients []*crashClient, entries int) {
	t.Helper()
	var total, notSent [crashKills + 1]int
	var outcomes [crashKills + 1][crashUnknown + 1]int
	for _, c := range clients {
		for _, r := range c.results {
			if r.outcome != crashNotSent {
				total[r.phase]++
			} else {
				notSent[r.phase]++
			}
			outcomes[r.phase][r.outcome]++
		}
	}
	var sum [crashUnknown + 1]int
	var sent, undelivered int
	for p := range total {
		t.Logf("phase %d (after %d kills): %d requests sent: %d acknowledged, %d refused, %d unknown; %d not sent (server down)",
			p, p, total[p], outcomes[p][crashAcknowledged], outcomes[p][crashRefused], outcomes[p][crashUnknown], notSent[p])
		sent += total[p]
		undelivered += notSent[p]
		for o := range sum {
			sum[o] += outcomes[p][o]
		}
	}
	t.Logf("in all: %d requests sent: %d acknowledged, %d refused, %d unknown; %d not sent; %d audit entries",
		sent, sum[crashAcknowledged], sum[crashRefused], sum[crashUnknown], undelivered, entries)
}
