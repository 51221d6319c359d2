package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership"
)

// changelog reads every entry of the account of actor, in commit order.
func changelog(t testing.TB, s membership.Store, actor membership.ID) []membership.AuditEntry {
	t.Helper()
	page, err := s.AuditLog(context.Background(), membership.AuditQuery{Actor: actor, Ascending: true, Limit: 100_000})
	if err != nil {
		t.Fatalf("reading the changelog: %v", err)
	}
	if page.More {
		t.Fatal("the changelog has more than 100,000 entries")
	}
	return page.Entries
}

// writeChange writes q with a decision that always makes change.
func writeChange(ctx context.Context, s membership.Store, q membership.Query, change membership.Change) (membership.Written, error) {
	return s.Write(ctx, q, func(*membership.Facts) (membership.Change, error) { return change, nil })
}

// addMember makes a new user of the world's account a MEMBER of its
// organization.
func addMember(t testing.TB, s *Store, w *world, name string) membership.ID {
	t.Helper()
	ctx := context.Background()
	u := membership.User{ID: id("User:" + name), AccountID: w.account.ID, Name: name, Email: name + "@example.com", Role: membership.AccountMember}
	if err := s.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: w.org.ID, UserID: u.ID, Role: membership.Predefined(membership.RoleMember)}); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// otherAccount seeds a second account with an organization, a space and an
// organization ADMIN, and returns the query of an add of that ADMIN to the
// space.
func otherAccount(t testing.TB, s *Store) membership.Query {
	t.Helper()
	ctx := context.Background()
	acct, org, sp, admin := id("Account:other"), id("Org:other"), id("Space:other"), id("User:other-admin")
	for _, err := range []error{
		s.PutAccount(ctx, membership.Account{ID: acct}),
		s.PutUser(ctx, membership.User{ID: admin, AccountID: acct, Name: "Olga", Email: "olga@example.org", Role: membership.AccountAdmin}),
		s.PutOrganization(ctx, membership.Organization{ID: org, AccountID: acct, Name: "Other"}),
		s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org, UserID: admin, Role: membership.Predefined(membership.RoleAdmin)}),
		s.PutSpace(ctx, membership.Space{ID: sp, OrganizationID: org, Name: "other"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return membership.Query{Operation: membership.OperationAdd, Actor: admin, SpaceID: sp, UserID: admin, Role: membership.Predefined(membership.RoleMember)}
}

// ignoreCommit leaves out of a comparison what the store fills in when it
// commits.
var ignoreCommit = cmpopts.IgnoreFields(membership.AuditEntry{}, "ID", "Position", "Time")

// TestAuditEntryOfEachChange makes each kind of change, and changes that
// change nothing, one after the other, and checks the entry each writes:
// returned in Written.Entry, exactly as the log then reads it, with the
// roles before and after, the origin, and a cascade's removals in space id
// order.
func TestAuditEntryOfEachChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedWorld(t, s)
	spaces := seedSpaces(t, s, w, 3)
	member, custom := membership.Predefined(membership.RoleMember), membership.Custom(w.role.ID)
	user, leaver, loner := w.members[0], w.members[1], w.members[2]
	removed := make([]membership.Membership, 0, len(spaces))
	for i, sp := range spaces {
		role := member
		if i == 1 {
			role = custom
		}
		m, err := s.PutSpaceMember(ctx, sp, leaver, role)
		if err != nil {
			t.Fatal(err)
		}
		removed = append(removed, m)
	}
	origin := membership.Origin{IP: "203.0.113.7", Body: `{"user_id":"VXNlcjow"}`}
	space := func(op membership.Operation, u membership.ID) membership.Query {
		return membership.Query{Operation: op, Actor: w.actor.ID, SpaceID: w.space.ID, UserID: u}
	}
	org := func(op membership.Operation, u membership.ID) membership.Query {
		return membership.Query{Operation: op, Actor: w.actor.ID, OrganizationID: w.org.ID, UserID: u}
	}
	put := func(level membership.Level, role membership.RoleAssignment) membership.Change {
		return membership.Change{Level: level, Kind: membership.ChangePut, Role: role, Origin: origin}
	}
	entry := func(op membership.Operation, u membership.ID, before, after membership.RoleAssignment) *membership.AuditEntry {
		e := &membership.AuditEntry{AccountID: w.account.ID, Actor: w.actor.ID, IP: origin.IP, Body: origin.Body, Operation: op, UserID: u, Before: before, After: after}
		if op.Level() == membership.LevelSpace {
			e.SpaceID = w.space.ID
		} else {
			e.OrganizationID = w.org.ID
		}
		return e
	}
	orgMember := membership.Predefined(membership.RoleMember)
	cascade := entry(membership.OperationOrgRemove, leaver, orgMember, membership.RoleAssignment{})
	cascade.Removed = removed

	steps := []struct {
		name   string
		query  membership.Query
		change membership.Change
		want   *membership.AuditEntry // nil: no entry
	}{
		{"space add", space(membership.OperationAdd, user), put(membership.LevelSpace, member),
			entry(membership.OperationAdd, user, membership.RoleAssignment{}, member)},
		{"space add of the role held", space(membership.OperationAdd, user), put(membership.LevelSpace, member), nil},
		{"space role change to a custom role", space(membership.OperationAdd, user), put(membership.LevelSpace, custom),
			entry(membership.OperationAdd, user, member, custom)},
		{"a change of nothing", space(membership.OperationAdd, user), membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeNone}, nil},
		{"space remove, without an origin", space(membership.OperationRemove, user), membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete},
			&membership.AuditEntry{AccountID: w.account.ID, Actor: w.actor.ID, Operation: membership.OperationRemove, SpaceID: w.space.ID, UserID: user, Before: custom}},
		{"organization role change", org(membership.OperationOrgAdd, loner), put(membership.LevelOrganization, membership.Predefined(membership.RoleReadOnly)),
			entry(membership.OperationOrgAdd, loner, orgMember, membership.Predefined(membership.RoleReadOnly))},
		{"organization add of the role held", org(membership.OperationOrgAdd, loner), put(membership.LevelOrganization, membership.Predefined(membership.RoleReadOnly)), nil},
		{"organization remove of a lone membership", org(membership.OperationOrgRemove, loner), membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDelete, Origin: origin},
			entry(membership.OperationOrgRemove, loner, membership.Predefined(membership.RoleReadOnly), membership.RoleAssignment{})},
		{"organization remove with a cascade", org(membership.OperationOrgRemove, leaver), membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade, Origin: origin},
			cascade},
		{"organization add of a new member", org(membership.OperationOrgAdd, leaver), put(membership.LevelOrganization, custom),
			entry(membership.OperationOrgAdd, leaver, membership.RoleAssignment{}, custom)},
	}
	// Seeding may have written entries of its own before the steps.
	seeded := changelog(t, s, w.actor.ID)
	var last membership.AuditEntry
	if len(seeded) > 0 {
		last = seeded[len(seeded)-1]
	}
	for _, step := range steps {
		written, err := writeChange(ctx, s, step.query, step.change)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		log := changelog(t, s, w.actor.ID)
		if step.want == nil {
			if !cmp.Equal(written.Entry, membership.AuditEntry{}) {
				t.Errorf("%s wrote the entry %+v, want none", step.name, written.Entry)
			}
			if len(log) == 0 || !cmp.Equal(log[len(log)-1], last) {
				t.Errorf("%s changed the log; its last entry is now %+v", step.name, log[len(log)-1:])
			}
			continue
		}
		if diff := cmp.Diff(*step.want, written.Entry, ignoreCommit); diff != "" {
			t.Errorf("%s: the entry (-want +got):\n%s", step.name, diff)
		}
		if step.change.Kind == membership.ChangeDeleteCascade && !cmp.Equal(written.Entry.Removed, written.Cascaded) {
			t.Errorf("%s: the entry removed %v, the write cascaded %v", step.name, written.Entry.Removed, written.Cascaded)
		}
		e := written.Entry
		switch {
		case !e.ID.Valid() || e.ID == last.ID:
			t.Errorf("%s: the entry's id %q is not a new ID", step.name, e.ID)
		case e.Position <= last.Position:
			t.Errorf("%s: position %d after %d", step.name, e.Position, last.Position)
		case e.Time.IsZero() || e.Time.Location() != time.UTC:
			t.Errorf("%s: the entry's time %v is not a UTC time", step.name, e.Time)
		}
		if len(log) == 0 {
			t.Fatalf("%s: the log is empty", step.name)
		}
		if diff := cmp.Diff(e, log[len(log)-1]); diff != "" {
			t.Errorf("%s: the log's last entry is not the one written (-written +read):\n%s", step.name, diff)
		}
		last = e
	}
	if got := len(changelog(t, s, w.actor.ID)) - len(seeded); got != 7 {
		t.Errorf("the steps wrote %d entries, want 7", got)
	}
}

// TestNoAuditEntryWithoutAChange checks that a write that changes nothing
// in the end writes no entry either: a denied decision, a decision error, a
// change the store refuses and a change the database refuses.
func TestNoAuditEntryWithoutAChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedWorld(t, s)
	stranger := id("User:no-member")
	if err := s.PutUser(ctx, membership.User{ID: stranger, AccountID: w.account.ID, Name: "S", Email: "s@example.com", Role: membership.AccountMember}); err != nil {
		t.Fatal(err)
	}
	errBroken := errors.New("pgstore test: the decision failed")
	add := func(user membership.ID, role membership.RoleAssignment) membership.Query {
		return membership.Query{Operation: membership.OperationAdd, Actor: w.actor.ID, SpaceID: w.space.ID, UserID: user, Role: role}
	}
	for _, tc := range []struct {
		name   string
		query  membership.Query
		decide func(*membership.Facts) (membership.Change, error)
		want   error // nil: any error
	}{
		{"denied", add(w.members[0], membership.Predefined(membership.RoleMember)),
			func(*membership.Facts) (membership.Change, error) {
				return membership.Change{}, membership.ErrForbidden
			}, membership.ErrForbidden},
		{"decision error", add(w.members[0], membership.Predefined(membership.RoleMember)),
			func(*membership.Facts) (membership.Change, error) { return membership.Change{}, errBroken }, errBroken},
		{"target outside the organization", add(stranger, membership.Predefined(membership.RoleMember)),
			func(*membership.Facts) (membership.Change, error) {
				return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: membership.Predefined(membership.RoleMember)}, nil
			}, membership.ErrUserNotInOrganization},
		{"custom role the database refuses", add(w.members[0], membership.Custom(id("Role:none"))),
			func(*membership.Facts) (membership.Change, error) {
				return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: membership.Custom(id("Role:none"))}, nil
			}, nil},
		{"remove of no membership", membership.Query{Operation: membership.OperationRemove, Actor: w.actor.ID, SpaceID: w.space.ID, UserID: w.members[0]},
			func(*membership.Facts) (membership.Change, error) {
				return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete}, nil
			}, membership.ErrMembershipNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			written, err := s.Write(ctx, tc.query, tc.decide)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("the write answered %v, want %v", err, tc.want)
			}
			if !cmp.Equal(written, membership.Written{}) {
				t.Errorf("the write returned %+v", written)
			}
		})
	}
	if log := changelog(t, s, w.actor.ID); len(log) != 0 {
		t.Errorf("the log holds %d entries, want none: %+v", len(log), log)
	}
}

// TestAuditLogFilters reads the log of an account written by two actors,
// beside another account's, with each filter, and compares what it reads
// with the same filters applied to the whole changelog.
func TestAuditLogFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedWorld(t, s)
	second := id("User:second-admin")
	if err := s.PutUser(ctx, membership.User{ID: second, AccountID: w.account.ID, Name: "Grace", Email: "grace@example.com", Role: membership.AccountAdmin}); err != nil {
		t.Fatal(err)
	}
	other := otherAccount(t, s)
	roles := []membership.RoleAssignment{membership.Predefined(membership.RoleMember), membership.Predefined(membership.RoleReadOnly)}
	for i := range 10 {
		actor := w.actor.ID
		if i%3 == 1 {
			actor = second
		}
		q := membership.Query{Operation: membership.OperationAdd, Actor: actor, SpaceID: w.space.ID, UserID: w.members[i%4]}
		if _, err := writeChange(ctx, s, q, membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: roles[i/4%2]}); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			other.Role = roles[i/5]
			if _, err := writeChange(ctx, s, other, membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: other.Role}); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := changelog(t, s, w.actor.ID)
	if len(all) != 10 {
		t.Fatalf("the changelog holds %d entries, want 10", len(all))
	}
	for _, e := range all {
		if e.AccountID != w.account.ID {
			t.Errorf("the account's changelog holds the entry %+v of another account", e)
		}
	}
	theirs := changelog(t, s, other.Actor)
	if len(theirs) != 2 {
		t.Errorf("the other account's changelog holds %d entries, want its 2", len(theirs))
	}
	for _, e := range theirs {
		if e.AccountID != id("Account:other") || e.SpaceID != other.SpaceID {
			t.Errorf("the other account's changelog holds %+v", e)
		}
	}

	for _, q := range []membership.AuditQuery{
		{Limit: 100},
		{Limit: 3},
		{Limit: 10},
		{Limit: 0},
		{Before: all[5].Position, Limit: 100},
		{Before: all[5].Position, Limit: 2},
		{Since: all[2].Time, Until: all[6].Time, Limit: 100},
		{Since: all[2].Time.Add(time.Nanosecond), Until: all[6].Time.Add(-time.Nanosecond), Limit: 100},
		{Since: all[9].Time, Limit: 100},
		{Until: all[0].Time, Limit: 100},
		{Since: all[4].Time, Until: all[4].Time, Limit: 100},
		{ActorID: second, Limit: 100},
		{ActorID: second, Before: all[7].Position, Limit: 1},
		{ActorID: other.Actor, Limit: 100},
		{Ascending: true, After: all[3].Position, Limit: 2},
		{Ascending: true, After: all[9].Position, Limit: 2},
	} {
		q.Actor = w.actor.ID
		t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
			page, err := s.AuditLog(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			want := membership.AuditPage{Entries: filterLog(all, q)}
			if len(want.Entries) > q.Limit {
				want.Entries, want.More = want.Entries[:q.Limit], true
			}
			if page.Actor == nil || page.Actor.ID != w.actor.ID {
				t.Errorf("the page's actor is %+v", page.Actor)
			}
			page.Actor = nil
			if diff := cmp.Diff(want, page, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("the page (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("walked newest first", func(t *testing.T) {
		var walked []membership.AuditEntry
		q := membership.AuditQuery{Actor: second, Limit: 3}
		for range len(all) {
			page, err := s.AuditLog(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			walked = append(walked, page.Entries...)
			if !page.More {
				break
			}
			q.Before = page.Entries[len(page.Entries)-1].Position
		}
		newestFirst := slices.Clone(all)
		slices.Reverse(newestFirst)
		if diff := cmp.Diff(newestFirst, walked); diff != "" {
			t.Errorf("the walk (-the changelog reversed +walked):\n%s", diff)
		}
	})

	t.Run("unknown actor", func(t *testing.T) {
		page, err := s.AuditLog(ctx, membership.AuditQuery{Actor: id("User:nobody"), Limit: 100})
		if err != nil || page.Actor != nil || len(page.Entries) != 0 || page.More {
			t.Errorf("an unknown actor read %+v, %v; want nothing", page, err)
		}
	})
}

// filterLog is what a query of the log reads from the changelog all,
// before its limit.
func filterLog(all []membership.AuditEntry, q membership.AuditQuery) []membership.AuditEntry {
	var out []membership.AuditEntry
	for _, e := range all {
		switch {
		case q.Ascending && e.Position > q.After:
			out = append(out, e)
		case q.Ascending:
		case q.Before > 0 && e.Position >= q.Before:
		case !q.Since.IsZero() && e.Time.Before(q.Since):
		case !q.Until.IsZero() && e.Time.After(q.Until):
		case q.ActorID != "" && e.Actor != q.ActorID:
		default:
			out = append(out, e)
		}
	}
	if !q.Ascending {
		slices.Reverse(out)
	}
	return out
}

// TestAuditEntriesCannotChange migrates as a role that is no superuser
// (a superuser is held by no privilege) and checks that the role, which
// owns the tables, can no longer update, delete or truncate audit entries,
// while the store still writes and reads them.
func TestAuditEntriesCannotChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := newSchema(t)
	dsn := testDSN(t)
	var b [6]byte
	rand.Read(b[:])
	role := "pgstore_audit_" + hex.EncodeToString(b[:])
	schema := cfg.ConnConfig.RuntimeParams["search_path"]
	pgtest.Exec(t, dsn, "CREATE ROLE "+role+" NOLOGIN NOSUPERUSER")
	t.Cleanup(func() {
		pgtest.Exec(t, dsn, "DROP OWNED BY "+role)
		pgtest.Exec(t, dsn, "DROP ROLE "+role)
	})
	pgtest.Exec(t, dsn, "GRANT USAGE, CREATE ON SCHEMA "+pgx.Identifier{schema}.Sanitize()+" TO "+role)
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "SET ROLE "+role)
		return err
	}
	s := migratedStore(t, newPool(t, cfg))
	w := seedWorld(t, s)
	if _, err := s.PutSpaceMember(ctx, w.space.ID, w.members[0], membership.Predefined(membership.RoleMember)); err != nil {
		t.Fatal(err)
	}
	q := membership.Query{Operation: membership.OperationOrgRemove, Actor: w.actor.ID, OrganizationID: w.org.ID, UserID: w.members[0]}
	if _, err := writeChange(ctx, s, q, membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade}); err != nil {
		t.Fatal(err)
	}
	before := changelog(t, s, w.actor.ID)
	if len(before) == 0 || len(before[len(before)-1].Removed) != 1 {
		t.Fatalf("the changelog holds %+v, want it to end with a cascade of one space membership", before)
	}
	for _, sql := range []string{
		`UPDATE audit_entries SET ip = '198.51.100.1'`,
		`DELETE FROM audit_entries`,
		`TRUNCATE audit_entries`,
		`UPDATE audit_entry_removals SET predefined_role = 'ADMIN'`,
		`DELETE FROM audit_entry_removals`,
		`TRUNCATE audit_entry_removals`,
	} {
		_, err := s.pool.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s answered %v, want insufficient_privilege (42501)", sql, err)
		}
	}
	if diff := cmp.Diff(before, changelog(t, s, w.actor.ID)); diff != "" {
		t.Errorf("the changelog changed (-before +after):\n%s", diff)
	}
}

// TestCascadeCommitsInOneTransaction checks, by the transaction ids of the
// rows it wrote, that a cascade writes its removals and its entry in one
// transaction, and that the planted defect splitCascade, which the
// linearizability test must catch, splits them in two.
func TestCascadeCommitsInOneTransaction(t *testing.T) {
	t.Parallel()
	for _, split := range []bool{false, true} {
		t.Run(fmt.Sprintf("splitCascade=%v", split), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := newTestStore(t, func(c *config) { c.splitCascade = split })
			w := seedWorld(t, s)
			for _, sp := range seedSpaces(t, s, w, 2) {
				if _, err := s.PutSpaceMember(ctx, sp, w.members[0], membership.Predefined(membership.RoleMember)); err != nil {
					t.Fatal(err)
				}
			}
			q := membership.Query{Operation: membership.OperationOrgRemove, Actor: w.actor.ID, OrganizationID: w.org.ID, UserID: w.members[0]}
			written, err := writeChange(ctx, s, q, membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade})
			if err != nil {
				t.Fatal(err)
			}
			if len(written.Entry.Removed) != 2 {
				t.Fatalf("the entry removed %v, want the 2 space memberships", written.Entry.Removed)
			}
			var transactions int
			if err := s.pool.QueryRow(ctx, `SELECT count(DISTINCT xmin::text) FROM (
    SELECT xmin FROM audit_entries WHERE id = $1 UNION ALL SELECT xmin FROM audit_entry_removals WHERE entry_id = $1) AS rows`,
				string(written.Entry.ID)).Scan(&transactions); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 1, true: 2}[split]; transactions != want {
				t.Errorf("the entry and its removals were written by %d transactions, want %d", transactions, want)
			}
		})
	}
}
