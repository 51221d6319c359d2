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
	// tableAccountSpaces indexes spaces by the account of their
	// organization (see accountSpace).
	tableAccountSpaces = "account_spaces"
)

// accountSpace places a space in the account of its organization, for the
// list of every space of an account. A space records only its
// organization, and go-memdb indexes a record by its own fields, so this
// is a table of its own, kept by the writes of spaces and organizations.
type accountSpace struct {
	AccountID, SpaceID membership.ID
}

// indexID is the primary index of every table, as go-memdb requires.
const indexID = "id"

// Secondary indexes, each by a pair (a parent, then the record's own id) so
// that a record's children come out in id order and a walk can start after
// any of them: indexOrganization indexes spaces by (organization, space),
// for the cascade of an organization removal and for lists of spaces; and
// indexUser the
// memberships of organizations and spaces by (user, organization or space),
// so that a list of the spaces a user can read starts from the user's own
// memberships.
//
// indexPublic indexes the public spaces alone by (organization, space): the
// spaces a plain member of an organization reads, without the private ones
// beside them.
const (
	indexOrganization = "organization"
	indexPublic       = "public"
	indexUser         = "user"
)

// prefix names the prefix lookup of an index (go-memdb's convention).
func prefix(index string) string { return index + "_prefix" }

func table(name string, key *memdbkey.Index) *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: name,
		Indexes: map[string]*memdb.IndexSchema{
			indexID: {Name: indexID, Unique: true, Indexer: key},
		},
	}
}

// publicIndex adds indexPublic to the table of spaces: a private space has
// no key in it.
func publicIndex(t *memdb.TableSchema) *memdb.TableSchema {
	t.Indexes[indexPublic] = &memdb.IndexSchema{Name: indexPublic, Unique: true, AllowMissing: true,
		Indexer: memdbkey.ByPair(func(s *membership.Space) (membership.ID, membership.ID) {
			if s.IsPrivate {
				return "", ""
			}
			return s.OrganizationID, s.ID
		})}
	return t
}

// withIndex adds a unique secondary index by a pair to t.
func withIndex[T any](t *memdb.TableSchema, name string, pair func(*T) (membership.ID, membership.ID)) *memdb.TableSchema {
	t.Indexes[name] = &memdb.IndexSchema{Name: name, Unique: true, Indexer: memdbkey.ByPair(pair)}
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
		tableSpaces: publicIndex(withIndex(table(tableSpaces, memdbkey.ByID(func(s *membership.Space) membership.ID { return s.ID })),
			indexOrganization, func(s *membership.Space) (membership.ID, membership.ID) { return s.OrganizationID, s.ID })),
		tableCustomRoles:   table(tableCustomRoles, memdbkey.ByID(func(r *membership.CustomRole) membership.ID { return r.ID })),
		tableAccountSpaces: table(tableAccountSpaces, memdbkey.ByPair(func(a *accountSpace) (membership.ID, membership.ID) { return a.AccountID, a.SpaceID })),
		tableOrganizationMembers: withIndex(table(tableOrganizationMembers, memdbkey.ByPair(func(m *membership.OrganizationMember) (membership.ID, membership.ID) {
			return m.OrganizationID, m.UserID
		})), indexUser, func(m *membership.OrganizationMember) (membership.ID, membership.ID) {
			return m.UserID, m.OrganizationID
		}),
		tableSpaceMembers: withIndex(table(tableSpaceMembers, memdbkey.ByPair(func(m *membership.Membership) (membership.ID, membership.ID) {
			return m.SpaceID, m.UserID
		})), indexUser, func(m *membership.Membership) (membership.ID, membership.ID) { return m.UserID, m.SpaceID }),
		tableAuditLogs: auditTable(),
	}}
}
