package membership

// RemoveUserRequest asks to remove UserID from the space SpaceID, on behalf
// of Actor. A transport fills Actor from its own authentication and the
// rest from ParseRemoveUserRequest; Go callers may fill it directly.
type RemoveUserRequest struct {
	// Actor is the authenticated caller; empty means nobody is.
	Actor   ID
	SpaceID ID
	UserID  ID
	// Origin is what the transport knows of the request, kept in the
	// audit entry of the change.
	Origin Origin
}

// Validate runs the input checks of a remove, in their order: an actor is
// present (401), the space id and the user id are IDs (400 invalid_id).
func (r RemoveUserRequest) Validate() error {
	if err := checkActor(r.Actor); err != nil {
		return err
	}
	if !r.SpaceID.Valid() {
		return ErrInvalidID.with("space_id", "space_id is not an ID")
	}
	if !r.UserID.Valid() {
		return ErrInvalidID.with("user_id", "user_id is not an ID")
	}
	return nil
}

// ParseRemoveUserRequest builds the request of
// DELETE /v2/spaces/{space_id}/users/{user_id} from the authenticated actor
// and the two ids taken from the path (already percent-decoded), running the
// input checks of a remove. No body is read.
func ParseRemoveUserRequest(actor ID, spaceID, userID string) (RemoveUserRequest, error) {
	req := RemoveUserRequest{Actor: actor, SpaceID: ID(spaceID), UserID: ID(userID)}
	if err := req.Validate(); err != nil {
		return RemoveUserRequest{}, err
	}
	return req, nil
}

// Query is what a remove reads: the store's facts for it.
func (r RemoveUserRequest) Query() Query {
	return Query{Operation: OperationRemove, Actor: r.Actor, SpaceID: r.SpaceID, UserID: r.UserID}
}
