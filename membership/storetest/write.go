package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

func testCreate(t *testing.T, s Store) {
	seed(t, s)
	role := annotator
	role.Spelling = membership.SpellingUpper
	m := upsert(t, s, target.ID, role)
	if !m.ID.Valid() {
		t.Errorf("new membership ID %q is not an ID", m.ID)
	}
	want := membership.Membership{ID: m.ID, UserID: target.ID, SpaceID: space.ID, Role: annotator}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("returned membership (-want +got), the role must be canonical:\n%s", diff)
	}
	if diff := cmp.Diff(want, members(t, s)[target.ID]); diff != "" {
		t.Errorf("stored membership (-want +got):\n%s", diff)
	}
}

func testRepeat(t *testing.T, s Store) {
	seed(t, s)
	first := upsert(t, s, target.ID, annotator)
	again := upsert(t, s, target.ID, annotator)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("repeating the add changed the membership (-first +again):\n%s", diff)
	}
	if got := len(members(t, s)); got != 2 { // the actor's and the target's
		t.Errorf("space has %d memberships, want 2", got)
	}
}

func testRoleChange(t *testing.T, s Store) {
	seed(t, s)
	first := upsert(t, s, target.ID, annotator)
	changed := upsert(t, s, target.ID, membership.Custom(reviewer.ID))
	if changed.ID != first.ID {
		t.Errorf("role change gave ID %q, want the old ID %q", changed.ID, first.ID)
	}
	if got := members(t, s)[target.ID]; !got.Role.SameRole(membership.Custom(reviewer.ID)) || got.ID != first.ID {
		t.Errorf("stored membership is %+v, want ID %q with the reviewer role", got, first.ID)
	}
}

func testNoChange(t *testing.T, s Store) {
	seed(t, s)
	before := members(t, s)
	m, err := writeSpace(context.Background(), s, addQuery(target.ID, annotator), func(*membership.Facts) (membership.Change, error) {
		return membership.Change{}, nil
	})
	if err != nil || m != (membership.Membership{}) {
		t.Errorf("Write of no change = %+v, %v; want the zero membership", m, err)
	}
	if diff := cmp.Diff(before, members(t, s)); diff != "" {
		t.Errorf("a write of no change wrote (-before +after):\n%s", diff)
	}
}

func testDenied(t *testing.T, s Store) {
	seed(t, s)
	upsert(t, s, target.ID, annotator)
	before := members(t, s)
	// A deny of a new membership, of a role change and of a removal.
	for _, q := range []membership.Query{addQuery(outsider.ID, annotator), addQuery(actor.ID, orgAdmin), removeQuery(target.ID)} {
		_, err := writeSpace(context.Background(), s, q, func(*membership.Facts) (membership.Change, error) { return membership.Change{}, errDenied })
		if err != errDenied {
			t.Errorf("Write(%v %s) returned %v, want decide's error unchanged", q.Operation, q.UserID, err)
		}
	}
	if diff := cmp.Diff(before, members(t, s)); diff != "" {
		t.Errorf("a denied write wrote (-before +after):\n%s", diff)
	}
}

func testCancelled(t *testing.T, s Store) {
	seed(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := writeSpace(ctx, s, addQuery(target.ID, annotator), put); err == nil {
		t.Error("Write on a cancelled context succeeded")
	}
	if _, _, err := s.Read(ctx, listQuery("", 10)); err == nil {
		t.Error("Read on a cancelled context succeeded")
	}
	if _, ok := members(t, s)[target.ID]; ok {
		t.Error("a cancelled add wrote a membership")
	}
}

func testCancelledDuringDecide(t *testing.T, s Store) {
	seed(t, s)
	joined := newUsers(t, s, "cancel", 1)[0]
	upsert(t, s, joined, member)
	for _, tc := range []struct {
		name   string
		q      membership.Query
		decide func(*membership.Facts) (membership.Change, error)
	}{
		{"add", addQuery(target.ID, annotator), put},
		{"remove", removeQuery(joined), remove},
		{"organization add", orgAddQuery(outsider.ID, member), orgPut},
		{"organization removal", orgRemoveQuery(joined), cascade},
	} {
		before := holdings(t, s, target.ID, outsider.ID, joined)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := writeSpace(ctx, s, tc.q, func(f *membership.Facts) (membership.Change, error) {
			cancel()
			return tc.decide(f)
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s cancelled during decide returned %v, want context.Canceled", tc.name, err)
		}
		if diff := cmp.Diff(before, holdings(t, s, target.ID, outsider.ID, joined)); diff != "" {
			t.Errorf("%s cancelled during decide wrote (-before +after):\n%s", tc.name, diff)
		}
	}
}

func testDecidesOnce(t *testing.T, s Store) {
	seed(t, s)
	calls := 0
	if _, err := writeSpace(context.Background(), s, addQuery(target.ID, annotator), func(f *membership.Facts) (membership.Change, error) {
		calls++
		return put(f)
	}); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("decide ran %d times on a store nobody else writes, want 1", calls)
	}
}

// redecided runs a write whose first decide allows after write (a
// concurrent writer) changed what the facts hold. The write must not take
// effect on the old facts: the store decides again, where still, the
// second time, says whether the write may go ahead, or it fails. It
// returns how many times decide ran and the write's error.
func redecided(t *testing.T, s Store, q membership.Query, change membership.Change, write func() error, still func(*membership.Facts) bool) (int, error) {
	t.Helper()
	calls := 0
	_, err := writeSpace(context.Background(), s, q, func(f *membership.Facts) (membership.Change, error) {
		calls++
		if calls == 1 {
			if err := write(); err != nil {
				t.Errorf("the concurrent write: %v", err)
			}
			return change, nil
		}
		if still(f) {
			return change, nil
		}
		return membership.Change{}, errDenied
	})
	if calls > 1 && err != nil && err != errDenied {
		t.Errorf("after deciding again, Write returned %v, want decide's error", err)
	}
	return calls, err
}

// testChangedRecord demotes the actor, or takes a permission from the
// custom role the actor holds, while the first decide runs.
func testChangedRecord(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		write func() error
		still func(*membership.Facts) bool
	}{{
		name: "actor demoted in the organization",
		write: func() error {
			return s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org.ID, UserID: actor.ID, Role: member})
		},
		still: func(f *membership.Facts) bool { return f.ActorOrganizationRole.Role.Is(membership.RoleAdmin) },
	}, {
		name: "custom role held loses its permission",
		write: func() error {
			stripped := binder
			stripped.Permissions = nil
			return s.PutCustomRole(ctx, stripped)
		},
		still: func(f *membership.Facts) bool {
			return f.ActorSpaceRole.CustomRole != nil && len(f.ActorSpaceRole.CustomRole.Permissions) > 0
		},
	}, {
		name: "target's account role changed",
		write: func() error {
			changed := target
			changed.Role = membership.AccountMember
			return s.PutUser(ctx, changed)
		},
		still: func(f *membership.Facts) bool { return f.Target.Role == membership.AccountAnnotator },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := redecided(t, s, addQuery(target.ID, annotator), membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: annotator}, tc.write, tc.still)
			if err == nil {
				t.Fatal("the add succeeded on facts that changed before its write")
			}
			if _, ok := members(t, s)[target.ID]; ok {
				t.Error("the add wrote on facts that changed before its write")
			}
		})
	}
}

// testAppearingMembership: the target becomes a member while the first
// decide of an add, made on no membership, runs.
func testAppearingMembership(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	var appeared membership.Membership
	_, err := redecided(t, s, addQuery(target.ID, annotator), membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: annotator},
		func() (err error) {
			appeared, err = s.PutSpaceMember(ctx, space.ID, target.ID, orgAdmin)
			return err
		},
		func(f *membership.Facts) bool { return f.Existing == nil })
	if err == nil {
		t.Fatal("the add overwrote a membership that appeared after its decision")
	}
	if diff := cmp.Diff(appeared, members(t, s)[target.ID]); diff != "" {
		t.Errorf("the membership that appeared changed (-appeared +stored):\n%s", diff)
	}
}

// testVanishingMembership: the target's membership is removed while the
// first decide of a role change, or of a removal, runs.
func testVanishingMembership(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		q      membership.Query
		change membership.Change
	}{
		{"role change", addQuery(target.ID, member), membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: member}},
		{"removal", removeQuery(target.ID), membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			upsert(t, s, target.ID, annotator)
			calls, err := redecided(t, s, tc.q, tc.change,
				func() error {
					_, err := writeSpace(ctx, s, removeQuery(target.ID), remove)
					return err
				},
				func(f *membership.Facts) bool { return f.Existing != nil })
			if err == nil {
				t.Fatal("the write went ahead on a membership that was removed after its decision")
			}
			if calls > 1 && err != errDenied {
				t.Errorf("decided again, the write returned %v", err)
			}
			if m, ok := members(t, s)[target.ID]; ok {
				t.Errorf("the target is a member again: %+v", m)
			}
		})
	}
}

func testRemove(t *testing.T, s Store) {
	seed(t, s)
	added := upsert(t, s, target.ID, annotator)
	removed, err := writeSpace(context.Background(), s, removeQuery(target.ID), remove)
	if err != nil {
		t.Fatalf("Write(remove) = %v", err)
	}
	if diff := cmp.Diff(added, removed); diff != "" {
		t.Errorf("returned the removed membership (-added +removed):\n%s", diff)
	}
	if _, ok := members(t, s)[target.ID]; ok {
		t.Error("the membership is still there")
	}
	if _, ok := members(t, s)[actor.ID]; !ok {
		t.Error("another membership went too")
	}
	f := factsOf(t, s, removeQuery(target.ID))
	if f.Target == nil || !f.TargetOrganizationRole.Held() {
		t.Errorf("removing the membership took the user or their organization role: %+v", f)
	}
	if _, err := writeSpace(context.Background(), s, removeQuery(target.ID), remove); !errors.Is(err, membership.ErrMembershipNotFound) {
		t.Errorf("removing again returned %v, want decide's ErrMembershipNotFound", err)
	}
}

// testRemoveNothing: a decide that asks to remove a membership the facts do
// not hold gets ErrMembershipNotFound, and nothing changes.
func testRemoveNothing(t *testing.T, s Store) {
	seed(t, s)
	before := members(t, s)
	_, err := writeSpace(context.Background(), s, removeQuery(target.ID), func(*membership.Facts) (membership.Change, error) {
		return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete}, nil
	})
	if !errors.Is(err, membership.ErrMembershipNotFound) {
		t.Errorf("Write(delete of no membership) = %v, want ErrMembershipNotFound", err)
	}
	if diff := cmp.Diff(before, members(t, s)); diff != "" {
		t.Errorf("the store changed (-before +after):\n%s", diff)
	}
}
