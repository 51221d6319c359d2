package membership

import "time"

// The entities of the domain. A Store hands out values of these types;
// they are plain data and carry no behaviour beyond validation.

// Account is a tenant. Nothing is visible across accounts.
type Account struct {
	ID ID `json:"id"`
}

// User is a user of an account.
type User struct {
	ID        ID          `json:"id"`
	AccountID ID          `json:"account_id"`
	Name      string      `json:"name"`
	Email     string      `json:"email"`
	Role      AccountRole `json:"role"`
}

// Organization groups spaces inside an account.
type Organization struct {
	ID        ID     `json:"id"`
	AccountID ID     `json:"account_id"`
	Name      string `json:"name"`
}

// OrganizationMember is a user's membership of an organization, with a
// predefined or custom role: the record AddUserToOrganization upserts and
// returns. There is at most one per (organization, user); its ID is the
// store's, kept by every upsert.
type OrganizationMember struct {
	ID             ID             `json:"id"`
	OrganizationID ID             `json:"organization_id"`
	UserID         ID             `json:"user_id"`
	Role           RoleAssignment `json:"role"`
}

// Space belongs to one organization, its parent.
type Space struct {
	ID             ID     `json:"id"`
	OrganizationID ID     `json:"organization_id"`
	Name           string `json:"name"`
	// Description may be empty.
	Description string `json:"description"`
	IsPrivate   bool   `json:"is_private"`
	// CreatedAt is when the space was created, in UTC.
	CreatedAt time.Time `json:"created_at"`
}

// Permission names something a role allows, such as ROLE_BINDING_CREATE.
// Permissions are open-ended strings; the ones the default policy reads are
// declared as constants.
type Permission string

// Permissions read by the default policy.
const (
	PermissionRoleBindingCreate Permission = "ROLE_BINDING_CREATE"
	PermissionRoleBindingDelete Permission = "ROLE_BINDING_DELETE"
	PermissionRoleBindingRead   Permission = "ROLE_BINDING_READ"
)

// CustomRole is an account's own RBAC role: a named set of permissions.
type CustomRole struct {
	ID          ID           `json:"id"`
	AccountID   ID           `json:"account_id"`
	Name        string       `json:"name"`
	Permissions []Permission `json:"permissions"`
}

// Membership is a user's membership of a space: the record AddUserToSpace
// upserts and returns. There is at most one per (space, user).
type Membership struct {
	ID      ID             `json:"id"`
	UserID  ID             `json:"user_id"`
	SpaceID ID             `json:"space_id"`
	Role    RoleAssignment `json:"role"`
}

// SpaceCreatedAt is the CreatedAt a store keeps for a space given at: at in
// UTC, or now in UTC when at is zero (a fixture may leave it out), at the
// microsecond that both stores keep.
func SpaceCreatedAt(at, now time.Time) time.Time {
	if at.IsZero() {
		at = now
	}
	return at.UTC().Truncate(time.Microsecond)
}
