package pgstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

// seedSpaces adds n spaces to the world's organization and returns their
// ids, in id order.
func seedSpaces(t testing.TB, s *Store, w *world, n int) []membership.ID {
	t.Helper()
	var ids []membership.ID
	for i := range n {
		sp := membership.Space{ID: id(fmt.Sprintf("Space:extra%d", i)), OrganizationID: w.org.ID, Name: "extra"}
		if err := s.PutSpace(context.Background(), sp); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sp.ID)
	}
	slices.Sort(ids)
	return ids
}

// orphans counts the space memberships whose user is not a member of the
// space's organization, reading the tables directly.
func orphans(t testing.TB, s *Store) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM space_members AS sm
JOIN spaces AS sp ON sp.id = sm.space_id
LEFT JOIN organization_members AS om ON om.organization_id = sp.organization_id AND om.user_id = sm.user_id
WHERE om.user_id IS NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCascadeRacesSpaceAdd races, round after round, the removal of a user
// from the organization against adds of that user to the organization's
// spaces, from two Stores with pools of their own. Whatever the order, no
// space membership outlives the organization membership: each add either
// commits before the removal and is removed with it, or answers
// ErrUserNotInOrganization.
func TestCascadeRacesSpaceAdd(t *testing.T) {
	t.Parallel()
	cfg := newSchema(t)
	remover := migratedStore(t, newPool(t, cfg.Copy()))
	adder := migratedStore(t, newPool(t, cfg.Copy()))
	w := seedWorld(t, remover)
	spaces := append(seedSpaces(t, remover, w, 3), w.space.ID)
	ctx := context.Background()
	const rounds = 60

	var before, after int // adds that committed before the removal, and refused adds
	for round := range rounds {
		user := w.members[round%len(w.members)]
		if err := remover.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: w.org.ID, UserID: user, Role: membership.Predefined(membership.RoleMember)}); err != nil {
			t.Fatal(err)
		}
		var (
			wg       sync.WaitGroup
			removed  membership.Written
			rmErr    error
			addErrs  = make([]error, len(spaces))
			addAdded = make([]membership.Membership, len(spaces))
		)
		start := make(chan struct{})
		for i, sp := range spaces {
			wg.Go(func() {
				<-start
				addAdded[i], addErrs[i] = upsert(ctx, adder, membership.AddUserRequest{Actor: w.actor.ID, SpaceID: sp, UserID: user, Role: membership.Predefined(membership.RoleMember)},
					func(f *membership.Facts) error {
						if f.TargetOrganizationMember == nil {
							return membership.ErrUserNotInOrganization
						}
						return nil
					})
			})
		}
		wg.Go(func() {
			<-start
			q := membership.Query{Operation: membership.OperationOrgRemove, Actor: w.actor.ID, OrganizationID: w.org.ID, UserID: user}
			removed, rmErr = remover.Write(ctx, q, func(f *membership.Facts) (membership.Change, error) {
				if f.TargetOrganizationMember == nil {
					return membership.Change{}, membership.ErrMembershipNotFound
				}
				return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade}, nil
			})
		})
		close(start)
		wg.Wait()
		if rmErr != nil {
			t.Fatalf("round %d: removing from the organization: %v", round, rmErr)
		}
		cascaded := map[membership.ID]membership.ID{}
		for _, m := range removed.Cascaded {
			cascaded[m.SpaceID] = m.ID
		}
		for i, err := range addErrs {
			switch {
			case err == nil:
				before++
				if cascaded[spaces[i]] != addAdded[i].ID {
					t.Errorf("round %d: the add to %s committed membership %s, which the cascade did not report (%v)", round, spaces[i], addAdded[i].ID, removed.Cascaded)
				}
			case err == membership.ErrUserNotInOrganization:
				after++
			default:
				t.Errorf("round %d: add to %s: %v", round, spaces[i], err)
			}
		}
		if n := orphans(t, remover); n > 0 {
			t.Fatalf("round %d: %d space memberships outlived the organization membership", round, n)
		}
	}
	t.Logf("%d adds committed before the removal and were cascaded, %d were refused after it", before, after)
}

// TestSeederKeepsOrganizationMemberIDs puts an organization membership
// without an id, again with another role, and then with an id of its own.
func TestSeederKeepsOrganizationMemberIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedWorld(t, s)
	user := w.members[0]
	memberID := func() membership.ID {
		t.Helper()
		f, _, err := s.Read(ctx, membership.Query{Operation: membership.OperationOrgRemove, Actor: w.actor.ID, OrganizationID: w.org.ID, UserID: user})
		if err != nil || f.TargetOrganizationMember == nil {
			t.Fatalf("reading the membership: %v, %+v", err, f)
		}
		return f.TargetOrganizationMember.ID
	}
	first := memberID()
	if !first.Valid() {
		t.Fatalf("the seeded membership has the id %q", first)
	}
	if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: w.org.ID, UserID: user, Role: membership.Predefined(membership.RoleReadOnly)}); err != nil {
		t.Fatal(err)
	}
	if got := memberID(); got != first {
		t.Errorf("a put without an id changed the id from %s to %s", first, got)
	}
	given := id("OrgMember:given")
	if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{ID: given, OrganizationID: w.org.ID, UserID: user, Role: membership.Predefined(membership.RoleMember)}); err != nil {
		t.Fatal(err)
	}
	if got := memberID(); got != given {
		t.Errorf("a put with the id %s left the id %s", given, got)
	}
}
