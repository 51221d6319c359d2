// Package storetest is the conformance suite for membership.Store
// implementations. A store passes it by calling Run from a test of its own,
// under -race:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return memstore.New() })
//	}
package storetest

import (
	"context"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// Store is what the suite needs of a store: the service's interface, the
// seeding writes, and a way to list a space's memberships.
type Store interface {
	membership.Store
	fixture.Seeder
	SpaceMembers(ctx context.Context, spaceID membership.ID) ([]membership.Membership, error)
}

// Run runs the suite. newStore must return a new, empty store each time it
// is called; the tests run in parallel, each on its own store.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		test func(*testing.T, Store)
	}{
		{"Facts", testFacts},
		{"FactsOfMissingRecords", testFactsOfMissingRecords},
		{"Create", testCreate},
		{"RepeatIsIdempotent", testRepeat},
		{"RoleChangeKeepsID", testRoleChange},
		{"DeniedWritesNothing", testDenied},
		{"CancelledWritesNothing", testCancelled},
		{"CancelledDuringCheckWritesNothing", testCancelledDuringCheck},
		{"QuietStoreChecksOnce", testChecksOnce},
		{"ChangedFactsAreRechecked", testRevalidation},
		{"ConcurrentSameUser", testConcurrentSameUser},
		{"ConcurrentDifferentUsers", testConcurrentDifferentUsers},
		{"IDsAreUniqueAcrossSpaces", testUniqueIDs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newStore(t))
		})
	}
}
