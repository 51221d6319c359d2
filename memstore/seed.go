package memstore

import (
	"context"
	"fmt"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The fixture.Seeder writes: each is one transaction that stores a copy of
// its argument, replacing a record with the same key. They check that IDs
// are IDs, not that references resolve; fixture.Seed validates a whole
// document before it writes.

// PutAccount stores an account.
func (s *Store) PutAccount(ctx context.Context, a membership.Account) error {
	return s.put(ctx, tableAccounts, &a, a.ID)
}

// PutUser stores a user.
func (s *Store) PutUser(ctx context.Context, u membership.User) error {
	return s.put(ctx, tableUsers, &u, u.ID, u.AccountID)
}

// PutOrganization stores an organization.
func (s *Store) PutOrganization(ctx context.Context, o membership.Organization) error {
	return s.put(ctx, tableOrganizations, &o, o.ID, o.AccountID)
}

// PutOrganizationMember stores a user's membership of an organization.
func (s *Store) PutOrganizationMember(ctx context.Context, m membership.OrganizationMember) error {
	if err := m.Role.Validate(); err != nil {
		return err
	}
	m.Role = m.Role.Canonical()
	return s.put(ctx, tableOrganizationMembers, &m, m.OrganizationID, m.UserID)
}

// PutSpace stores a space.
func (s *Store) PutSpace(ctx context.Context, sp membership.Space) error {
	return s.put(ctx, tableSpaces, &sp, sp.ID, sp.OrganizationID)
}

// PutCustomRole stores a custom role; its permissions are copied.
func (s *Store) PutCustomRole(ctx context.Context, r membership.CustomRole) error {
	r.Permissions = append([]membership.Permission(nil), r.Permissions...)
	return s.put(ctx, tableCustomRoles, &r, r.ID, r.AccountID)
}

// PutSpaceMember upserts the membership of userID in spaceID, as
// UpsertMembership would, but without any check.
func (s *Store) PutSpaceMember(ctx context.Context, spaceID, userID membership.ID, role membership.RoleAssignment) (membership.Membership, error) {
	req := membership.AddUserRequest{Actor: userID, SpaceID: spaceID, UserID: userID, Role: role}
	if err := req.Validate(); err != nil {
		return membership.Membership{}, err
	}
	return s.UpsertMembership(ctx, req, func(*membership.Facts) error { return nil })
}

func (s *Store) put(ctx context.Context, table string, obj any, ids ...membership.ID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if !id.Valid() {
			return fmt.Errorf("memstore: %s: %q: %w", table, id, errInvalidID)
		}
	}
	txn := s.db.Txn(true)
	defer txn.Abort()
	if err := txn.Insert(table, obj); err != nil {
		return fmt.Errorf("memstore: %s: %w", table, err)
	}
	txn.Commit()
	return nil
}
