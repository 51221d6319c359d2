package memstore

import (
	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/internal/memdbkey"
	"github.com/spaceauthz/spaceauthz/membership"
)

// Table names.
const (
	tableAccounts            = "accounts"
	tableUsers               = "users"
	tableOrganizations       = "organizations"
	tableOrganizationMembers = "organization_members"
	tableSpaces              = "spaces"
	tableCustomRoles         = "custom_roles"
	tableSpaceMembers        = "space_members"
)

// indexID is the primary index of every table, as go-memdb requires.
const indexID = "id"

// indexOrganization indexes spaces by their organization, for the cascade
// of an organization removal.
const indexOrganization = "organization"

func table(name string, key *memdbkey.Index) *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: name,
		Indexes: map[string]*memdb.IndexSchema{
			indexID: {Name: indexID, Unique: true, Indexer: key},
		},
	}
}

// spacesTable is the table of spaces, with an index by organization:
// spaces are few beside memberships, and the cascade of an organization
// removal looks up the user's membership of each of them.
func spacesTable() *memdb.TableSchema {
	t := table(tableSpaces, memdbkey.ByID(func(s *membership.Space) membership.ID { return s.ID }))
	t.Indexes[indexOrganization] = &memdb.IndexSchema{Name: indexOrganization,
		Indexer: memdbkey.ByID(func(s *membership.Space) membership.ID { return s.OrganizationID })}
	return t
}

// schema stores every entity as a pointer to its membership type, indexed
// by ID. Organization members are keyed by (organization, user), and space
// members by (space, user): the pair AddUserToSpace upserts on, so that an
// insert replaces the one membership of the pair, and a prefix scan lists a
// space's members. Every index costs some 400 bytes per membership, so there
// is no index by membership ID: nothing looks one up, and IDs of 128 random
// bits do not repeat.
func schema() *memdb.DBSchema {
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableAccounts:      table(tableAccounts, memdbkey.ByID(func(a *membership.Account) membership.ID { return a.ID })),
		tableUsers:         table(tableUsers, memdbkey.ByID(func(u *membership.User) membership.ID { return u.ID })),
		tableOrganizations: table(tableOrganizations, memdbkey.ByID(func(o *membership.Organization) membership.ID { return o.ID })),
		tableSpaces:        spacesTable(),
		tableCustomRoles:   table(tableCustomRoles, memdbkey.ByID(func(r *membership.CustomRole) membership.ID { return r.ID })),
		tableOrganizationMembers: table(tableOrganizationMembers, memdbkey.ByPair(func(m *membership.OrganizationMember) (membership.ID, membership.ID) {
			return m.OrganizationID, m.UserID
		})),
		tableSpaceMembers: table(tableSpaceMembers, memdbkey.ByPair(func(m *membership.Membership) (membership.ID, membership.ID) {
			return m.SpaceID, m.UserID
		})),
	}}
}
