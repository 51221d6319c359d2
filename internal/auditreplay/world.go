package auditreplay

import (
	"maps"
	"slices"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// OrganizationKey names a membership of an organization.
type OrganizationKey struct{ OrganizationID, UserID membership.ID }

// SpaceKey names a membership of a space.
type SpaceKey struct{ SpaceID, UserID membership.ID }

// World is the memberships of some accounts, with the records they rest
// on. Only the memberships change: the layout (who and where) is what a
// fixture seeds.
type World struct {
	// Users maps each user whose memberships count to its account.
	Users map[membership.ID]membership.ID
	// Organizations maps each organization to its account, Spaces each
	// space to its organization.
	Organizations map[membership.ID]membership.ID
	Spaces        map[membership.ID]membership.ID
	// Readers maps each account to a user of it that the store holds,
	// through whom Current and Changelog read: a read names an actor, and
	// the audit log lists nothing for one that names no user.
	Readers map[membership.ID]membership.ID
	// OrganizationMembers and SpaceMembers hold the role of each
	// membership, in canonical form. Membership ids are the store's own,
	// and are left out.
	OrganizationMembers map[OrganizationKey]membership.RoleAssignment
	SpaceMembers        map[SpaceKey]membership.RoleAssignment
}

// FromFixture returns the World that seeding f gives: its users,
// organizations and spaces, its memberships, and as the reader of each
// account the first of its users in fixture order.
func FromFixture(f *fixture.Fixture) World {
	w := emptyWorld()
	for _, u := range f.Users {
		w.Users[u.ID] = u.AccountID
		if _, ok := w.Readers[u.AccountID]; !ok {
			w.Readers[u.AccountID] = u.ID
		}
	}
	for _, o := range f.Organizations {
		w.Organizations[o.ID] = o.AccountID
	}
	for _, s := range f.Spaces {
		w.Spaces[s.ID] = s.OrganizationID
	}
	for _, m := range f.OrganizationMembers {
		w.OrganizationMembers[OrganizationKey{m.OrganizationID, m.UserID}] = m.Role.Canonical()
	}
	for _, m := range f.SpaceMembers {
		w.SpaceMembers[SpaceKey{m.SpaceID, m.UserID}] = m.Role.Canonical()
	}
	return w
}

func emptyWorld() World {
	return World{
		Users:               map[membership.ID]membership.ID{},
		Organizations:       map[membership.ID]membership.ID{},
		Spaces:              map[membership.ID]membership.ID{},
		Readers:             map[membership.ID]membership.ID{},
		OrganizationMembers: map[OrganizationKey]membership.RoleAssignment{},
		SpaceMembers:        map[SpaceKey]membership.RoleAssignment{},
	}
}

// Clone returns a copy of w that shares no map with it; a nil map of w is
// an empty one in the copy, ready for writes.
func (w World) Clone() World {
	return World{
		Users:               cloneMap(w.Users),
		Organizations:       cloneMap(w.Organizations),
		Spaces:              cloneMap(w.Spaces),
		Readers:             cloneMap(w.Readers),
		OrganizationMembers: cloneMap(w.OrganizationMembers),
		SpaceMembers:        cloneMap(w.SpaceMembers),
	}
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return maps.Clone(m)
}

// accounts returns, in id order, every account that holds an organization
// of w: those whose changelog can hold entries.
func (w World) accounts() []membership.ID {
	set := map[membership.ID]bool{}
	for _, a := range w.Organizations {
		set[a] = true
	}
	return slices.Sorted(maps.Keys(set))
}
