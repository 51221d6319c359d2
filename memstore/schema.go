package memstore

import memdb "github.com/hashicorp/go-memdb"

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

func byField(field string) memdb.Indexer { return &memdb.StringFieldIndex{Field: field} }

func byFields(fields ...string) memdb.Indexer {
	c := &memdb.CompoundIndex{}
	for _, f := range fields {
		c.Indexes = append(c.Indexes, byField(f))
	}
	return c
}

func idTable(name string) *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: name,
		Indexes: map[string]*memdb.IndexSchema{
			indexID: {Name: indexID, Unique: true, Indexer: byField("ID")},
		},
	}
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
		tableAccounts:      idTable(tableAccounts),
		tableUsers:         idTable(tableUsers),
		tableOrganizations: idTable(tableOrganizations),
		tableSpaces:        idTable(tableSpaces),
		tableCustomRoles:   idTable(tableCustomRoles),
		tableOrganizationMembers: {
			Name: tableOrganizationMembers,
			Indexes: map[string]*memdb.IndexSchema{
				indexID: {Name: indexID, Unique: true, Indexer: byFields("OrganizationID", "UserID")},
			},
		},
		tableSpaceMembers: {
			Name: tableSpaceMembers,
			Indexes: map[string]*memdb.IndexSchema{
				indexID: {Name: indexID, Unique: true, Indexer: byFields("SpaceID", "UserID")},
			},
		},
	}}
}
