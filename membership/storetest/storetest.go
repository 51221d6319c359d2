// Package storetest is the conformance suite for membership.Store
// implementations. A store passes it by calling Run from a test of its own,
// under -race:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return memstore.New() })
//	}
//
// The suite checks the promise of membership.Store.Write as its godoc
// states it, no more: a write takes effect only on current facts, where a
// record the facts hold changed or went, or the target's membership
// appeared or went, while decide ran; two racing adds leave one
// membership, two racing removes one removal, a remove racing an add one
// of their two orders. One level up, an organization membership is
// upserted like a space's, and its removal takes the user's memberships of
// the organization's spaces in one atomic step, which no racing add
// survives and no reader sees half done. Every write that changes a
// membership commits one audit entry, exactly the record of its change,
// which Write returns and AuditLog then lists; nothing else commits one.
// The log reads newest first, narrowed by position, time and actor, or in
// commit order as a changelog, of the reader's account only; a reader
// following the changelog while writers commit sees every entry once, in
// order. A decide function here stands for the policy, and writes from
// inside it stand for concurrent writers.
package storetest

import (
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

// Store is what the suite needs of a store: the service's interface and
// the seeding writes.
type Store interface {
	membership.Store
	membership.Seeder
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
		{"FactsOfEachOperation", testFactsOfEachOperation},
		{"Create", testCreate},
		{"RepeatIsIdempotent", testRepeat},
		{"RoleChangeKeepsID", testRoleChange},
		{"NoChangeWritesNothing", testNoChange},
		{"DeniedWritesNothing", testDenied},
		{"CancelledWritesNothing", testCancelled},
		{"CancelledDuringDecideWritesNothing", testCancelledDuringDecide},
		{"QuietStoreDecidesOnce", testDecidesOnce},
		{"ChangedRecordIsRedecided", testChangedRecord},
		{"AppearingMembershipIsRedecided", testAppearingMembership},
		{"VanishingMembershipIsRedecided", testVanishingMembership},
		{"Remove", testRemove},
		{"RemoveOfNoMembership", testRemoveNothing},
		{"ConcurrentSameUser", testConcurrentSameUser},
		{"ConcurrentDifferentUsers", testConcurrentDifferentUsers},
		{"ConcurrentRemoves", testConcurrentRemoves},
		{"RemoveRacingAdd", testRemoveRacingAdd},
		{"IDsAreUniqueAcrossSpaces", testUniqueIDs},
		{"PagesInUserOrder", testPages},
		{"PageWalkUnderConcurrentWrites", testPageWalkUnderWrites},
		{"SeededSpaceCreatedAt", testSeededSpaceCreatedAt},
		{"OrganizationFacts", testOrganizationFacts},
		{"OrganizationAdd", testOrganizationAdd},
		{"UpsertAtEachLevel", testUpsertAtEachLevel},
		{"SpacePutOutsideOrganization", testSpacePutOutsideOrganization},
		{"OrganizationDelete", testOrganizationDelete},
		{"ChangeAtAnotherLevel", testChangeAtAnotherLevel},
		{"Cascade", testCascade},
		{"CascadeTakesLateMemberships", testCascadeTakesLateMemberships},
		{"ConcurrentOrganizationRemoves", testConcurrentOrganizationRemoves},
		{"CascadeIsAtomicToReaders", testCascadeIsAtomicToReaders},
		{"SpaceAddRacingOrganizationRemoval", testSpaceAddRacingOrganizationRemoval},
		{"SpacesInIDOrder", testSpacesInIDOrder},
		{"SpacesNarrowed", testSpacesNarrowed},
		{"SpacesCondition", testSpacesCondition},
		{"SpacesDecide", testSpacesDecide},
		{"SpacesDecideError", testSpacesDecideError},
		{"SpacesOfNoUser", testSpacesOfNoUser},
		{"SpacesOfOneAccount", testSpacesOfOneAccount},
		{"SpacesFollowTheirAccount", testSpacesFollowTheirAccount},
		{"SpaceWalkUnderConcurrentWrites", testSpaceWalkUnderWrites},
		{"SeederWritesNoEntry", testSeederWritesNoEntry},
		{"AuditEntryOfEachChange", testAuditEntryOfEachChange},
		{"AuditNoEntryWithoutChange", testAuditNoEntryWithoutChange},
		{"AuditLogQueries", testAuditLogQueries},
		{"AuditLogOfOneAccount", testAuditLogOfOneAccount},
		{"ChangelogUnderConcurrentWrites", testChangelogUnderConcurrentWrites},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newStore(t))
		})
	}
}
