package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/internal/faultstore/faulttest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

// direction is which way the bytes a proxy cuts were going.
type direction uint8

const (
	request  direction = iota + 1 // from pgx to the server: the server never sees them
	response                      // from the server to pgx: the server did the work
)

func (d direction) String() string {
	if d == request {
		return "request"
	}
	return "response"
}

// proxy stands between pgx and PostgreSQL on loopback TCP and forwards
// bytes both ways, counting round trips as TestRoundTrips does (bytes from
// pgx after bytes from the server start a new one). Armed, it cuts the
// connection, both ways and without a word, when the bytes of the chosen
// round trip and direction arrive: the first of them are dropped. That is
// what pgx sees of a network that fails or a server that goes away.
type proxy struct {
	ln     net.Listener
	dialMu sync.Mutex // one dial at a time, so that Accept returns its peer

	mu        sync.Mutex
	trip      int  // round trips since arm
	responded bool // bytes came from the server since the last request
	cutTrip   int  // the round trip to cut; 0 for none
	cutDir    direction
	cuts      int
}

func newProxy(t *testing.T) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback TCP for the proxy: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return &proxy{ln: ln}
}

// dial returns a pgconn.DialFunc that reaches the server at network and
// addr through upstream, via the proxy, whatever address it is asked for:
// pgx sends a cancel request to the address its connection is connected
// to, the proxy's.
func (p *proxy) dial(upstream pgconn.DialFunc, network, addr string) pgconn.DialFunc {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		p.dialMu.Lock()
		defer p.dialMu.Unlock()
		server, err := upstream(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		client, err := d.DialContext(ctx, "tcp", p.ln.Addr().String())
		if err != nil {
			server.Close()
			return nil, err
		}
		middle, err := p.ln.Accept()
		if err != nil {
			server.Close()
			client.Close()
			return nil, err
		}
		go p.pump(middle, server, request)
		go p.pump(server, middle, response)
		return client, nil
	}
}

// pump copies from src to dst until either fails or the proxy cuts them.
func (p *proxy) pump(src, dst net.Conn, dir direction) {
	defer src.Close()
	defer dst.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if p.cut(dir) {
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut counts bytes arriving in dir and reports whether they are the ones
// to cut.
func (p *proxy) cut(dir direction) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if dir == request && p.responded {
		p.trip++
	}
	p.responded = dir == response
	if p.cutTrip == 0 || p.trip != p.cutTrip || dir != p.cutDir {
		return false
	}
	p.cutTrip = 0 // once: the next connection goes through
	p.cuts++
	return true
}

// arm starts counting round trips from the next request, and cuts the
// trip-th in direction dir (none for trip 0).
func (p *proxy) arm(trip int, dir direction) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trip, p.responded, p.cutTrip, p.cutDir, p.cuts = 0, true, trip, dir, 0
}

// counts returns the round trips since arm and how many cuts were made.
func (p *proxy) counts() (trips, cuts int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.trip, p.cuts
}

// TestLostConnection cuts the connection of an add and of a remove at each
// of their round trips (1: BEGIN and the facts; 2: the locks, the write and
// COMMIT), before the server gets the request or after it has answered.
// The answer is 503; the database is as before the operation, or, only for
// an answer lost after COMMIT (an outcome Store.Write documents as
// unknown), fully as after it; and the next requests succeed on a new
// connection.
func TestLostConnection(t *testing.T) {
	t.Parallel()
	cfg := newSchema(t)
	observer := newPool(t, cfg.Copy()) // straight to the server: snapshots, backends
	p := newProxy(t)
	cfg.MaxConns = 1 // the operations share one connection, warmed up before each cut
	network, addr := pgconn.NetworkAddress(cfg.ConnConfig.Host, cfg.ConnConfig.Port)
	cfg.ConnConfig.DialFunc = p.dial(cfg.ConnConfig.DialFunc, network, addr)
	// A ping would be a round trip of its own.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool := newPool(t, cfg)
	s := migratedStore(t, pool)
	w := seedWorld(t, s)
	engine, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := membership.NewService(s, engine)
	if err != nil {
		t.Fatal(err)
	}
	member := membership.Predefined(membership.RoleMember)
	add := func(ctx context.Context, user membership.ID) error {
		_, err := svc.AddUserToSpace(ctx, membership.AddUserRequest{Actor: w.actor.ID, SpaceID: w.space.ID, UserID: user, Role: member})
		return err
	}
	remove := func(ctx context.Context, user membership.ID) error {
		return svc.RemoveUserFromSpace(ctx, membership.RemoveUserRequest{Actor: w.actor.ID, SpaceID: w.space.ID, UserID: user})
	}
	spare := w.members[len(w.members)-1]

	type operation struct {
		name string
		ok   string // the status of its success
		// setup makes the operation on user one that changes the
		// database: a remove needs a membership.
		setup func(t *testing.T, user membership.ID)
		run   func(ctx context.Context, user membership.ID) error
		// afterwards is the membership of user once the operation took
		// effect, nil for none.
		afterwards func(user membership.ID) *membership.Membership
	}
	ops := []operation{
		{
			name:  "add",
			ok:    "200",
			setup: func(*testing.T, membership.ID) {},
			run:   add,
			afterwards: func(user membership.ID) *membership.Membership {
				return &membership.Membership{UserID: user, SpaceID: w.space.ID, Role: member}
			},
		},
		{
			name: "remove",
			ok:   "204",
			setup: func(t *testing.T, user membership.ID) {
				if _, err := s.PutSpaceMember(context.Background(), w.space.ID, user, member); err != nil {
					t.Fatal(err)
				}
			},
			run:        remove,
			afterwards: func(membership.ID) *membership.Membership { return nil },
		},
	}

	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "operation\tcut\tanswer\tdatabase\tnext requests")
	users := w.members[:len(w.members)-1]
	for _, op := range ops {
		for _, c := range []struct {
			trip int // 0: no cut, the control
			dir  direction
		}{{0, 0}, {1, request}, {1, response}, {2, request}, {2, response}} {
			name := "no cut"
			if c.trip > 0 {
				name = fmt.Sprintf("round trip %d %v", c.trip, c.dir)
			}
			user := users[0]
			users = users[1:]
			row := fmt.Sprintf("%s\t%s\t(failed)\t\t", op.name, name)
			t.Run(op.name+"/"+name, func(t *testing.T) {
				op.setup(t, user)
				// Warm the connection up with the same statements, so
				// that the operation takes its two round trips and no
				// more (pgx prepares a statement on its first use on a
				// connection).
				ctx := context.Background()
				if err := add(ctx, spare); err != nil {
					t.Fatalf("warming up: %v", err)
				}
				if err := remove(ctx, spare); err != nil {
					t.Fatalf("warming up: %v", err)
				}
				pid := backend(t, pool)
				before := dumpTables(t, observer)

				p.arm(c.trip, c.dir)
				opCtx, cancel := context.WithTimeout(ctx, time.Minute) // a bound, should pgx hang
				err := op.run(opCtx, user)
				cancel()
				cutErr := err // the answer to the operation that was cut
				trips, cuts := p.counts()

				if c.trip == 0 {
					if err != nil {
						t.Fatalf("with no cut, %s answered %v", op.name, err)
					}
					if trips != 2 {
						t.Errorf("with no cut, %s took %d round trips, want 2 (was the connection warm?)", op.name, trips)
					}
					row = fmt.Sprintf("%s\t%s\t%s\tafter\t", op.name, name, op.ok)
					return
				}
				if cuts != 1 {
					t.Fatalf("the proxy cut %d times, want once (the operation took %d round trips): %v", cuts, trips, err)
				}
				var e *membership.Error
				if !errors.As(err, &e) || !errors.Is(err, membership.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("a lost connection answered %v, want 503 unavailable", err)
				}
				// Round trip 1 reads the facts, 2 writes: the error says
				// which, so the cut was where it was meant to be.
				if where := [...]string{1: "reading the facts", 2: "writing the membership"}[c.trip]; err == nil || !strings.Contains(err.Error(), where) {
					t.Errorf("a cut in round trip %d answered %v, want an error while %s", c.trip, err, where)
				}

				// The server settles the transaction (a rollback, or
				// the COMMIT it had already run) when its backend sees
				// the connection gone.
				waitForBackendExit(t, observer, pid)
				after := dumpTables(t, observer)
				state := "before"
				if diff := cmp.Diff(before, after); diff != "" {
					state = "after"
					if c.trip != 2 || c.dir != response {
						t.Errorf("a cut in %s changed the database (-before +after):\n%s", name, diff)
					}
					checkFullyAfter(t, before, after, user, op.afterwards(user))
				}

				// The proxy lets traffic through again: the next
				// requests dial a new connection and succeed.
				next := "list 200"
				if _, err := svc.ListSpaceMembers(ctx, membership.ListMembersRequest{Actor: w.actor.ID, SpaceID: w.space.ID}); err != nil {
					t.Errorf("a list after the cut answered %v", err)
					next = "list " + faulttest.Describe(err)
				}
				err = op.run(ctx, user)
				switch {
				case op.name == "remove" && state == "after":
					// The remove went through: removing again is 404.
					if !errors.Is(err, membership.ErrMembershipNotFound) {
						t.Errorf("removing again after a remove that committed answered %v, want 404 membership_not_found", err)
					}
				case err != nil:
					t.Errorf("%s again after the cut answered %v", op.name, err)
				}
				again := op.ok
				if err != nil {
					again = faulttest.Describe(err)
				}
				next += ", " + op.name + " again " + again
				row = fmt.Sprintf("%s\t%s\t%s\t%s\t%s", op.name, name, faulttest.Describe(cutErr), state, next)
			})
			fmt.Fprintln(tw, row)
		}
	}
	tw.Flush()
	t.Logf("lost connections:\n%s", table.String())
}

// backend returns the process id of the server backend behind the pool's
// one connection. Acquiring it sends nothing (no ping).
func backend(t *testing.T, pool *pgxpool.Pool) uint32 {
	t.Helper()
	c, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	return c.Conn().PgConn().PID()
}

// waitForBackendExit waits until the backend pid has gone, and with it
// its transaction, committed or rolled back.
func waitForBackendExit(t *testing.T, observer *pgxpool.Pool, pid uint32) {
	t.Helper()
	for range 2000 {
		var n int
		if err := observer.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("backend %d is still there after its connection was cut", pid)
}

// checkFullyAfter checks that after is before with the operation applied
// whole: every table unchanged but space_members, and there only the
// membership of user, now want (nil for none).
func checkFullyAfter(t *testing.T, before, after map[string][]string, user membership.ID, want *membership.Membership) {
	t.Helper()
	type row struct {
		ID             string  `json:"id"`
		SpaceID        string  `json:"space_id"`
		UserID         string  `json:"user_id"`
		PredefinedRole *string `json:"predefined_role"`
		CustomRoleID   *string `json:"custom_role_id"`
	}
	members := func(dump map[string][]string) map[string]row {
		rows := map[string]row{}
		for _, text := range dump["space_members"] {
			var r row
			if err := json.Unmarshal([]byte(text), &r); err != nil {
				t.Fatal(err)
			}
			rows[r.SpaceID+" "+r.UserID] = r
		}
		return rows
	}
	ignoreMembers := cmp.FilterPath(func(p cmp.Path) bool {
		mi, ok := p.Last().(cmp.MapIndex)
		// The audit log's half is TestLostConnectionKeepsChangeAndEntryTogether's.
		return ok && (mi.Key().String() == "space_members" || strings.HasPrefix(mi.Key().String(), "audit_"))
	}, cmp.Ignore())
	if diff := cmp.Diff(before, after, ignoreMembers); diff != "" {
		t.Errorf("tables besides space_members changed (-before +after):\n%s", diff)
	}
	wantRows, gotRows := members(before), members(after)
	for key, r := range wantRows {
		if r.UserID == string(user) {
			delete(wantRows, key)
		}
	}
	if want != nil {
		role := "MEMBER" // the operations here give the predefined MEMBER role
		r := row{SpaceID: string(want.SpaceID), UserID: string(want.UserID), PredefinedRole: &role}
		if got, ok := gotRows[r.SpaceID+" "+r.UserID]; ok {
			r.ID = got.ID // new, so any
		}
		wantRows[r.SpaceID+" "+r.UserID] = r
	}
	if diff := cmp.Diff(wantRows, gotRows); diff != "" {
		t.Errorf("space_members is not the operation applied whole (-want +got):\n%s", diff)
	}
}
