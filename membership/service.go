package membership

import (
	"context"
	"errors"
	"fmt"
)

// Service performs AddUserToSpace. It is safe for concurrent use by any
// number of goroutines; it holds no state of its own beyond its Store and
// Authorizer.
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
// of req.Actor, running the checks of SPEC section 3 in their order: checks 1
// to 3 here (Validate), checks 4 to 10 in the Authorizer on the facts the
// Store gathered. Nothing is written unless every check passes.
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
	var (
		allowed     bool // the last check the store ran allowed the write
		displayName string
	)
	m, err := s.store.UpsertMembership(ctx, req, func(f *Facts) error {
		allowed = false
		d, err := s.authz.Decide(ctx, f)
		if err != nil {
			return Internal(fmt.Errorf("policy: %w", err))
		}
		if err := d.Err(); err != nil {
			return err
		}
		displayName = ""
		if f.CustomRole != nil {
			displayName = f.CustomRole.Name
		}
		allowed = true
		return nil
	})
	if err != nil {
		return Membership{}, asError(err)
	}
	if !allowed {
		// Fail closed even against a Store that skipped the check.
		return Membership{}, Internal(errors.New("store wrote without an allowing decision"))
	}
	m.Role.Spelling = req.Role.Spelling
	m.Role.DisplayName = displayName
	return m, nil
}
