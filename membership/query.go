package membership

// Query names what one request reads: the records behind its facts, and,
// for a list, a page of the space's memberships. An operation builds its
// Query; a Store reads it.
type Query struct {
	Operation Operation
	// Actor is the caller.
	Actor ID
	// SpaceID is the space a space operation is about; empty for an
	// organization operation.
	SpaceID ID
	// OrganizationID is the organization an organization operation is
	// about; empty for a space operation, whose organization is the
	// space's.
	OrganizationID ID
	// UserID is the target of an add or a remove; empty for a list.
	UserID ID
	// Role is the role an add asks for; the zero RoleAssignment otherwise.
	Role RoleAssignment
	// Page asks for a page of the space's memberships; nil for none.
	Page *PageQuery
}

// PageQuery asks for the memberships of Query.SpaceID whose user id comes
// after After (from the first when After is empty), in user id order, at
// most Limit of them.
type PageQuery struct {
	After ID
	Limit int
}

// Page is a page of a space's memberships, in user id order, roles in
// canonical form. More is set when memberships follow the last one.
type Page struct {
	Members []Membership
	More    bool
}

// Level names which membership of Query.UserID a Change is about.
type Level uint8

// The levels of membership. The zero Level names none.
const (
	// LevelSpace is the membership of Query.UserID in Query.SpaceID.
	LevelSpace Level = iota + 1
	// LevelOrganization is the membership of Query.UserID in
	// Query.OrganizationID.
	LevelOrganization
)

// ChangeKind says what a Change does.
type ChangeKind uint8

// The kinds of change. The zero ChangeKind changes nothing.
const (
	ChangeNone ChangeKind = iota
	// ChangePut gives the user the role Change.Role: a new membership with
	// a new id, or the existing one, keeping its id, with the new role.
	ChangePut
	// ChangeDelete removes the membership the facts hold (Existing, or
	// TargetOrganizationMember at LevelOrganization), and nothing else.
	ChangeDelete
	// ChangeDeleteCascade, at LevelOrganization only, removes the
	// organization membership the facts hold together with every
	// membership of the same user in the organization's spaces.
	ChangeDeleteCascade
)

// Change is what an operation writes once its decision allows it: one
// membership of Query.UserID, at the Level it names, and for a
// ChangeDeleteCascade the memberships below it.
type Change struct {
	Level Level
	Kind  ChangeKind
	// Role is the role of a ChangePut, in canonical form.
	Role RoleAssignment
	// Origin is the request's, for the change's audit entry.
	Origin Origin
}

// Written is what a Store's Write wrote.
type Written struct {
	// Space is the space membership of a change at LevelSpace: as stored
	// after a ChangePut, as it was before a ChangeDelete.
	Space Membership
	// Organization is the organization membership of a change at
	// LevelOrganization, in the same way.
	Organization OrganizationMember
	// Cascaded holds the space memberships that a ChangeDeleteCascade
	// removed with the organization membership, in space id order.
	Cascaded []Membership
	// Entry is the audit entry committed with the change; the zero
	// AuditEntry when the change changed nothing.
	Entry AuditEntry
}
