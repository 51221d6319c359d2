package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/membership"
)

// roundTrips counts the round trips of the connections it dials, in two
// ways: the requests pgx makes (Query, Exec and SendBatch, seen by its
// tracer interfaces) and the exchanges on the wire (a write after a read
// starts a new one), which also counts what pgx does on its own, such as
// preparing statements.
type roundTrips struct {
	mu       sync.Mutex
	requests int
	wire     int
}

func (r *roundTrips) reset() (requests, wire int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	requests, wire = r.requests, r.wire
	r.requests, r.wire = 0, 0
	return requests, wire
}

func (r *roundTrips) request() {
	r.mu.Lock()
	r.requests++
	r.mu.Unlock()
}

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.request()
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.request()
	return ctx
}

func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// countingConn reports to its roundTrips each write that follows a read.
type countingConn struct {
	net.Conn
	trips   *roundTrips
	reading bool
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.reading = true
	return c.Conn.Read(p)
}

func (c *countingConn) Write(p []byte) (int, error) {
	if c.reading {
		c.trips.mu.Lock()
		c.trips.wire++
		c.trips.mu.Unlock()
		c.reading = false
	}
	return c.Conn.Write(p)
}

// TestRoundTrips counts the round trips of each operation's store calls on
// a connection that has served one before: two for a write, its audit entry
// included, and one for a read, of the audit log too (pgx prepares each statement once per connection, one
// extra round trip the first time).
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	cfg := newSchema(t)
	trips := &roundTrips{}
	cfg.MaxConns = 1 // every operation on the same, warm connection
	cfg.ConnConfig.Tracer = trips
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// The first write of the startup message starts the count.
		return &countingConn{Conn: conn, trips: trips, reading: true}, nil
	}
	// No ping of idle connections: the adds below follow each other
	// closely, but a slow machine must not turn a ping into a round trip.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	s := migratedStore(t, newPool(t, cfg))
	w := seedWorld(t, s)
	ctx := context.Background()
	deny := func(*membership.Facts) error { return errDenied }

	removeQuery := func(user membership.ID) membership.Query {
		return membership.Query{Operation: membership.OperationRemove, Actor: w.actor.ID, SpaceID: w.space.ID, UserID: user}
	}
	remove := func(f *membership.Facts) (membership.Change, error) {
		if f.Existing == nil {
			return membership.Change{}, membership.ErrMembershipNotFound
		}
		return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete}, nil
	}
	page := membership.Query{Operation: membership.OperationList, Actor: w.actor.ID, SpaceID: w.space.ID, Page: &membership.PageQuery{Limit: 50}}
	readLog := func(q membership.AuditQuery) error {
		q.Actor, q.Limit = w.actor.ID, 50
		page, err := s.AuditLog(ctx, q)
		if err == nil && len(page.Entries) == 0 {
			err = errors.New("the audit log is empty")
		}
		return err
	}

	// The cases run twice, on different users: the first pass prepares
	// the statements on the connection, the second is counted.
	for pass, users := range [][]membership.ID{w.members[:3], w.members[3:6]} {
		var entry membership.AuditEntry // of the last write
		upsert := func(ctx context.Context, s *Store, req membership.AddUserRequest, check func(*membership.Facts) error) (membership.Membership, error) {
			q := membership.Query{Operation: membership.OperationAdd, Actor: req.Actor, SpaceID: req.SpaceID, UserID: req.UserID, Role: req.Role}
			w, err := s.Write(ctx, q, func(f *membership.Facts) (membership.Change, error) {
				if err := check(f); err != nil {
					return membership.Change{}, err
				}
				return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: req.Role}, nil
			})
			entry = w.Entry
			return w.Space, err
		}
		for _, tc := range []struct {
			name  string
			max   int  // round trips
			entry bool // whether the write commits an audit entry
			run   func() error
		}{
			{"new membership", 2, true, func() error {
				_, err := upsert(ctx, s, w.request(users[0], membership.Predefined(membership.RoleMember)), allow)
				return err
			}},
			{"role change", 2, true, func() error {
				_, err := upsert(ctx, s, w.request(users[0], membership.Predefined(membership.RoleReadOnly)), allow)
				return err
			}},
			{"unchanged role", 2, false, func() error {
				_, err := upsert(ctx, s, w.request(users[0], membership.Predefined(membership.RoleReadOnly)), allow)
				return err
			}},
			{"custom role", 2, true, func() error {
				_, err := upsert(ctx, s, w.request(users[1], membership.Custom(w.role.ID)), allow)
				return err
			}},
			{"denied add", 2, false, func() error {
				_, err := upsert(ctx, s, w.request(users[2], membership.Predefined(membership.RoleMember)), deny)
				return err
			}},
			{"remove", 2, true, func() error {
				w, err := s.Write(ctx, removeQuery(users[0]), remove)
				entry = w.Entry
				return err
			}},
			{"remove of no membership", 2, false, func() error {
				w, err := s.Write(ctx, removeQuery(users[0]), remove)
				entry = w.Entry
				return err
			}},
			{"a page of the list", 1, false, func() error {
				_, _, err := s.Read(ctx, page)
				return err
			}},
			{"a page of the audit log", 1, false, func() error { return readLog(membership.AuditQuery{}) }},
			{"a page of the audit log by actor", 1, false, func() error { return readLog(membership.AuditQuery{ActorID: w.actor.ID}) }},
			{"a page of the changelog", 1, false, func() error { return readLog(membership.AuditQuery{Ascending: true}) }},
		} {
			trips.reset()
			entry = membership.AuditEntry{}
			if err := tc.run(); err != nil && err != errDenied && err != membership.ErrMembershipNotFound {
				t.Fatalf("%s: %v", tc.name, err)
			}
			requests, wire := trips.reset()
			if wrote := entry.Position > 0; wrote != tc.entry {
				t.Errorf("%s: wrote the audit entry %+v, want one: %v", tc.name, entry, tc.entry)
			}
			if pass == 0 {
				continue
			}
			t.Logf("%s: %d round trips (%d pgx requests)", tc.name, wire, requests)
			if requests > tc.max || wire > tc.max {
				t.Errorf("%s: %d round trips on the wire, %d pgx requests; want at most %d", tc.name, wire, requests, tc.max)
			}
		}
	}

	// The first add on a new connection prepares its statements.
	cfg2 := cfg.Copy()
	cold := migratedStore(t, newPool(t, cfg2))
	trips.reset()
	if _, err := upsert(ctx, cold, w.request(w.members[6], membership.Predefined(membership.RoleMember)), allow); err != nil {
		t.Fatal(err)
	}
	requests, wire := trips.reset()
	t.Logf("first add on a connection, which prepares its statements: %d round trips (%d pgx requests)", wire, requests)
}

// TestOrganizationRoundTrips counts the round trips of organization adds
// and removes: two each, their audit entries included, however many space
// memberships a removal takes with it.
func TestOrganizationRoundTrips(t *testing.T) {
	t.Parallel()
	cfg := newSchema(t)
	trips := &roundTrips{}
	cfg.MaxConns = 1
	cfg.ConnConfig.Tracer = trips
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: conn, trips: trips, reading: true}, nil
	}
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	s := migratedStore(t, newPool(t, cfg))
	w := seedWorld(t, s)
	ctx := context.Background()
	const cascaded = 5
	spaces := seedSpaces(t, s, w, cascaded)

	orgQuery := func(op membership.Operation, user membership.ID, role membership.RoleAssignment) membership.Query {
		return membership.Query{Operation: op, Actor: w.actor.ID, OrganizationID: w.org.ID, UserID: user, Role: role}
	}
	add := func(user membership.ID, role membership.RoleAssignment) (membership.Written, error) {
		return s.Write(ctx, orgQuery(membership.OperationOrgAdd, user, role), func(*membership.Facts) (membership.Change, error) {
			return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangePut, Role: role}, nil
		})
	}
	remove := func(user membership.ID) (membership.Written, error) {
		return s.Write(ctx, orgQuery(membership.OperationOrgRemove, user, membership.RoleAssignment{}), func(f *membership.Facts) (membership.Change, error) {
			if f.TargetOrganizationMember == nil {
				return membership.Change{}, membership.ErrMembershipNotFound
			}
			return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade}, nil
		})
	}

	// As in TestRoundTrips, the first pass prepares the statements.
	for pass, users := range [][]membership.ID{w.members[:3], w.members[3:6]} {
		newcomer, alone, spread := id(fmt.Sprintf("User:newcomer%d", pass)), users[1], users[2]
		if err := s.PutUser(ctx, membership.User{ID: newcomer, AccountID: w.account.ID, Name: "N", Email: "n@example.com", Role: membership.AccountMember}); err != nil {
			t.Fatal(err)
		}
		for _, sp := range spaces {
			if _, err := s.PutSpaceMember(ctx, sp, spread, membership.Predefined(membership.RoleMember)); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name     string
			cascaded int // space memberships the write removes with it
			run      func() (membership.Written, error)
		}{
			{"organization add", 0, func() (membership.Written, error) { return add(newcomer, membership.Predefined(membership.RoleMember)) }},
			{"organization role change", 0, func() (membership.Written, error) {
				return add(newcomer, membership.Predefined(membership.RoleReadOnly))
			}},
			{"organization unchanged role", 0, func() (membership.Written, error) {
				return add(newcomer, membership.Predefined(membership.RoleReadOnly))
			}},
			{"organization add, custom role", 0, func() (membership.Written, error) { return add(newcomer, membership.Custom(w.role.ID)) }},
			{"organization remove, no space memberships", 0, func() (membership.Written, error) { return remove(alone) }},
			{fmt.Sprintf("organization remove, %d space memberships", cascaded), cascaded, func() (membership.Written, error) { return remove(spread) }},
			{"organization remove of no membership", 0, func() (membership.Written, error) { return remove(spread) }},
		} {
			trips.reset()
			written, err := tc.run()
			if err != nil && err != membership.ErrMembershipNotFound {
				t.Fatalf("%s: %v", tc.name, err)
			}
			requests, wire := trips.reset()
			if len(written.Cascaded) != tc.cascaded {
				t.Errorf("%s: cascaded %d space memberships, want %d", tc.name, len(written.Cascaded), tc.cascaded)
			}
			// Every write here but those of the role held and of no
			// membership changes something, and commits its entry in the
			// same two round trips.
			wantEntry := err == nil && !strings.Contains(tc.name, "unchanged")
			if wrote := written.Entry.Position > 0; wrote != wantEntry || len(written.Entry.Removed) != tc.cascaded {
				t.Errorf("%s: wrote the audit entry %+v, want one: %v, removing %d", tc.name, written.Entry, wantEntry, tc.cascaded)
			}
			if pass == 0 {
				continue
			}
			t.Logf("%s: %d round trips (%d pgx requests)", tc.name, wire, requests)
			if requests > 2 || wire > 2 {
				t.Errorf("%s: %d round trips on the wire, %d pgx requests; want at most 2", tc.name, wire, requests)
			}
		}
	}
}
