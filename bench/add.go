package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The best-case store benchmarks time one AddUserToSpace that updates the
// same membership of a store holding n of them again and again, beside the
// floor: the same write on a bare go-memdb table of n rows. Every read hits
// the same records, so this is the fastest an add gets; the traffic add
// benchmarks (traffic_add.go) take a stream of different requests.

// benchAddUserToSpace returns the body of AddUserToSpace/memstore-<n>: the
// full service call (validation, facts, decision, upsert) on a memstore.
func benchAddUserToSpace(n int) func(*testing.B) {
	return func(b *testing.B) {
		s, err := memstoreWorld(n)
		if err != nil {
			b.Fatalf("seeding memstore with %d memberships: %v", n, err)
		}
		ctx := context.Background()
		if err := checkUpdate(s.add(ctx, 0)); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.add(ctx, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchAddUserToSpaceParallel returns the body of
// AddUserToSpaceParallel/memstore-<n>: the same call from GOMAXPROCS
// goroutines at once, each updating a membership of its own user. It
// reports throughput, the measure that parallelism should raise.
func benchAddUserToSpaceParallel(n int) func(*testing.B) {
	return func(b *testing.B) {
		s, err := memstoreWorld(n)
		if err != nil {
			b.Fatalf("seeding memstore with %d memberships: %v", n, err)
		}
		ctx := context.Background()
		var goroutines atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			u := int(goroutines.Add(1)-1) % len(s.world.users)
			for pb.Next() {
				if _, err := s.add(ctx, u); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
	}
}

// benchMemdbUpsertFloor returns the body of MemdbUpsertFloor/<n>.
func benchMemdbUpsertFloor(n int) func(*testing.B) {
	return func(b *testing.B) {
		f, err := floorWorld(n)
		if err != nil {
			b.Fatalf("building the floor with %d memberships: %v", n, err)
		}
		if err := checkUpdate(f.upsert(0)); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.upsert(0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// checkUpdate checks the result of an add that should update an existing
// membership with one of the alternating roles.
func checkUpdate(m membership.Membership, err error) error {
	if err != nil {
		return err
	}
	if m.ID == "" || !(m.Role.SameRole(alternateRoles[0]) || m.Role.SameRole(alternateRoles[1])) {
		return fmt.Errorf("the add returned %+v, not an updated membership", m)
	}
	return nil
}
