package membership

import (
	"context"
	"errors"
	"fmt"
)

// Service performs the operations on memberships: AddUserToSpace,
// RemoveUserFromSpace and ListSpaceMembers on a space's, and
// AddUserToOrganization and RemoveUserFromOrganization one level up; and
// the reads of spaces, GetSpace and ListSpaces. It is safe for concurrent
// use by any number of goroutines; it holds no state of its own beyond its
// Store and Authorizer.
//
// Each operation is written once, here, from the Store's two primitives:
// it validates its request, names what it reads (a Query), asks the
// Authorizer for a decision on the facts the Store read, and says what it
// writes once allowed (a Change). A new operation adds a Query, Rego rules
// keyed on its name in the policy input, and a Change; no Store changes.
type Service struct {
	store Store
	authz Authorizer
}

// NewService returns a Service that reads and writes through store and
// decides through authz.
func NewService(store Store, authz Authorizer) (*Service, error) {
	if store == nil || authz == nil {
		return nil, errors.New("membership: NewService needs a Store and an Authorizer")
	}
	return &Service{store: store, authz: authz}, nil
}

// AddUserToSpace gives req.UserID the role req.Role in req.SpaceID on behalf
// of req.Actor, running the checks of an add in their order: the input
// checks here (Validate), the others in the Authorizer on the facts the
// Store read. Nothing is written unless every check passes.
//
// It returns the membership with the role in the request's spelling and, for
// a custom role, its display name. Every error is an *Error: a deny by the
// policy, a validation error, or 500 internal / 503 unavailable for a
// failure of the store or the policy (fail closed; the cause is kept for
// errors.Unwrap).
func (s *Service) AddUserToSpace(ctx context.Context, req AddUserRequest) (Membership, error) {
	if err := req.Validate(); err != nil {
		return Membership{}, err
	}
	var displayName string
	w, err := s.write(ctx, req.Query(), func(f *Facts) Change {
		displayName = ""
		if f.CustomRole != nil {
			displayName = f.CustomRole.Name
		}
		return Change{Level: LevelSpace, Kind: ChangePut, Role: req.Role.Canonical(), Origin: req.Origin}
	})
	if err != nil {
		return Membership{}, err
	}
	m := w.Space
	m.Role.Spelling = req.Role.Spelling
	m.Role.DisplayName = displayName
	return m, nil
}

// RemoveUserFromSpace removes req.UserID from req.SpaceID on behalf of
// req.Actor, running the checks of a remove in their order. Only the space
// membership goes; the user's organization role and account stay. Errors
// are as for AddUserToSpace; removing a user who is not a member answers
// ErrMembershipNotFound.
func (s *Service) RemoveUserFromSpace(ctx context.Context, req RemoveUserRequest) error {
	if err := req.Validate(); err != nil {
		return err
	}
	_, err := s.write(ctx, req.Query(), func(*Facts) Change { return Change{Level: LevelSpace, Kind: ChangeDelete, Origin: req.Origin} })
	return err
}

// ListSpaceMembers returns a page of the members of req.SpaceID for
// req.Actor, running the checks of a list in their order, with the roles in
// the upper-case spelling. Errors are as for AddUserToSpace.
func (s *Service) ListSpaceMembers(ctx context.Context, req ListMembersRequest) (MemberPage, error) {
	pq, err := req.page()
	if err != nil {
		return MemberPage{}, err
	}
	q := Query{Operation: OperationList, Actor: req.Actor, SpaceID: req.SpaceID, Page: &pq}
	f, page, err := s.store.Read(ctx, q)
	if err != nil {
		return MemberPage{}, asError(err)
	}
	if err := s.decide(ctx, f); err != nil {
		return MemberPage{}, err
	}
	out := MemberPage{Members: page.Members, HasMore: page.More}
	for i := range out.Members {
		out.Members[i].Role.Spelling = SpellingUpper
	}
	if page.More && len(page.Members) > 0 {
		out.NextCursor = encodeCursor(req.SpaceID, page.Members[len(page.Members)-1].UserID)
	}
	return out, nil
}

// write runs an operation that changes a membership: the Store reads the
// facts of q, the Authorizer decides on them, and change says what the
// allowed operation writes.
func (s *Service) write(ctx context.Context, q Query, change func(*Facts) Change) (Written, error) {
	allowed := false // the last decision the store asked for allowed
	m, err := s.store.Write(ctx, q, func(f *Facts) (Change, error) {
		allowed = false
		if err := s.decide(ctx, f); err != nil {
			return Change{}, err
		}
		allowed = true
		return change(f), nil
	})
	if err != nil {
		return Written{}, asError(err)
	}
	if !allowed {
		// Fail closed even against a Store that skipped the decision.
		return Written{}, Internal(errors.New("store wrote without an allowing decision"))
	}
	return m, nil
}

// decide asks the Authorizer about f and returns nil for an allow, or the
// *Error that answers the request.
func (s *Service) decide(ctx context.Context, f *Facts) error {
	d, err := s.authz.Decide(ctx, f)
	if err != nil {
		return Internal(fmt.Errorf("policy: %w", err))
	}
	return d.Err()
}
