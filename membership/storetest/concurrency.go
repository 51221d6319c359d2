package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

const goroutines = 32

func testConcurrentSameUser(t *testing.T, s Store) {
	seed(t, s)
	roles := []membership.RoleAssignment{annotator, member, membership.Custom(reviewer.ID)}
	ids := make([]membership.ID, goroutines)
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Go(func() {
			m, err := writeSpace(context.Background(), s, addQuery(target.ID, roles[i%len(roles)]), put)
			if err != nil {
				t.Errorf("add %d: %v", i, err)
			}
			ids[i] = m.ID
		})
	}
	wg.Wait()
	got, ok := members(t, s)[target.ID]
	if !ok {
		t.Fatal("no membership after concurrent adds")
	}
	for i, mid := range ids {
		if mid != got.ID {
			t.Errorf("add %d returned membership %q, want the one stored, %q", i, mid, got.ID)
		}
	}
}

func testConcurrentDifferentUsers(t *testing.T, s Store) {
	seed(t, s)
	users := newUsers(t, s, "c", goroutines)
	ids := make([]membership.ID, goroutines)
	var wg sync.WaitGroup
	for i, user := range users {
		wg.Go(func() {
			m, err := writeSpace(context.Background(), s, addQuery(user, member), put)
			if err != nil {
				t.Errorf("add %d: %v", i, err)
			}
			ids[i] = m.ID
		})
	}
	wg.Wait()
	stored := members(t, s)
	seen := map[membership.ID]bool{}
	for i, user := range users {
		m, ok := stored[user]
		if !ok || m.ID != ids[i] {
			t.Errorf("user %d: stored %+v (present %v), returned ID %q", i, m, ok, ids[i])
		}
		if seen[m.ID] {
			t.Errorf("membership ID %q given twice", m.ID)
		}
		seen[m.ID] = true
	}
}

// testConcurrentRemoves: of many removes of one membership at once, one
// removes it and every other finds no membership.
func testConcurrentRemoves(t *testing.T, s Store) {
	seed(t, s)
	added := upsert(t, s, target.ID, annotator)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		removed []membership.Membership
	)
	for i := range goroutines / 4 {
		wg.Go(func() {
			m, err := writeSpace(context.Background(), s, removeQuery(target.ID), remove)
			switch {
			case err == nil:
				mu.Lock()
				removed = append(removed, m)
				mu.Unlock()
			case !errors.Is(err, membership.ErrMembershipNotFound):
				t.Errorf("remove %d: %v, want success or ErrMembershipNotFound", i, err)
			}
		})
	}
	wg.Wait()
	if len(removed) != 1 || removed[0] != added {
		t.Errorf("removes that succeeded returned %+v, want exactly one, of %+v", removed, added)
	}
	if _, ok := members(t, s)[target.ID]; ok {
		t.Error("the membership survived")
	}
}

// testRemoveRacingAdd: a remove and a role change of one membership at
// once leave the state of one of their two orders.
func testRemoveRacingAdd(t *testing.T, s Store) {
	seed(t, s)
	for round := range 12 {
		before := upsert(t, s, target.ID, annotator)
		var (
			wg                sync.WaitGroup
			added, removed    membership.Membership
			addErr, removeErr error
		)
		wg.Go(func() { added, addErr = writeSpace(context.Background(), s, addQuery(target.ID, member), put) })
		wg.Go(func() { removed, removeErr = writeSpace(context.Background(), s, removeQuery(target.ID), remove) })
		wg.Wait()
		if addErr != nil || removeErr != nil {
			t.Fatalf("round %d: add: %v, remove: %v; in either order both succeed", round, addErr, removeErr)
		}
		after, present := members(t, s)[target.ID]
		switch {
		case !present:
			// The add, then the remove: the remove took the changed one.
			if added.ID != before.ID || removed != added {
				t.Errorf("round %d, add then remove: had %+v, added %+v, removed %+v", round, before, added, removed)
			}
		default:
			// The remove, then the add: a new membership.
			if removed != before || after != added || added.ID == before.ID || !added.Role.SameRole(member) {
				t.Errorf("round %d, remove then add: had %+v, removed %+v, added %+v, stored %+v", round, before, removed, added, after)
			}
		}
	}
}

func testUniqueIDs(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	other := membership.Space{ID: id("Space:2"), OrganizationID: org.ID, Name: "other"}
	if err := s.PutSpace(ctx, other); err != nil {
		t.Fatal(err)
	}
	a := upsert(t, s, target.ID, annotator)
	q := addQuery(target.ID, annotator)
	q.SpaceID = other.ID
	b, err := writeSpace(ctx, s, q, put)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID {
		t.Errorf("two memberships share the ID %q", a.ID)
	}
	// A membership removed and added again gets a new id.
	if _, err := writeSpace(ctx, s, removeQuery(target.ID), remove); err != nil {
		t.Fatal(err)
	}
	if again := upsert(t, s, target.ID, annotator); again.ID == a.ID {
		t.Errorf("a new membership reuses the removed one's ID %q", a.ID)
	}
}
