package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/membership"
)

// TestChangelogReaderMissesNothing runs writers of one account against a
// reader that walks the changelog as a client does, resuming after the last
// position it saw. Positions must follow commit order: had an entry
// committed after the reader passed its position, the reader would never
// see it. At the end the reader has seen every entry exactly once, in
// position order, as a full read then holds them, and every entry a write
// returned.
func TestChangelogReaderMissesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedWorld(t, s)
	const writers, writes = 4, 25
	roles := []membership.RoleAssignment{membership.Predefined(membership.RoleMember), membership.Predefined(membership.RoleReadOnly)}

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		written = map[membership.ID]membership.AuditEntry{}
		done    atomic.Bool
	)
	for n := range writers {
		wg.Go(func() {
			for i := range writes {
				// Each writer changes two users of its own, so that every
				// write changes a role and none waits on another's row.
				user := w.members[2*n+i%2]
				q := membership.Query{Operation: membership.OperationAdd, Actor: w.actor.ID, SpaceID: w.space.ID, UserID: user}
				wr, err := writeChange(ctx, s, q, membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: roles[i/2%2]})
				if err != nil {
					t.Errorf("writer %d: %v", n, err)
					return
				}
				mu.Lock()
				written[wr.Entry.ID] = wr.Entry
				mu.Unlock()
			}
		})
	}
	var (
		seen    []membership.AuditEntry
		readErr error
	)
	reader := make(chan struct{})
	go func() {
		defer close(reader)
		var after int64
		for last := false; !last; {
			last = done.Load() // one more walk after the writers are done
			for {
				page, err := s.AuditLog(ctx, membership.AuditQuery{Actor: w.actor.ID, Ascending: true, After: after, Limit: 7})
				if err != nil {
					readErr = err
					return
				}
				for _, e := range page.Entries {
					if e.Position <= after {
						readErr = fmt.Errorf("position %d after %d", e.Position, after)
						return
					}
					after = e.Position
				}
				seen = append(seen, page.Entries...)
				if !page.More {
					break
				}
			}
		}
	}()
	wg.Wait()
	done.Store(true)
	<-reader
	if readErr != nil {
		t.Fatalf("the reader: %v", readErr)
	}
	all := changelog(t, s, w.actor.ID)
	if diff := cmp.Diff(all, seen); diff != "" {
		t.Errorf("the walk is not the changelog (-full read +walked):\n%s", diff)
	}
	if len(written) != writers*writes {
		t.Errorf("the writes returned %d entries, want %d", len(written), writers*writes)
	}
	for _, e := range all {
		if want, ok := written[e.ID]; ok && !cmp.Equal(want, e) {
			t.Errorf("the log holds %+v, the write returned %+v", e, want)
		}
		delete(written, e.ID)
	}
	if len(written) > 0 {
		t.Errorf("%d entries that writes returned are not in the log", len(written))
	}
}

// TestAuditEntryWaitsForItsAccountsCommits holds the advisory lock of an
// account, as a writer of the account does from its entry's statement to
// its commit. A write of the account waits at its entry's statement, after
// its change; a write of another account does not wait. A write whose
// entry's statement fails there, after its change (the server cancels it),
// leaves neither its change nor its entry.
func TestAuditEntryWaitsForItsAccountsCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedWorld(t, s)
	other := otherAccount(t, s)
	holder, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock(`+accountLockKey("$1")+`)`, string(w.account.ID)); err != nil {
		t.Fatal(err)
	}
	defer holder.Exec(ctx, `SELECT pg_advisory_unlock_all()`)

	if _, err := writeChange(ctx, s, other, membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: other.Role}); err != nil {
		t.Fatalf("a write of another account: %v", err)
	}

	user := w.members[0]
	done := make(chan error, 1)
	go func() {
		_, err := upsert(ctx, s, w.request(user, membership.Predefined(membership.RoleMember)), allow)
		done <- err
	}()
	pid, query := waitForAdvisoryWait(t, s.pool, holder.Conn().PgConn().PID())
	if want := "INSERT INTO audit_entries"; len(query) < len(want) || query[:len(want)] != want {
		t.Errorf("the write waits in %q, want its entry's statement", query)
	}
	select {
	case err := <-done:
		t.Fatalf("the write of the locked account finished while its lock was held: %v", err)
	default:
	}
	if _, err := holder.Exec(ctx, `SELECT pg_cancel_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, membership.ErrUnavailable) {
		t.Errorf("the cancelled write answered %v, want unavailable", err)
	}
	waitForBackendGone(t, s.pool, pid)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatal(err)
	}
	if got := memberIDs(t, s, w.space.ID); len(got) != 0 {
		t.Errorf("the cancelled write left the memberships %v", got)
	}
	if log := changelog(t, s, w.actor.ID); len(log) != 0 {
		t.Errorf("the cancelled write left the entries %+v", log)
	}
}

// waitForAdvisoryWait waits until a backend waits for an advisory lock that
// the backend holder holds, and returns its process id and query.
func waitForAdvisoryWait(t *testing.T, pool *pgxpool.Pool, holder uint32) (uint32, string) {
	t.Helper()
	for range 2000 {
		var (
			pid   uint32
			query string
		)
		err := pool.QueryRow(context.Background(), `SELECT a.pid, a.query FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND NOT l.granted AND $1::int = ANY (pg_blocking_pids(l.pid)) LIMIT 1`, holder).Scan(&pid, &query)
		if err == nil {
			return pid, query
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no backend waits for an advisory lock")
	return 0, ""
}

// waitForBackendGone waits until the backend pid has ended its
// transaction or gone. The pool may hand the query that asks the backend
// itself, once it is free.
func waitForBackendGone(t *testing.T, pool *pgxpool.Pool, pid uint32) {
	t.Helper()
	for range 2000 {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`, pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("backend %d is still in its transaction", pid)
}

// TestLostConnectionKeepsChangeAndEntryTogether cuts the connection of a
// write in its second round trip, the one that makes the change, writes
// the entry and commits, before the server gets it or after it answered:
// the change and its entry are then both there (the answer was lost after
// the commit) or both absent, never one without the other.
func TestLostConnectionKeepsChangeAndEntryTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := newSchema(t)
	observer := newPool(t, cfg.Copy())
	p := newProxy(t)
	cfg.MaxConns = 1
	network, addr := pgconn.NetworkAddress(cfg.ConnConfig.Host, cfg.ConnConfig.Port)
	cfg.ConnConfig.DialFunc = p.dial(cfg.ConnConfig.DialFunc, network, addr)
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool := newPool(t, cfg)
	s := migratedStore(t, pool)
	w := seedWorld(t, s)
	spaces := seedSpaces(t, s, w, 2)
	observed, err := New(observer)
	if err != nil {
		t.Fatal(err)
	}

	type operation struct {
		name string
		// setup prepares user for the operation, which then changes a
		// membership.
		setup func(t *testing.T, user membership.ID)
		run   func(user membership.ID) (membership.Written, error)
		// changed reads whether the operation's change is in the database.
		changed func(t *testing.T, user membership.ID) bool
	}
	inSpace := func(t *testing.T, user membership.ID) bool {
		_, ok := memberIDs(t, observed, w.space.ID)[user]
		return ok
	}
	ops := []operation{{
		name:  "add",
		setup: func(*testing.T, membership.ID) {},
		run: func(user membership.ID) (membership.Written, error) {
			q := membership.Query{Operation: membership.OperationAdd, Actor: w.actor.ID, SpaceID: w.space.ID, UserID: user}
			return writeChange(ctx, s, q, membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: membership.Predefined(membership.RoleMember)})
		},
		changed: inSpace,
	}, {
		name: "organization remove with a cascade",
		setup: func(t *testing.T, user membership.ID) {
			for _, sp := range spaces {
				if _, err := s.PutSpaceMember(ctx, sp, user, membership.Predefined(membership.RoleMember)); err != nil {
					t.Fatal(err)
				}
			}
		},
		run: func(user membership.ID) (membership.Written, error) {
			q := membership.Query{Operation: membership.OperationOrgRemove, Actor: w.actor.ID, OrganizationID: w.org.ID, UserID: user}
			return writeChange(ctx, s, q, membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade})
		},
		changed: func(t *testing.T, user membership.ID) bool {
			facts, _, err := observed.Read(ctx, membership.Query{Operation: membership.OperationOrgRemove, Actor: w.actor.ID, OrganizationID: w.org.ID, UserID: user})
			if err != nil {
				t.Fatal(err)
			}
			return facts.TargetOrganizationMember == nil
		},
	}}

	n := 0
	fresh := func(t *testing.T) membership.ID {
		n++
		return addMember(t, s, w, fmt.Sprintf("cut%d", n))
	}
	for _, op := range ops {
		for _, dir := range []direction{request, response} {
			t.Run(op.name+"/"+dir.String(), func(t *testing.T) {
				// The same operation on another user first, so that the
				// connection has prepared its statements and the second
				// round trip is the change's.
				spare, user := fresh(t), fresh(t)
				op.setup(t, spare)
				op.setup(t, user)
				if _, err := op.run(spare); err != nil {
					t.Fatalf("warming up: %v", err)
				}
				pid := backend(t, pool)
				before := changelog(t, observed, w.actor.ID)

				p.arm(2, dir)
				_, err := op.run(user)
				if _, cuts := p.counts(); cuts != 1 {
					t.Fatalf("the proxy cut %d times, want once: %v", cuts, err)
				}
				if !errors.Is(err, membership.ErrUnavailable) {
					t.Errorf("a lost connection answered %v, want unavailable", err)
				}
				waitForBackendExit(t, observer, pid)

				after := changelog(t, observed, w.actor.ID)
				added := after[len(before):]
				changed := op.changed(t, user)
				switch {
				case changed && (len(added) != 1 || added[0].UserID != user):
					t.Errorf("the change committed with the entries %+v, want its one entry", added)
				case !changed && len(added) != 0:
					t.Errorf("the change did not commit, and the entries %+v did", added)
				case dir == request && changed:
					t.Error("a cut before the server got the round trip committed the change")
				}
			})
		}
	}
}
