package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

// testSeededSpaceCreatedAt: a space seeded without a creation time gets the
// time of seeding, in UTC; one seeded with a time keeps it.
func testSeededSpaceCreatedAt(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	before := time.Now().UTC().Truncate(time.Microsecond)
	fresh := membership.Space{ID: id("Space:fresh"), OrganizationID: org.ID, Name: "fresh"}
	if err := s.PutSpace(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	after := time.Now().UTC()
	for _, tc := range []struct {
		spaceID membership.ID
		check   func(time.Time) bool
		want    string
	}{
		{fresh.ID, func(at time.Time) bool { return !at.Before(before) && !at.After(after) }, "the time of seeding"},
		{space.ID, func(at time.Time) bool { return at.Equal(space.CreatedAt) }, space.CreatedAt.String()},
	} {
		q := removeQuery(target.ID)
		q.SpaceID = tc.spaceID
		f, _, err := s.Read(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if f.Space == nil {
			t.Fatalf("space %s not found", tc.spaceID)
		}
		if at := f.Space.CreatedAt; !tc.check(at) || at.Location() != time.UTC {
			t.Errorf("space %s created at %v, want %s, in UTC", tc.spaceID, at, tc.want)
		}
	}
}

// testOrganizationFacts: the facts of an organization query name the
// organization of the query and no space.
func testOrganizationFacts(t *testing.T, s Store) {
	seed(t, s)
	q := orgAddQuery(target.ID, membership.Custom(binder.ID))
	got := factsOf(t, s, q)
	want := membership.Facts{
		Query:                    q,
		Actor:                    &actor,
		Organization:             &org,
		ActorOrganizationRole:    membership.Grant{Role: orgAdmin},
		Target:                   &target,
		TargetOrganizationRole:   membership.Grant{Role: membership.Custom(reviewer.ID), CustomRole: &reviewer},
		TargetOrganizationMember: seededOrgMember(t, got.TargetOrganizationMember, org.ID, target.ID, membership.Custom(reviewer.ID)),
		CustomRole:               &binder,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
}

// testOrganizationAdd: an organization add creates a membership with a new
// id and the canonical role; removed and added again, it gets another.
func testOrganizationAdd(t *testing.T, s Store) {
	seed(t, s)
	role := annotator
	role.Spelling = membership.SpellingUpper
	m := orgUpsert(t, s, outsider.ID, role)
	if !m.ID.Valid() {
		t.Errorf("new organization membership ID %q is not an ID", m.ID)
	}
	want := membership.OrganizationMember{ID: m.ID, OrganizationID: org.ID, UserID: outsider.ID, Role: annotator}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("returned membership (-want +got), the role must be canonical:\n%s", diff)
	}
	if diff := cmp.Diff(&want, orgMemberOf(t, s, org.ID, outsider.ID)); diff != "" {
		t.Errorf("stored membership (-want +got):\n%s", diff)
	}
	if seeded := orgMemberOf(t, s, org.ID, target.ID); seeded == nil || seeded.ID == m.ID {
		t.Errorf("the new membership shares its ID %q with the target's, %+v", m.ID, seeded)
	}
	if _, err := s.Write(context.Background(), orgRemoveQuery(outsider.ID), cascade); err != nil {
		t.Fatal(err)
	}
	if again := orgUpsert(t, s, outsider.ID, annotator); again.ID == m.ID {
		t.Errorf("a new organization membership reuses the removed one's ID %q", m.ID)
	}
}

// testUpsertAtEachLevel: at either level, a role change keeps the
// membership's id, and the same role again changes nothing.
func testUpsertAtEachLevel(t *testing.T, s Store) {
	seed(t, s)
	for _, tc := range []struct {
		name   string
		upsert func(membership.RoleAssignment) (id membership.ID, stored any)
		read   func() any
	}{{
		name: "space",
		upsert: func(r membership.RoleAssignment) (membership.ID, any) {
			m := upsert(t, s, target.ID, r)
			return m.ID, m
		},
		read: func() any { return members(t, s)[target.ID] },
	}, {
		name: "organization",
		upsert: func(r membership.RoleAssignment) (membership.ID, any) {
			m := orgUpsert(t, s, target.ID, r)
			return m.ID, m
		},
		read: func() any { return *orgMemberOf(t, s, org.ID, target.ID) },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			firstID, _ := tc.upsert(annotator)
			changedID, changed := tc.upsert(member)
			if changedID != firstID {
				t.Errorf("role change gave ID %q, want the old ID %q", changedID, firstID)
			}
			if diff := cmp.Diff(changed, tc.read()); diff != "" {
				t.Errorf("stored after the role change (-returned +stored):\n%s", diff)
			}
			before := holdings(t, s, target.ID, actor.ID)
			_, again := tc.upsert(member)
			if diff := cmp.Diff(changed, again); diff != "" {
				t.Errorf("the same role again returned another membership (-before +again):\n%s", diff)
			}
			if diff := cmp.Diff(before, holdings(t, s, target.ID, actor.ID)); diff != "" {
				t.Errorf("the same role again changed the store (-before +after):\n%s", diff)
			}
		})
	}
}

// spaceOrder sorts memberships in space id order, as Written.Cascaded
// holds them.
func spaceOrder(ms []membership.Membership) []membership.Membership {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b membership.Membership) int { return strings.Compare(string(a.SpaceID), string(b.SpaceID)) })
	return ms
}

// testCascade: removing an organization membership removes the user's
// memberships of every space of that organization, returned in space id
// order, and nothing else: not their other organization's, not another
// user's.
func testCascade(t *testing.T, s Store) {
	seed(t, s)
	orgMember := orgMemberOf(t, s, org.ID, target.ID)
	below := spaceOrder([]membership.Membership{
		upsert(t, s, target.ID, annotator),
		upsertIn(t, s, redTeam.ID, target.ID, member),
	})
	upsertIn(t, s, otherSpace.ID, target.ID, member)
	upsertIn(t, s, redTeam.ID, actor.ID, member)
	before := holdings(t, s, target.ID, actor.ID)

	w, err := s.Write(context.Background(), orgRemoveQuery(target.ID), cascade)
	if err != nil {
		t.Fatalf("Write(organization removal): %v", err)
	}
	want := membership.Written{Organization: *orgMember, Cascaded: below}
	if diff := cmp.Diff(want, w, withoutEntry); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	checkEntry(t, "the cascade", w.Entry, entryOf(orgRemoveQuery(target.ID), membership.Origin{}, orgMember.Role, membership.RoleAssignment{}, below))
	stays := before
	delete(stays, "org "+string(org.ID)+" user "+string(target.ID))
	delete(stays, "space "+string(space.ID)+" user "+string(target.ID))
	delete(stays, "space "+string(redTeam.ID)+" user "+string(target.ID))
	if diff := cmp.Diff(stays, holdings(t, s, target.ID, actor.ID)); diff != "" {
		t.Errorf("after the cascade (-want +got):\n%s", diff)
	}
	if f := factsOf(t, s, orgRemoveQuery(target.ID)); f.Target == nil {
		t.Error("the cascade removed the user")
	}
	// A cascade of a membership the facts do not hold, however decide asks.
	always := func(*membership.Facts) (membership.Change, error) {
		return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade}, nil
	}
	if _, err := s.Write(context.Background(), orgRemoveQuery(target.ID), always); !errors.Is(err, membership.ErrMembershipNotFound) {
		t.Errorf("removing again returned %v, want ErrMembershipNotFound", err)
	}
}

// testCascadeTakesLateMemberships: a space membership that appears while
// the cascade's decide runs goes with the rest.
func testCascadeTakesLateMemberships(t *testing.T, s Store) {
	seed(t, s)
	upsert(t, s, target.ID, annotator)
	var late membership.Membership
	calls := 0
	w, err := s.Write(context.Background(), orgRemoveQuery(target.ID), func(f *membership.Facts) (membership.Change, error) {
		calls++
		if calls == 1 {
			var err error
			if late, err = s.PutSpaceMember(context.Background(), redTeam.ID, target.ID, member); err != nil {
				t.Errorf("the concurrent write: %v", err)
			}
		}
		return cascade(f)
	})
	if err != nil {
		t.Fatalf("Write(organization removal): %v", err)
	}
	if !slices.ContainsFunc(w.Cascaded, func(m membership.Membership) bool { return m.ID == late.ID }) {
		t.Errorf("cascaded %+v, without the membership %+v that appeared during decide", w.Cascaded, late)
	}
	if got := holdings(t, s, target.ID); got["space "+string(redTeam.ID)+" user "+string(target.ID)] != nil || got["space "+string(space.ID)+" user "+string(target.ID)] != nil {
		t.Errorf("space memberships outlive the organization membership: %+v", got)
	}
}

// testConcurrentOrganizationRemoves: of many removals of one organization
// membership at once, exactly one succeeds and every other finds none.
func testConcurrentOrganizationRemoves(t *testing.T, s Store) {
	seed(t, s)
	orgMember := orgMemberOf(t, s, org.ID, target.ID)
	below := spaceOrder([]membership.Membership{
		upsert(t, s, target.ID, annotator),
		upsertIn(t, s, redTeam.ID, target.ID, member),
	})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		written []membership.Written
	)
	for i := range goroutines / 4 {
		wg.Go(func() {
			w, err := s.Write(context.Background(), orgRemoveQuery(target.ID), cascade)
			switch {
			case err == nil:
				mu.Lock()
				written = append(written, w)
				mu.Unlock()
			case !errors.Is(err, membership.ErrMembershipNotFound):
				t.Errorf("removal %d: %v, want success or ErrMembershipNotFound", i, err)
			}
		})
	}
	wg.Wait()
	want := []membership.Written{{Organization: *orgMember, Cascaded: below}}
	if diff := cmp.Diff(want, written, withoutEntry); diff != "" {
		t.Errorf("removals that succeeded (-want +got), want exactly one:\n%s", diff)
	}
	if len(written) == 1 {
		checkEntry(t, "the removal", written[0].Entry, entryOf(orgRemoveQuery(target.ID), membership.Origin{}, orgMember.Role, membership.RoleAssignment{}, below))
	}
	if log := changelog(t, s, actor.ID); len(log) != 3 { // the two adds and one removal
		t.Errorf("the changelog holds %d entries, want 3: %+v", len(log), log)
	}
	if m := orgMemberOf(t, s, org.ID, target.ID); m != nil {
		t.Errorf("the organization membership survived: %+v", m)
	}
}

// testCascadeIsAtomicToReaders: readers running while a cascade commits see
// the organization membership and the space membership below it both, or
// neither.
func testCascadeIsAtomicToReaders(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	for round := range 30 {
		if round > 0 {
			if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org.ID, UserID: target.ID, Role: member}); err != nil {
				t.Fatal(err)
			}
		}
		for _, sp := range []membership.ID{space.ID, redTeam.ID} {
			if _, err := s.PutSpaceMember(ctx, sp, target.ID, member); err != nil {
				t.Fatal(err)
			}
		}
		var (
			wg   sync.WaitGroup
			done atomic.Bool
			torn atomic.Int64
		)
		for r := range 4 {
			wg.Go(func() {
				q := removeQuery(target.ID)
				if r%2 == 1 {
					q.SpaceID = redTeam.ID
				}
				for reads := 0; reads == 0 || !done.Load(); reads++ {
					f, _, err := s.Read(ctx, q)
					if err != nil {
						t.Errorf("round %d: Read: %v", round, err)
						return
					}
					if (f.TargetOrganizationMember == nil) != (f.Existing == nil) {
						torn.Add(1)
					}
				}
			})
		}
		if _, err := s.Write(ctx, orgRemoveQuery(target.ID), cascade); err != nil {
			t.Errorf("round %d: cascade: %v", round, err)
		}
		done.Store(true)
		wg.Wait()
		if n := torn.Load(); n > 0 {
			t.Fatalf("round %d: %d reads saw the organization membership without the space membership, or the reverse", round, n)
		}
	}
}

// testSpaceAddRacingOrganizationRemoval: an add to a space racing the
// removal of the same user from its organization either comes first, and
// goes with the cascade, or comes after and answers
// ErrUserNotInOrganization; it never leaves a membership behind.
func testSpaceAddRacingOrganizationRemoval(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	for round := range 30 {
		if round > 0 {
			if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org.ID, UserID: target.ID, Role: member}); err != nil {
				t.Fatal(err)
			}
		}
		var (
			wg              sync.WaitGroup
			added           membership.Membership
			written         membership.Written
			addErr, cascErr error
		)
		wg.Go(func() { added, addErr = writeSpace(ctx, s, addQuery(target.ID, annotator), put) })
		wg.Go(func() { written, cascErr = s.Write(ctx, orgRemoveQuery(target.ID), cascade) })
		wg.Wait()
		if cascErr != nil {
			t.Fatalf("round %d: the removal: %v", round, cascErr)
		}
		switch {
		case addErr == nil:
			if !slices.Contains(written.Cascaded, added) {
				t.Errorf("round %d: the add came first, %+v, but the cascade removed %+v", round, added, written.Cascaded)
			}
		case !errors.Is(addErr, membership.ErrUserNotInOrganization):
			t.Errorf("round %d: the add: %v, want success or ErrUserNotInOrganization", round, addErr)
		}
		if m := spaceMemberOf(t, s, space.ID, target.ID); m != nil {
			t.Fatalf("round %d: a space membership outlives the organization membership: %+v", round, m)
		}
	}
}

// testSpacePutOutsideOrganization: a put at LevelSpace for a user who is
// not a member of the space's organization writes nothing, whatever decide
// allows.
func testSpacePutOutsideOrganization(t *testing.T, s Store) {
	seed(t, s)
	before := holdings(t, s, outsider.ID, actor.ID)
	_, err := writeSpace(context.Background(), s, addQuery(outsider.ID, member), put)
	if !errors.Is(err, membership.ErrUserNotInOrganization) {
		t.Errorf("Write(add of a non-member) = %v, want ErrUserNotInOrganization", err)
	}
	if diff := cmp.Diff(before, holdings(t, s, outsider.ID, actor.ID)); diff != "" {
		t.Errorf("the store changed (-before +after):\n%s", diff)
	}
}

// testOrganizationDelete: a plain delete of an organization membership
// removes it when no space membership rests on it, and otherwise fails and
// writes nothing: only a cascade may take those.
func testOrganizationDelete(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	del := func(*membership.Facts) (membership.Change, error) {
		return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDelete}, nil
	}
	upsert(t, s, target.ID, annotator)
	before := holdings(t, s, target.ID)
	if _, err := s.Write(ctx, orgRemoveQuery(target.ID), del); err == nil {
		t.Error("a delete of an organization membership with a space membership below it succeeded")
	}
	if diff := cmp.Diff(before, holdings(t, s, target.ID)); diff != "" {
		t.Errorf("the failed delete wrote (-before +after):\n%s", diff)
	}

	joined := orgUpsert(t, s, outsider.ID, member)
	w, err := s.Write(ctx, orgRemoveQuery(outsider.ID), del)
	if err != nil {
		t.Fatalf("Write(delete of an organization membership with nothing below): %v", err)
	}
	if diff := cmp.Diff(membership.Written{Organization: joined}, w, withoutEntry); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	checkEntry(t, "the delete", w.Entry, entryOf(orgRemoveQuery(outsider.ID), membership.Origin{}, member, membership.RoleAssignment{}, nil))
	if m := orgMemberOf(t, s, org.ID, outsider.ID); m != nil {
		t.Errorf("the membership is still there: %+v", m)
	}
	if _, err := s.Write(ctx, orgRemoveQuery(outsider.ID), del); !errors.Is(err, membership.ErrMembershipNotFound) {
		t.Errorf("deleting again returned %v, want ErrMembershipNotFound", err)
	}
}

// testChangeAtAnotherLevel: a change at a level the query does not name is
// an error, and writes nothing.
func testChangeAtAnotherLevel(t *testing.T, s Store) {
	seed(t, s)
	upsert(t, s, target.ID, annotator)
	for _, tc := range []struct {
		name   string
		q      membership.Query
		change membership.Change
	}{
		{"organization put for a space query", addQuery(outsider.ID, member), membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangePut, Role: member}},
		{"organization cascade for a space query", removeQuery(target.ID), membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade}},
		{"space put for an organization query", orgAddQuery(target.ID, member), membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: member}},
		{"space delete for an organization query", orgRemoveQuery(target.ID), membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete}},
		{"put at no level", addQuery(target.ID, member), membership.Change{Kind: membership.ChangePut, Role: member}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := holdings(t, s, target.ID, outsider.ID)
			_, err := s.Write(context.Background(), tc.q, func(*membership.Facts) (membership.Change, error) { return tc.change, nil })
			if err == nil {
				t.Error("Write succeeded")
			}
			if diff := cmp.Diff(before, holdings(t, s, target.ID, outsider.ID)); diff != "" {
				t.Errorf("the store changed (-before +after):\n%s", diff)
			}
		})
	}
}
