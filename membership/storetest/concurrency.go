package storetest

import (
	"context"
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
			m, err := s.UpsertMembership(context.Background(), request(target.ID, roles[i%len(roles)]), allow)
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
	users := newUsers(t, s, goroutines)
	ids := make([]membership.ID, goroutines)
	var wg sync.WaitGroup
	for i, user := range users {
		wg.Go(func() {
			m, err := s.UpsertMembership(context.Background(), request(user, member), allow)
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

func testUniqueIDs(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	other := membership.Space{ID: id("Space:2"), OrganizationID: org.ID, Name: "other"}
	if err := s.PutSpace(ctx, other); err != nil {
		t.Fatal(err)
	}
	a := upsert(t, s, request(target.ID, annotator))
	req := request(target.ID, annotator)
	req.SpaceID = other.ID
	b := upsert(t, s, req)
	if a.ID == b.ID {
		t.Errorf("two memberships share the ID %q", a.ID)
	}
}
