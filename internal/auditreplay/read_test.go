package auditreplay_test

import (
	"context"
	"testing"

	"github.com/spaceauthz/spaceauthz/internal/auditreplay"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
)

// allow is a decide function that makes change, whatever the facts.
func allow(change membership.Change) func(*membership.Facts) (membership.Change, error) {
	return func(*membership.Facts) (membership.Change, error) { return change, nil }
}

// seeded returns a memory store seeded with the world, after the changes
// of validLog made through Write.
func seeded(t *testing.T) *memstore.Store {
	t.Helper()
	ctx := context.Background()
	s := memstore.New()
	if err := fixture.Seed(ctx, s, world()); err != nil {
		t.Fatal(err)
	}
	put := func(level membership.Level, role membership.RoleAssignment) func(*membership.Facts) (membership.Change, error) {
		return allow(membership.Change{Level: level, Kind: membership.ChangePut, Role: role})
	}
	for _, w := range []struct {
		q      membership.Query
		decide func(*membership.Facts) (membership.Change, error)
	}{
		{membership.Query{Operation: membership.OperationAdd, Actor: ada, SpaceID: s1, UserID: bob}, put(membership.LevelSpace, readOnly)},
		{membership.Query{Operation: membership.OperationOrgAdd, Actor: ada, OrganizationID: o1, UserID: cy}, put(membership.LevelOrganization, member)},
		{membership.Query{Operation: membership.OperationAdd, Actor: ada, SpaceID: s2, UserID: cy}, put(membership.LevelSpace, custom)},
		{membership.Query{Operation: membership.OperationAdd, Actor: ada, SpaceID: s1, UserID: cy}, put(membership.LevelSpace, admin)},
		{membership.Query{Operation: membership.OperationAdd, Actor: ada, SpaceID: s1, UserID: cy}, put(membership.LevelSpace, admin)}, // no change
		{membership.Query{Operation: membership.OperationRemove, Actor: ada, SpaceID: s1, UserID: bob}, allow(membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete})},
		{membership.Query{Operation: membership.OperationAdd, Actor: dee, SpaceID: sB, UserID: dee}, put(membership.LevelSpace, admin)},
		{membership.Query{Operation: membership.OperationOrgRemove, Actor: ada, OrganizationID: o1, UserID: cy}, allow(membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade})},
	} {
		if _, err := s.Write(ctx, w.q, w.decide); err != nil {
			t.Fatalf("Write(%v of %s): %v", w.q.Operation, w.q.UserID, err)
		}
	}
	return s
}

// TestCheckAfterWrites: the changelog of a store changed through Write
// alone replays to what the store holds.
func TestCheckAfterWrites(t *testing.T) {
	s := seeded(t)
	auditreplay.Check(t, context.Background(), s, world())
	log, err := auditreplay.Changelog(context.Background(), s, auditreplay.FromFixture(world()))
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 7 {
		t.Errorf("the changelog holds %d entries, want one for each of the 7 writes that changed something", len(log))
	}
}

// TestCompareSeesAWriteWithoutEntry: a Seeder's write leaves no entry, so
// the replay differs from the store until the Replayer is told of it.
func TestCompareSeesAWriteWithoutEntry(t *testing.T) {
	ctx := context.Background()
	s := seeded(t)
	r := auditreplay.NewReplayer(auditreplay.FromFixture(world()))
	if diff, err := r.Compare(ctx, s); err != nil || diff != "" {
		t.Fatalf("Compare before the Seeder's write = %v:\n%s", err, diff)
	}
	if _, err := s.PutSpaceMember(ctx, s2, bob, member); err != nil {
		t.Fatal(err)
	}
	if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: o2, UserID: bob, Role: readOnly}); err != nil {
		t.Fatal(err)
	}
	if diff, err := r.Compare(ctx, s); err != nil || diff == "" {
		t.Errorf("Compare after the Seeder's writes = %v, with no difference", err)
	}
	r.PutSpaceMember(s2, bob, member)
	r.PutOrganizationMember(o2, bob, readOnly)
	if diff, err := r.Compare(ctx, s); err != nil || diff != "" {
		t.Errorf("Compare once told of the Seeder's writes = %v:\n%s", err, diff)
	}
	// The Replayer follows later entries from where it stands.
	if _, err := s.Write(ctx, membership.Query{Operation: membership.OperationRemove, Actor: ada, SpaceID: s2, UserID: bob},
		allow(membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete})); err != nil {
		t.Fatal(err)
	}
	if diff, err := r.Compare(ctx, s); err != nil || diff != "" {
		t.Errorf("Compare after a later write = %v:\n%s", err, diff)
	}
}

// TestReadsFailClosed: a World the store does not hold, or without a
// reader of an account, is an error, not an empty state.
func TestReadsFailClosed(t *testing.T) {
	ctx := context.Background()
	s := seeded(t)
	for _, tc := range []struct {
		name string
		// change breaks the World; logFails and currentFails say which
		// of Changelog and Current must then fail.
		change                 func(*auditreplay.World)
		logFails, currentFails bool
	}{
		{"no reader of an account", func(w *auditreplay.World) { delete(w.Readers, accountB) }, true, true},
		{"a reader that names no user", func(w *auditreplay.World) { w.Readers[accountB] = id("User:none") }, true, false},
		{"an organization the store does not hold", func(w *auditreplay.World) { w.Organizations[id("Org:none")] = accountA }, false, true},
		{"a space the store does not hold", func(w *auditreplay.World) { w.Spaces[id("Space:none")] = o1 }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := auditreplay.FromFixture(world())
			tc.change(&w)
			if _, err := auditreplay.Changelog(ctx, s, w); tc.logFails && err == nil {
				t.Error("Changelog succeeded")
			}
			if _, err := auditreplay.Current(ctx, s, w); tc.currentFails && err == nil {
				t.Error("Current succeeded")
			}
		})
	}
}
