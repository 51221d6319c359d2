package membership

import (
	"context"
	"errors"
)

// AddOrganizationUserRequest asks to give UserID the role Role in the
// organization OrganizationID, on behalf of Actor. A transport fills Actor
// from its own authentication and the rest from
// ParseAddOrganizationUserRequest; Go callers may fill it directly.
type AddOrganizationUserRequest struct {
	// Actor is the authenticated caller; empty means nobody is.
	Actor          ID
	OrganizationID ID
	UserID         ID
	Role           RoleAssignment
	// Origin is what the transport knows of the request, kept in the
	// audit entry of the change.
	Origin Origin
}

// Validate runs the input checks of an organization add on a typed
// request, in their order: an actor is present (401), the IDs are IDs (400
// invalid_id), the required fields are there and well formed (422
// invalid_field).
func (r AddOrganizationUserRequest) Validate() error {
	return validateAdd(r.Actor, "organization_id", r.OrganizationID, r.UserID, r.Role)
}

// ParseAddOrganizationUserRequest builds the request of
// POST /v2/organizations/{org_id}/users from the authenticated actor, the
// organization id taken from the path (already percent-decoded) and the
// JSON body, whose shape is that of a space add's, running the input checks
// in their order. The role remembers the spelling of the body.
func ParseAddOrganizationUserRequest(actor ID, organizationID string, body []byte) (AddOrganizationUserRequest, error) {
	userID, role, err := parseAddBody(actor, "organization_id", ID(organizationID), body)
	if err != nil {
		return AddOrganizationUserRequest{}, err
	}
	return AddOrganizationUserRequest{Actor: actor, OrganizationID: ID(organizationID), UserID: userID, Role: role}, nil
}

// Query is what an organization add reads: the store's facts for it.
func (r AddOrganizationUserRequest) Query() Query {
	return Query{Operation: OperationOrgAdd, Actor: r.Actor, OrganizationID: r.OrganizationID, UserID: r.UserID, Role: r.Role}
}

// RemoveOrganizationUserRequest asks to remove UserID from the organization
// OrganizationID, and from every space of it, on behalf of Actor.
type RemoveOrganizationUserRequest struct {
	// Actor is the authenticated caller; empty means nobody is.
	Actor          ID
	OrganizationID ID
	UserID         ID
	// Origin is what the transport knows of the request, kept in the
	// audit entry of the change.
	Origin Origin
}

// Validate runs the input checks of an organization remove, in their
// order: an actor is present (401), the organization id and the user id
// are IDs (400 invalid_id).
func (r RemoveOrganizationUserRequest) Validate() error {
	if err := checkActor(r.Actor); err != nil {
		return err
	}
	if !r.OrganizationID.Valid() {
		return ErrInvalidID.with("organization_id", "organization_id is not an ID")
	}
	if !r.UserID.Valid() {
		return ErrInvalidID.with("user_id", "user_id is not an ID")
	}
	return nil
}

// ParseRemoveOrganizationUserRequest builds the request of
// DELETE /v2/organizations/{org_id}/users/{user_id} from the authenticated
// actor and the two ids taken from the path (already percent-decoded),
// running the input checks of an organization remove. No body is read.
func ParseRemoveOrganizationUserRequest(actor ID, organizationID, userID string) (RemoveOrganizationUserRequest, error) {
	req := RemoveOrganizationUserRequest{Actor: actor, OrganizationID: ID(organizationID), UserID: ID(userID)}
	if err := req.Validate(); err != nil {
		return RemoveOrganizationUserRequest{}, err
	}
	return req, nil
}

// Query is what an organization remove reads: the store's facts for it.
func (r RemoveOrganizationUserRequest) Query() Query {
	return Query{Operation: OperationOrgRemove, Actor: r.Actor, OrganizationID: r.OrganizationID, UserID: r.UserID}
}

// AddUserToOrganization gives req.UserID the role req.Role in
// req.OrganizationID on behalf of req.Actor, running the checks of an
// organization add in their order: the input checks here (Validate), the
// others in the Authorizer on the facts the Store read. The user's space
// memberships are not touched. Nothing is written unless every check
// passes.
//
// It returns the organization membership with the role in the request's
// spelling and, for a custom role, its display name; an upsert keeps the
// membership's id. Errors are as for AddUserToSpace, with
// ErrOrganizationNotFound where a space operation has ErrSpaceNotFound.
func (s *Service) AddUserToOrganization(ctx context.Context, req AddOrganizationUserRequest) (OrganizationMember, error) {
	if err := req.Validate(); err != nil {
		return OrganizationMember{}, err
	}
	var displayName string
	w, err := s.write(ctx, req.Query(), func(f *Facts) Change {
		displayName = ""
		if f.CustomRole != nil {
			displayName = f.CustomRole.Name
		}
		return Change{Level: LevelOrganization, Kind: ChangePut, Role: req.Role.Canonical(), Origin: req.Origin}
	})
	if err != nil {
		return OrganizationMember{}, atOrganization(err)
	}
	m := w.Organization
	m.Role.Spelling = req.Role.Spelling
	m.Role.DisplayName = displayName
	return m, nil
}

// RemoveUserFromOrganization removes req.UserID from req.OrganizationID on
// behalf of req.Actor, running the checks of an organization remove in
// their order, and with it every membership of that user in the
// organization's spaces, in one atomic step (see Store.Write): no space
// membership outlives the organization membership it rests on. The user's
// account and their memberships of other organizations stay. Removing a
// user who is not a member answers ErrMembershipNotFound.
func (s *Service) RemoveUserFromOrganization(ctx context.Context, req RemoveOrganizationUserRequest) error {
	if err := req.Validate(); err != nil {
		return err
	}
	_, err := s.write(ctx, req.Query(), func(*Facts) Change {
		return Change{Level: LevelOrganization, Kind: ChangeDeleteCascade, Origin: req.Origin}
	})
	return atOrganization(err)
}

// organizationDetails explains, for an organization operation, the classes
// whose fixed detail speaks of a space.
var organizationDetails = map[Code]string{
	CodeForbidden:               "the caller may not change the members of this organization",
	CodeMembershipNotFound:      "the user is not a member of the organization",
	CodeAnnotatorRoleRequired:   "a user whose account role is ANNOTATOR can only be given the annotator organization role",
	CodeAnnotatorRoleNotAllowed: "only a user whose account role is ANNOTATOR can be given the annotator organization role",
}

// atOrganization gives an error of an organization operation the detail of
// its level; the class, the rule and the cause stay.
func atOrganization(err error) error { return reword(err, organizationDetails) }

// reword replaces the fixed detail of err's class with the one details
// gives it, for an operation whose subject is not a space; the class, the
// rule and the cause stay, and a host rule's own detail is left alone.
func reword(err error, details map[Code]string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	detail, ok := details[e.Code]
	if !ok || e.Detail != sentinels[rank(e.Code)].Detail {
		return err
	}
	c := *e
	c.Detail = detail
	return &c
}
