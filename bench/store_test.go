package main

import (
	"context"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

func TestWorldLayout(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 7, 100, 1000} {
		w := newWorld(n)
		pairs := map[[2]membership.ID]bool{}
		for k := range n {
			space, user := w.membership(k)
			pairs[[2]membership.ID{space, user}] = true
		}
		if len(pairs) != n {
			t.Errorf("world of %d: %d distinct memberships", n, len(pairs))
		}
		if err := w.fixture().Validate(); err != nil {
			t.Errorf("world of %d: fixture: %v", n, err)
		}
	}
}

// TestAddUserToSpaceUpdates runs the measured add twice: each call updates
// the same membership to the other role, and the store keeps n of them.
func TestAddUserToSpaceUpdates(t *testing.T) {
	t.Parallel()
	const n = 64
	s, err := memstoreWorld(n)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := s.add(ctx, 1)
	if err := checkUpdate(first, err); err != nil {
		t.Fatal(err)
	}
	second, err := s.add(ctx, 1)
	if err := checkUpdate(second, err); err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || second.Role.SameRole(first.Role) {
		t.Errorf("adds returned %+v then %+v, want one membership changing role", first, second)
	}
	_, page, err := s.store.Read(ctx, membership.Query{Operation: membership.OperationList, SpaceID: s.world.spaces[0], Page: &membership.PageQuery{Limit: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	members := page.Members
	if len(members) != len(s.world.users) {
		t.Errorf("the first space has %d members, want %d", len(members), len(s.world.users))
	}
}

func TestFloorUpsertUpdates(t *testing.T) {
	t.Parallel()
	const n = 64
	f, err := floorWorld(n)
	if err != nil {
		t.Fatal(err)
	}
	first, err := f.upsert(1)
	if err := checkUpdate(first, err); err != nil {
		t.Fatal(err)
	}
	second, err := f.upsert(1)
	if err := checkUpdate(second, err); err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || second.Role.SameRole(first.Role) {
		t.Errorf("upserts returned %+v then %+v, want one membership changing role", first, second)
	}
	it, err := f.db.Txn(false).Get(floorTable, floorID)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for obj := it.Next(); obj != nil; obj = it.Next() {
		rows++
	}
	if rows != n {
		t.Errorf("the floor holds %d memberships, want %d", rows, n)
	}
}

// TestMemory checks that both memory measurements see the memberships:
// well above nothing, well below a page each.
func TestMemory(t *testing.T) {
	const n = 2000
	for name, measure := range map[string]func(int) (uint64, error){"memstore": memstoreMemory, "floor": floorMemory} {
		grown, err := measure(n)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if per := float64(grown) / n; per < 64 || per > 64<<10 {
			t.Errorf("%s: %.0f B/membership, want something plausible", name, per)
		}
	}
}
