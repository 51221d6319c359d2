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

// Index names.
const (
	indexID        = "id"
	indexSpaceUser = "space_user"
)

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
// by ID. Organization members are keyed by (organization, user) and space
// members also by (space, user), the pair AddUserToSpace upserts on, which
// also lists a space's members (a prefix scan): every index costs memory
// per membership, so there is no third.
// go-memdb does not enforce uniqueness of a secondary index; the store does,
// by writing space members only inside its single write transaction after
// looking the pair up.
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
				indexID:        {Name: indexID, Unique: true, Indexer: byField("ID")},
				indexSpaceUser: {Name: indexSpaceUser, Unique: true, Indexer: byFields("SpaceID", "UserID")},
			},
		},
	}}
}
