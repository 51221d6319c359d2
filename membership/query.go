package membership

// Query names what one request reads: the records behind its facts, and,
// for a list, a page of the space's memberships. An operation builds its
// Query; a Store reads it.
type Query struct {
	Operation Operation
	// Actor is the caller; SpaceID the space the request is about.
	Actor   ID
	SpaceID ID
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

// ChangeKind says what a Change does.
type ChangeKind uint8

// The kinds of change. The zero ChangeKind changes nothing.
const (
	ChangeNone ChangeKind = iota
	// ChangePut gives the user of the query the role Change.Role in the
	// space of the query: a new membership with a new id, or the existing
	// one, keeping its id, with the new role.
	ChangePut
	// ChangeDelete removes the user's membership of the space: the one the
	// facts hold as Existing.
	ChangeDelete
)

// Change is what an operation writes once its decision allows it: one
// membership, the one of Query.UserID in Query.SpaceID.
type Change struct {
	Kind ChangeKind
	// Role is the role of a ChangePut, in canonical form.
	Role RoleAssignment
}
