package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The membership.Seeder writes: each is one statement that inserts its record
// or replaces the one with the same key, and keeps nothing of its argument.
// Unlike memstore's, they need what a record refers to to exist already
// (the schema's foreign keys): fixture.Seed writes in that order.

// errMissingParent is the error of a write whose record refers to an
// organization that does not exist.
var errMissingParent = errors.New("pgstore: the organization does not exist")

// PutAccount stores an account.
func (s *Store) PutAccount(ctx context.Context, a membership.Account) error {
	return s.put(ctx, "account", a.ID, []membership.ID{a.ID},
		`INSERT INTO accounts (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, string(a.ID))
}

// PutUser stores a user.
func (s *Store) PutUser(ctx context.Context, u membership.User) error {
	if !u.Role.Valid() {
		return fmt.Errorf("pgstore: user %s: invalid account role %d", u.ID, u.Role)
	}
	return s.put(ctx, "user", u.ID, []membership.ID{u.ID, u.AccountID},
		`INSERT INTO users (id, account_id, name, email, role) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, name = excluded.name,
    email = excluded.email, role = excluded.role`,
		string(u.ID), string(u.AccountID), u.Name, u.Email, u.Role.String())
}

// PutOrganization stores an organization.
func (s *Store) PutOrganization(ctx context.Context, o membership.Organization) error {
	return s.put(ctx, "organization", o.ID, []membership.ID{o.ID, o.AccountID},
		`INSERT INTO organizations (id, account_id, name) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, name = excluded.name`,
		string(o.ID), string(o.AccountID), o.Name)
}

// PutOrganizationMember stores a user's membership of an organization, in
// the organization's account. The user must belong to that account. An
// empty m.ID keeps the existing membership's id, or gets a new one.
func (s *Store) PutOrganizationMember(ctx context.Context, m membership.OrganizationMember) error {
	if err := m.Role.Validate(); err != nil {
		return err
	}
	keep := m.ID == ""
	if keep {
		m.ID = newMembershipID()
	}
	predefined, customID := roleArgs(m.Role.Canonical())
	return s.put(ctx, "organization member", m.UserID, []membership.ID{m.ID, m.OrganizationID, m.UserID},
		`INSERT INTO organization_members (id, organization_id, user_id, account_id, predefined_role, custom_role_id)
SELECT $5, org.id, $2, org.account_id, $3, $4 FROM organizations AS org WHERE org.id = $1
ON CONFLICT (organization_id, user_id) DO UPDATE SET account_id = excluded.account_id,
    predefined_role = excluded.predefined_role, custom_role_id = excluded.custom_role_id,
    id = CASE WHEN $6::boolean THEN organization_members.id ELSE excluded.id END`,
		string(m.OrganizationID), string(m.UserID), predefined, customID, string(m.ID), keep)
}

// PutSpace stores a space, in its organization's account, with its folded
// name for the name filter of a list. A zero CreatedAt becomes the time of
// the write.
func (s *Store) PutSpace(ctx context.Context, sp membership.Space) error {
	createdAt := membership.SpaceCreatedAt(sp.CreatedAt, time.Now())
	return s.put(ctx, "space", sp.ID, []membership.ID{sp.ID, sp.OrganizationID},
		`INSERT INTO spaces (id, account_id, organization_id, name, description, is_private, created_at, name_fold)
SELECT $1, org.account_id, org.id, $3, $4, $5, $6, $7 FROM organizations AS org WHERE org.id = $2
ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, organization_id = excluded.organization_id,
    name = excluded.name, description = excluded.description, is_private = excluded.is_private,
    created_at = excluded.created_at, name_fold = excluded.name_fold`,
		string(sp.ID), string(sp.OrganizationID), sp.Name, sp.Description, sp.IsPrivate, createdAt, membership.FoldName(sp.Name))
}

// PutCustomRole stores a custom role with its permissions in their order.
func (s *Store) PutCustomRole(ctx context.Context, r membership.CustomRole) error {
	permissions := make([]string, len(r.Permissions))
	for i, p := range r.Permissions {
		permissions[i] = string(p)
	}
	return s.put(ctx, "custom role", r.ID, []membership.ID{r.ID, r.AccountID},
		`INSERT INTO custom_roles (id, account_id, name, permissions) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, name = excluded.name,
    permissions = excluded.permissions`,
		string(r.ID), string(r.AccountID), r.Name, permissions)
}

// PutSpaceMember upserts the membership of userID in spaceID, as Write
// would, but with no decision. The user must be a member of the space's
// organization: the schema holds every writer to that.
func (s *Store) PutSpaceMember(ctx context.Context, spaceID, userID membership.ID, role membership.RoleAssignment) (membership.Membership, error) {
	req := membership.AddUserRequest{Actor: userID, SpaceID: spaceID, UserID: userID, Role: role}
	if err := req.Validate(); err != nil {
		return membership.Membership{}, err
	}
	q := membership.Query{Operation: membership.OperationAdd, Actor: userID, SpaceID: spaceID, UserID: userID, Role: role}
	// A seed is no change anyone made: it writes no audit entry.
	w, err := s.write(ctx, q, func(*membership.Facts) (membership.Change, error) {
		return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: role}, nil
	}, withoutEntry)
	return w.Space, err
}

// put runs one write after checking that ids are IDs. A write of no row
// means the organization it names does not exist.
func (s *Store) put(ctx context.Context, what string, key membership.ID, ids []membership.ID, sql string, args ...any) error {
	for _, id := range ids {
		if !id.Valid() {
			return fmt.Errorf("pgstore: %s %q: %w", what, id, membership.ErrInvalidID)
		}
	}
	op := fmt.Sprintf("writing %s %s", what, key)
	pc, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer pc.Release()
	tag, err := pc.Exec(ctx, sql, args...)
	if err != nil {
		return classify(ctx, pc.Conn(), op, err)
	}
	if tag.RowsAffected() == 0 && what != "account" {
		return fmt.Errorf("pgstore: %s: %w", op, errMissingParent)
	}
	return nil
}
