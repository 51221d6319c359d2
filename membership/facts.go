package membership

// Facts is everything a Store knows that bears on one request: the input of
// the Authorizer. A nil pointer means "not found" (or, where the query names
// nothing, "does not apply": no target for a list, no custom role unless
// one is requested). The Store looks records up by ID alone; keeping
// accounts apart is the policy's job, so a record of another account is
// still reported, with its AccountID.
//
// Pointers may refer to the Store's own records: a Facts value and
// everything it points to must not be modified. Facts is comparable; where a
// Store hands out its own immutable records (memstore does), two reads of
// unchanged records compare equal, and otherwise only by value (go-cmp).
type Facts struct {
	// Query is what the facts were read for: the operation, the actor, the
	// space, the target and the requested role.
	Query Query

	// Actor is the user behind Query.Actor.
	Actor *User
	// Space is the space Query.SpaceID names, and Organization its parent;
	// for an organization operation Space is nil and Organization is the
	// organization Query.OrganizationID names.
	Space        *Space
	Organization *Organization
	// ActorOrganizationRole and ActorSpaceRole are the actor's roles in
	// that organization and in the space; the zero Grant means none.
	ActorOrganizationRole Grant
	ActorSpaceRole        Grant

	// Target is the user Query.UserID names.
	Target *User
	// TargetOrganizationRole is the target's role in the organization; the
	// zero Grant means the target is not a member.
	TargetOrganizationRole Grant
	// TargetOrganizationMember is the record behind TargetOrganizationRole:
	// the target's current membership of the organization, if any.
	TargetOrganizationMember *OrganizationMember
	// Existing is the target's current membership of the space, if any
	// (always nil for an organization operation).
	Existing *Membership

	// CustomRole is the custom role Query.Role names, nil when the request
	// is for a predefined role or none, or when the role does not exist.
	CustomRole *CustomRole
}

// Grant is a role someone holds, with the custom role it names resolved.
type Grant struct {
	Role RoleAssignment
	// CustomRole is the role that Role names when Role is custom; nil when
	// that role does not exist.
	CustomRole *CustomRole
}

// Held reports whether g is a role at all (the zero Grant is not).
func (g Grant) Held() bool { return g.Role.Kind != 0 }
