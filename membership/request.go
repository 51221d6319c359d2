package membership

// AddUserRequest asks to give UserID the role Role in the space SpaceID, on
// behalf of Actor. A transport fills Actor from its own authentication and
// the rest from ParseAddUserRequest; Go callers may fill it directly.
type AddUserRequest struct {
	// Actor is the authenticated caller; empty means nobody is.
	Actor   ID
	SpaceID ID
	UserID  ID
	Role    RoleAssignment
	// Origin is what the transport knows of the request, kept in the
	// audit entry of the change.
	Origin Origin
}

// Validate runs the input checks of an add on a typed request, in their
// order: an actor is present (401), the IDs are IDs (400 invalid_id), the
// required fields are there and well formed (422 invalid_field).
func (r AddUserRequest) Validate() error {
	return validateAdd(r.Actor, "space_id", r.SpaceID, r.UserID, r.Role)
}

// validateAdd runs the input checks of an add, at either level, on a typed
// request.
func validateAdd(actor ID, field string, scope, userID ID, role RoleAssignment) error {
	if err := checkActor(actor); err != nil {
		return err
	}
	if !scope.Valid() {
		return ErrInvalidID.with(field, field+" is not an ID")
	}
	if userID != "" && !userID.Valid() {
		return ErrInvalidID.with("user_id", "user_id is not an ID")
	}
	if role.ID != "" && !role.ID.Valid() {
		return ErrInvalidID.with("role.id", "role.id is not an ID")
	}
	if userID == "" {
		return ErrInvalidField.with("user_id", "user_id is required")
	}
	return role.Validate()
}

// ParseAddUserRequest builds the request of POST /v2/spaces/{space_id}/users
// from the authenticated actor, the space id taken from the path (already
// percent-decoded) and the JSON body, running the input checks of an add
// in their order. The role remembers the spelling of the body, so that the
// membership AddUserToSpace returns marshals in kind.
//
// JSON null counts as an absent member. Member names are case-sensitive.
func ParseAddUserRequest(actor ID, spaceID string, body []byte) (AddUserRequest, error) {
	userID, role, err := parseAddBody(actor, "space_id", ID(spaceID), body)
	if err != nil {
		return AddUserRequest{}, err
	}
	return AddUserRequest{Actor: actor, SpaceID: ID(spaceID), UserID: userID, Role: role}, nil
}

// parseAddBody runs the input checks of an add, at either level, on the id
// of what the member is added to (named field in errors) and the body.
func parseAddBody(actor ID, field string, scope ID, body []byte) (ID, RoleAssignment, error) {
	if err := checkActor(actor); err != nil {
		return "", RoleAssignment{}, err
	}
	var w wireAddUserBody
	if err := decodeTypes(body, &w, ""); err != nil {
		return "", RoleAssignment{}, err
	}
	if !scope.Valid() {
		return "", RoleAssignment{}, ErrInvalidID.with(field, field+" is not an ID")
	}
	if w.UserID != nil && !ID(*w.UserID).Valid() {
		return "", RoleAssignment{}, ErrInvalidID.with("user_id", "user_id is not an ID")
	}
	if err := w.Role.checkIDs("role"); err != nil {
		return "", RoleAssignment{}, err
	}
	if err := checkMembers(body, new(wireAddUserBody), ""); err != nil {
		return "", RoleAssignment{}, err
	}
	if w.UserID == nil {
		return "", RoleAssignment{}, ErrInvalidField.with("user_id", "user_id is required")
	}
	role, err := w.Role.assignment("role")
	if err != nil {
		return "", RoleAssignment{}, err
	}
	return ID(*w.UserID), role, nil
}

// checkActor is the first check of every operation: an actor is present.
// An actor id that names no user is refused later, by the policy, with the
// same answer.
func checkActor(actor ID) error {
	if actor == "" || !actor.Valid() {
		return ErrUnauthenticated
	}
	return nil
}

// Query is what an add reads: the store's facts for it.
func (r AddUserRequest) Query() Query {
	return Query{Operation: OperationAdd, Actor: r.Actor, SpaceID: r.SpaceID, UserID: r.UserID, Role: r.Role}
}
