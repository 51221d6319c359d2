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
}

// Validate runs the input checks of an add on a typed request, in their
// order: an actor is present (401), the IDs are IDs (400 invalid_id), the
// required fields are there and well formed (422 invalid_field).
func (r AddUserRequest) Validate() error {
	if err := checkActor(r.Actor); err != nil {
		return err
	}
	if !r.SpaceID.Valid() {
		return ErrInvalidID.with("space_id", "space_id is not an ID")
	}
	if r.UserID != "" && !r.UserID.Valid() {
		return ErrInvalidID.with("user_id", "user_id is not an ID")
	}
	if r.Role.ID != "" && !r.Role.ID.Valid() {
		return ErrInvalidID.with("role.id", "role.id is not an ID")
	}
	if r.UserID == "" {
		return ErrInvalidField.with("user_id", "user_id is required")
	}
	return r.Role.Validate()
}

// ParseAddUserRequest builds the request of POST /v2/spaces/{space_id}/users
// from the authenticated actor, the space id taken from the path (already
// percent-decoded) and the JSON body, running the input checks of an add
// in their order. The role remembers the spelling of the body, so that the
// membership AddUserToSpace returns marshals in kind.
//
// JSON null counts as an absent member. Member names are case-sensitive.
func ParseAddUserRequest(actor ID, spaceID string, body []byte) (AddUserRequest, error) {
	req := AddUserRequest{Actor: actor, SpaceID: ID(spaceID)}
	if err := checkActor(req.Actor); err != nil {
		return AddUserRequest{}, err
	}
	var w wireAddUserBody
	if err := decodeTypes(body, &w, ""); err != nil {
		return AddUserRequest{}, err
	}
	if !req.SpaceID.Valid() {
		return AddUserRequest{}, ErrInvalidID.with("space_id", "space_id is not an ID")
	}
	if w.UserID != nil && !ID(*w.UserID).Valid() {
		return AddUserRequest{}, ErrInvalidID.with("user_id", "user_id is not an ID")
	}
	if err := w.Role.checkIDs("role"); err != nil {
		return AddUserRequest{}, err
	}
	if err := checkMembers(body, new(wireAddUserBody), ""); err != nil {
		return AddUserRequest{}, err
	}
	if w.UserID == nil {
		return AddUserRequest{}, ErrInvalidField.with("user_id", "user_id is required")
	}
	req.UserID = ID(*w.UserID)
	role, err := w.Role.assignment("role")
	if err != nil {
		return AddUserRequest{}, err
	}
	req.Role = role
	return req, nil
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
