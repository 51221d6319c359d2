package pgstore

import (
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/spaceauthz/spaceauthz/membership"
)

// factsQuery reads every record behind the Facts of one operation in one
// statement, looking records up by ID alone as memstore does. A space
// operation names its space ($3) and works in the space's organization; an
// organization operation names no space and its organization ($5). The
// grants in the organization are read only when it is found that way (the
// space exists, or the organization named does), the requested custom role
// only when $4 (the role ID, NULL for a predefined role) is set. It returns
// exactly one row, with NULLs for what is missing.
const factsQuery = `SELECT
    actor.id, actor.account_id, actor.name, actor.email, actor.role,
    target.id, target.account_id, target.name, target.email, target.role,
    sp.id, sp.organization_id, sp.name, sp.description, sp.is_private, sp.created_at,
    org.id, org.account_id, org.name,
    actor_org.predefined_role, actor_org.custom_role_id,
    actor_org_role.id, actor_org_role.account_id, actor_org_role.name, actor_org_role.permissions,
    actor_space.predefined_role, actor_space.custom_role_id,
    actor_space_role.id, actor_space_role.account_id, actor_space_role.name, actor_space_role.permissions,
    target_org.id, target_org.predefined_role, target_org.custom_role_id,
    target_org_role.id, target_org_role.account_id, target_org_role.name, target_org_role.permissions,
    existing.id, existing.predefined_role, existing.custom_role_id,
    requested.id, requested.account_id, requested.name, requested.permissions
FROM (VALUES (1)) AS request (one)
LEFT JOIN users AS actor ON actor.id = $1
LEFT JOIN users AS target ON target.id = $2
LEFT JOIN spaces AS sp ON sp.id = $3
LEFT JOIN organizations AS org ON org.id = COALESCE(sp.organization_id, $5)
LEFT JOIN organization_members AS actor_org
    ON actor_org.organization_id = COALESCE(sp.organization_id, org.id) AND actor_org.user_id = $1
LEFT JOIN custom_roles AS actor_org_role ON actor_org_role.id = actor_org.custom_role_id
LEFT JOIN space_members AS actor_space ON actor_space.space_id = sp.id AND actor_space.user_id = $1
LEFT JOIN custom_roles AS actor_space_role ON actor_space_role.id = actor_space.custom_role_id
LEFT JOIN organization_members AS target_org
    ON target_org.organization_id = COALESCE(sp.organization_id, org.id) AND target_org.user_id = $2
LEFT JOIN custom_roles AS target_org_role ON target_org_role.id = target_org.custom_role_id
LEFT JOIN space_members AS existing ON existing.space_id = sp.id AND existing.user_id = $2
LEFT JOIN custom_roles AS requested ON requested.id = $4`

// factsArgs are the arguments of factsQuery for q: NULL, which matches no
// row, for a target or a custom role the query does not name, and for the
// space or the organization of the level q does not work at.
func factsArgs(q membership.Query) []any {
	var roleID any
	if q.Role.Kind == membership.RoleKindCustom {
		roleID = string(q.Role.ID)
	}
	var spaceID, orgID any
	if q.Operation.Level() == membership.LevelOrganization {
		orgID = string(q.OrganizationID)
	} else {
		spaceID = string(q.SpaceID)
	}
	return []any{string(q.Actor), nullable(q.UserID), spaceID, roleID, orgID}
}

// pageQuery reads a page of a space's memberships after a user, in user id
// order byte by byte, one more than the page holds to tell whether more
// follow.
const pageQuery = `SELECT id, user_id, predefined_role, custom_role_id FROM space_members
WHERE space_id = $1 AND user_id COLLATE "C" > $2
ORDER BY user_id COLLATE "C"
LIMIT $3`

// scanPage reads the rows of pageQuery.
func scanPage(br pgx.BatchResults, q membership.Query) (membership.Page, error) {
	rows, err := br.Query()
	if err != nil {
		return membership.Page{}, err
	}
	var page membership.Page
	for rows.Next() {
		var (
			id, userID string
			role       roleColumns
		)
		if err := rows.Scan(&id, &userID, &role.predefined, &role.customID); err != nil {
			rows.Close()
			return membership.Page{}, err
		}
		if len(page.Members) == q.Page.Limit {
			page.More = true
			continue
		}
		r, err := role.assignment()
		if err != nil {
			rows.Close()
			return membership.Page{}, err
		}
		page.Members = append(page.Members, membership.Membership{ID: membership.ID(id), UserID: membership.ID(userID), SpaceID: q.SpaceID, Role: r})
	}
	rows.Close()
	return page, rows.Err()
}

// The row of factsQuery, column by column.
type (
	userColumns struct {
		id, accountID, name, email, role pgtype.Text
	}
	customRoleColumns struct {
		id, accountID, name pgtype.Text
		permissions         []string
	}
	roleColumns struct {
		predefined, customID pgtype.Text
	}
	grantColumns struct {
		role       roleColumns
		customRole customRoleColumns
	}
	// spaceColumns and organizationColumns are a space and an
	// organization as every statement of the store selects them.
	spaceColumns struct {
		id, organizationID, name, description pgtype.Text
		isPrivate                             pgtype.Bool
		createdAt                             pgtype.Timestamptz
	}
	organizationColumns struct{ id, accountID, name pgtype.Text }
	factsRow            struct {
		actor, target userColumns
		space         spaceColumns
		organization  organizationColumns
		actorOrg      grantColumns
		actorSpace    grantColumns
		targetOrgID   pgtype.Text
		targetOrg     grantColumns
		existing      struct {
			id   pgtype.Text
			role roleColumns
		}
		requested customRoleColumns
	}
)

func (u *userColumns) dest() []any {
	return []any{&u.id, &u.accountID, &u.name, &u.email, &u.role}
}

func (r *customRoleColumns) dest() []any {
	return []any{&r.id, &r.accountID, &r.name, &r.permissions}
}

func (g *grantColumns) dest() []any {
	return append([]any{&g.role.predefined, &g.role.customID}, g.customRole.dest()...)
}

func (c *spaceColumns) dest() []any {
	return []any{&c.id, &c.organizationID, &c.name, &c.description, &c.isPrivate, &c.createdAt}
}

// space returns the space the columns hold, nil when none was found.
func (c *spaceColumns) space() *membership.Space {
	if !c.id.Valid {
		return nil
	}
	return &membership.Space{
		ID:             membership.ID(c.id.String),
		OrganizationID: membership.ID(c.organizationID.String),
		Name:           c.name.String,
		Description:    c.description.String,
		IsPrivate:      c.isPrivate.Bool,
		CreatedAt:      c.createdAt.Time.UTC(),
	}
}

func (c *organizationColumns) dest() []any { return []any{&c.id, &c.accountID, &c.name} }

// organization returns the organization the columns hold, nil when none
// was found.
func (c *organizationColumns) organization() *membership.Organization {
	if !c.id.Valid {
		return nil
	}
	return &membership.Organization{
		ID:        membership.ID(c.id.String),
		AccountID: membership.ID(c.accountID.String),
		Name:      c.name.String,
	}
}

// scanFacts reads the row of factsQuery into Facts for q.
func scanFacts(row pgx.Row, q membership.Query) (*membership.Facts, error) {
	var r factsRow
	dest := make([]any, 0, 45)
	dest = append(dest, r.actor.dest()...)
	dest = append(dest, r.target.dest()...)
	dest = append(dest, r.space.dest()...)
	dest = append(dest, r.organization.dest()...)
	dest = append(dest, r.actorOrg.dest()...)
	dest = append(dest, r.actorSpace.dest()...)
	dest = append(dest, &r.targetOrgID)
	dest = append(dest, r.targetOrg.dest()...)
	dest = append(dest, &r.existing.id, &r.existing.role.predefined, &r.existing.role.customID)
	dest = append(dest, r.requested.dest()...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}

	f := &membership.Facts{Query: q}
	var err error
	if f.Actor, err = r.actor.user(); err != nil {
		return nil, err
	}
	if f.Target, err = r.target.user(); err != nil {
		return nil, err
	}
	f.Space, f.Organization = r.space.space(), r.organization.organization()
	for _, g := range []struct {
		to   *membership.Grant
		from *grantColumns
	}{
		{&f.ActorOrganizationRole, &r.actorOrg},
		{&f.ActorSpaceRole, &r.actorSpace},
		{&f.TargetOrganizationRole, &r.targetOrg},
	} {
		if *g.to, err = g.from.grant(); err != nil {
			return nil, err
		}
	}
	if r.targetOrgID.Valid {
		f.TargetOrganizationMember = &membership.OrganizationMember{
			ID:             membership.ID(r.targetOrgID.String),
			OrganizationID: organizationOf(f),
			UserID:         q.UserID,
			Role:           f.TargetOrganizationRole.Role,
		}
	}
	if r.existing.id.Valid {
		role, err := r.existing.role.assignment()
		if err != nil {
			return nil, err
		}
		f.Existing = &membership.Membership{ID: membership.ID(r.existing.id.String), UserID: q.UserID, SpaceID: q.SpaceID, Role: role}
	}
	f.CustomRole = r.requested.customRole()
	return f, nil
}

func (u *userColumns) user() (*membership.User, error) {
	if !u.id.Valid {
		return nil, nil
	}
	role, err := membership.ParseAccountRole(u.role.String)
	if err != nil {
		return nil, fmt.Errorf("pgstore: user %s has the account role %q: %w", u.id.String, u.role.String, err)
	}
	return &membership.User{
		ID:        membership.ID(u.id.String),
		AccountID: membership.ID(u.accountID.String),
		Name:      u.name.String,
		Email:     u.email.String,
		Role:      role,
	}, nil
}

// customRole returns the role, or nil if it was not found. Empty
// permissions are nil, as memstore keeps them.
func (r *customRoleColumns) customRole() *membership.CustomRole {
	if !r.id.Valid {
		return nil
	}
	c := &membership.CustomRole{
		ID:        membership.ID(r.id.String),
		AccountID: membership.ID(r.accountID.String),
		Name:      r.name.String,
	}
	if len(r.permissions) > 0 {
		c.Permissions = make([]membership.Permission, len(r.permissions))
		for i, p := range r.permissions {
			c.Permissions[i] = membership.Permission(p)
		}
	}
	return c
}

// grant returns the zero Grant when the role columns are NULL (no
// membership).
func (g *grantColumns) grant() (membership.Grant, error) {
	if !g.role.predefined.Valid && !g.role.customID.Valid {
		return membership.Grant{}, nil
	}
	role, err := g.role.assignment()
	if err != nil {
		return membership.Grant{}, err
	}
	return membership.Grant{Role: role, CustomRole: g.customRole.customRole()}, nil
}

func (c roleColumns) assignment() (membership.RoleAssignment, error) {
	if c.customID.Valid {
		return membership.Custom(membership.ID(c.customID.String)), nil
	}
	name, err := membership.ParsePredefinedRole(c.predefined.String)
	if err != nil {
		return membership.RoleAssignment{}, fmt.Errorf("pgstore: stored role: %w", err)
	}
	return membership.Predefined(name), nil
}

// roleArgs are the (predefined_role, custom_role_id) column values of a
// canonical role.
func roleArgs(r membership.RoleAssignment) (predefined, customID any) {
	if r.Kind == membership.RoleKindCustom {
		return nil, string(r.ID)
	}
	return r.Name.String(), nil
}

// organizationID is the id of the organization the facts are about: the
// space's, or the one an organization operation names.
func organizationOf(f *membership.Facts) membership.ID {
	if f.Space != nil {
		return f.Space.OrganizationID
	}
	return f.Query.OrganizationID
}
