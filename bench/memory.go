package main

import (
	"context"
	"runtime"
	"testing"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
)

// memoryMemberships is how many memberships the memory benchmarks store.
const memoryMemberships = 100_000

// benchMemoryPerMembership returns the body of
// MemoryPerMembership/<store>: the growth of the live heap while n
// memberships are written, per membership, reported as B/membership. It
// measures once, whatever b.N: one measurement is exact, and a store per
// iteration would turn -benchtime 1000x into a thousand stores. It reports
// no time, since the time of one fill divided by b.N means nothing.
func benchMemoryPerMembership(n int, measure func(int) (uint64, error)) func(*testing.B) {
	return func(b *testing.B) {
		grown, err := measure(n)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(grown)/float64(n), "B/membership")
		b.ReportMetric(0, "ns/op")
	}
}

// memstoreMemory returns how much a memstore grows when it takes the n
// memberships of a world whose users and spaces it already holds.
func memstoreMemory(n int) (uint64, error) {
	ctx := context.Background()
	w := newWorld(n)
	s := memstore.New()
	if err := fixture.Seed(ctx, s, w.fixture()); err != nil {
		return 0, err
	}
	return heapGrowth(s, func() error { return putMemberships(ctx, s, w) })
}

// floorMemory returns how much a bare go-memdb space members table grows
// when it takes the same n memberships.
func floorMemory(n int) (uint64, error) {
	w := newWorld(n)
	db, err := memdb.NewMemDB(floorSchema())
	if err != nil {
		return 0, err
	}
	return heapGrowth(db, func() error {
		txn := db.Txn(true)
		defer txn.Abort()
		for k := range n {
			space, user := w.membership(k)
			m := &membership.Membership{ID: newMembershipID(), SpaceID: fresh(space), UserID: fresh(user), Role: alternateRoles[1]}
			if err := txn.Insert(floorTable, m); err != nil {
				return err
			}
		}
		txn.Commit()
		return nil
	})
}

// heapGrowth returns by how much the live heap grows while fill runs; store
// is what fill fills, kept alive until the heap is measured. Garbage is
// collected before both measurements, so only what stays reachable counts.
func heapGrowth(store any, fill func() error) (uint64, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := fill(); err != nil {
		return 0, err
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(store)
	if after.HeapAlloc < before.HeapAlloc {
		return 0, nil
	}
	return after.HeapAlloc - before.HeapAlloc, nil
}
