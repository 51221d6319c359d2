package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// The membership.Seeder writes: each is one transaction that stores a copy of
// its argument, replacing a record with the same key. They check that IDs
// are IDs, not that references resolve; fixture.Seed validates a whole
// document before it writes. Import writes a whole fixture in one
// transaction.

// PutAccount stores an account.
func (s *Store) PutAccount(ctx context.Context, a membership.Account) error {
	return s.write(ctx, func(txn *memdb.Txn) error { return insertAccount(txn, a) })
}

// PutUser stores a user.
func (s *Store) PutUser(ctx context.Context, u membership.User) error {
	return s.write(ctx, func(txn *memdb.Txn) error { return insertUser(txn, u) })
}

// PutOrganization stores an organization.
func (s *Store) PutOrganization(ctx context.Context, o membership.Organization) error {
	return s.write(ctx, func(txn *memdb.Txn) error { return insertOrganization(txn, o) })
}

// PutOrganizationMember stores a user's membership of an organization.
func (s *Store) PutOrganizationMember(ctx context.Context, m membership.OrganizationMember) error {
	return s.write(ctx, func(txn *memdb.Txn) error { return insertOrganizationMember(txn, m) })
}

// PutSpace stores a space.
func (s *Store) PutSpace(ctx context.Context, sp membership.Space) error {
	return s.write(ctx, func(txn *memdb.Txn) error { return insertSpace(txn, sp) })
}

// PutCustomRole stores a custom role; its permissions are copied.
func (s *Store) PutCustomRole(ctx context.Context, r membership.CustomRole) error {
	return s.write(ctx, func(txn *memdb.Txn) error { return insertCustomRole(txn, r) })
}

// PutSpaceMember upserts the membership of userID in spaceID, as
// Write would, but with no decision.
func (s *Store) PutSpaceMember(ctx context.Context, spaceID, userID membership.ID, role membership.RoleAssignment) (membership.Membership, error) {
	req := membership.AddUserRequest{Actor: userID, SpaceID: spaceID, UserID: userID, Role: role}
	if err := req.Validate(); err != nil {
		return membership.Membership{}, err
	}
	var m membership.Membership
	err := s.write(ctx, func(txn *memdb.Txn) error {
		existing := first[membership.Membership](&reader{txn: txn}, tableSpaceMembers, string(spaceID), string(userID))
		var err error
		m, err = put(txn, spaceID, userID, existing, role)
		return err
	})
	return m, err
}

// Import validates f and writes all of it in a single transaction: the same
// records as fixture.Seed, orders of magnitude faster for a large fixture,
// and all or nothing.
func (s *Store) Import(ctx context.Context, f *fixture.Fixture) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if f == nil {
		return nil
	}
	return s.write(ctx, func(txn *memdb.Txn) error {
		for _, a := range f.Accounts {
			if err := insertAccount(txn, a); err != nil {
				return err
			}
		}
		for _, u := range f.Users {
			if err := insertUser(txn, u); err != nil {
				return err
			}
		}
		for _, o := range f.Organizations {
			if err := insertOrganization(txn, o); err != nil {
				return err
			}
		}
		for _, r := range f.Roles {
			if err := insertCustomRole(txn, r); err != nil {
				return err
			}
		}
		for _, m := range f.OrganizationMembers {
			if err := insertOrganizationMember(txn, m); err != nil {
				return err
			}
		}
		for _, sp := range f.Spaces {
			if err := insertSpace(txn, sp); err != nil {
				return err
			}
		}
		for _, m := range f.SpaceMembers {
			existing := first[membership.Membership](&reader{txn: txn}, tableSpaceMembers, string(m.SpaceID), string(m.UserID))
			if _, err := put(txn, m.SpaceID, m.UserID, existing, m.Role); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}

func insertAccount(txn *memdb.Txn, a membership.Account) error {
	return insert(txn, tableAccounts, &a, a.ID)
}

func insertUser(txn *memdb.Txn, u membership.User) error {
	return insert(txn, tableUsers, &u, u.ID, u.AccountID)
}

// insertOrganization stores o, and moves its spaces to o's account when it
// was in another one (or was not stored yet).
func insertOrganization(txn *memdb.Txn, o membership.Organization) error {
	r := reader{txn: txn}
	old := get[membership.Organization](&r, tableOrganizations, o.ID)
	if err := insert(txn, tableOrganizations, &o, o.ID, o.AccountID); err != nil || r.err != nil {
		return errors.Join(err, r.err)
	}
	if old != nil && old.AccountID == o.AccountID {
		return nil
	}
	return eachChild(txn, tableSpaces, indexOrganization, o.ID, func(obj any) error {
		sp := obj.(*membership.Space)
		if old != nil {
			if err := deleteAccountSpace(txn, old.AccountID, sp.ID); err != nil {
				return err
			}
		}
		return insert(txn, tableAccountSpaces, &accountSpace{AccountID: o.AccountID, SpaceID: sp.ID})
	})
}

// insertOrganizationMember upserts m; an empty m.ID keeps the existing
// membership's id or gets a new one.
func insertOrganizationMember(txn *memdb.Txn, m membership.OrganizationMember) error {
	if err := m.Role.Validate(); err != nil {
		return err
	}
	m.Role = m.Role.Canonical()
	if m.ID == "" {
		existing := first[membership.OrganizationMember](&reader{txn: txn}, tableOrganizationMembers, string(m.OrganizationID), string(m.UserID))
		if existing != nil {
			m.ID = existing.ID
		} else {
			m.ID = newMembershipID()
		}
	}
	return insert(txn, tableOrganizationMembers, &m, m.ID, m.OrganizationID, m.UserID)
}

// insertSpace stores sp; a zero CreatedAt becomes the time of seeding.
// insertSpace stores sp, and places it in the account of its organization
// (once that organization is stored, insertOrganization does).
func insertSpace(txn *memdb.Txn, sp membership.Space) error {
	sp.CreatedAt = membership.SpaceCreatedAt(sp.CreatedAt, time.Now())
	r := reader{txn: txn}
	accountOf := func(orgID membership.ID) membership.ID {
		if o := get[membership.Organization](&r, tableOrganizations, orgID); o != nil {
			return o.AccountID
		}
		return ""
	}
	if old := get[membership.Space](&r, tableSpaces, sp.ID); old != nil {
		if account := accountOf(old.OrganizationID); account != "" {
			if err := deleteAccountSpace(txn, account, sp.ID); err != nil {
				return err
			}
		}
	}
	if err := insert(txn, tableSpaces, &sp, sp.ID, sp.OrganizationID); err != nil {
		return err
	}
	if account := accountOf(sp.OrganizationID); account != "" {
		return insert(txn, tableAccountSpaces, &accountSpace{AccountID: account, SpaceID: sp.ID})
	}
	return r.err
}

// deleteAccountSpace takes the space out of the account's list.
func deleteAccountSpace(txn *memdb.Txn, account, spaceID membership.ID) error {
	if _, err := txn.DeleteAll(tableAccountSpaces, indexID, string(account), string(spaceID)); err != nil {
		return fmt.Errorf("memstore: %s: %w", tableAccountSpaces, err)
	}
	return nil
}

func insertCustomRole(txn *memdb.Txn, r membership.CustomRole) error {
	r.Permissions = slices.Clone(r.Permissions)
	return insert(txn, tableCustomRoles, &r, r.ID, r.AccountID)
}

// insert stores obj, a fresh copy, after checking that its ids are IDs.
func insert(txn *memdb.Txn, table string, obj any, ids ...membership.ID) error {
	for _, id := range ids {
		if !id.Valid() {
			return fmt.Errorf("memstore: %s: %q: %w", table, id, errInvalidID)
		}
	}
	if err := txn.Insert(table, obj); err != nil {
		return fmt.Errorf("memstore: %s: %w", table, err)
	}
	return nil
}

// write runs fn in one write transaction and commits unless fn or ctx
// fails.
func (s *Store) write(ctx context.Context, fn func(*memdb.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	txn := s.db.Txn(true)
	defer txn.Abort()
	if err := fn(txn); err != nil {
		return err
	}
	txn.Commit()
	return nil
}
