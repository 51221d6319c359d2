package policytest

import (
	"slices"

	"github.com/spaceauthz/spaceauthz/membership"
)

// Role is a role in a Situation: one someone holds (in the organization or
// the space, or as a membership of the space) or one an add asks for. It is
// a predefined role, a custom role, or, as the zero Role, none at all.
// A Role is a value: its methods return a changed copy.
type Role struct {
	kind       membership.RoleKind
	predefined membership.PredefinedRole

	// Of a custom role: its name, from which its id derives (see
	// CustomRoleID), and its permissions.
	name        string
	permissions []membership.Permission
	// foreign places the custom role in another account than the actor's;
	// missing has the store find no role behind its id.
	foreign bool
	missing bool
}

// Predefined returns the predefined role name (membership.RoleAdmin, ...).
func Predefined(name membership.PredefinedRole) Role {
	return Role{kind: membership.RoleKindPredefined, predefined: name}
}

// Custom returns the custom role called name, of the actor's account, that
// grants permissions (such as membership.PermissionRoleBindingCreate). Its
// id is CustomRoleID(name), so that two Custom roles of one name are one
// role.
func Custom(name string, permissions ...membership.Permission) Role {
	return Role{kind: membership.RoleKindCustom, name: name, permissions: slices.Clone(permissions)}
}

// NoRole returns the zero Role: no role held, or none requested.
func NoRole() Role { return Role{} }

// InAnotherAccount returns r as a custom role of another account than the
// actor's, which the default policy never counts. It leaves a predefined
// role alone.
func (r Role) InAnotherAccount() Role {
	r.foreign = r.kind == membership.RoleKindCustom
	return r
}

// NotFound returns r as a custom role id behind which the store finds no
// role (a deleted role, a mistyped id). It leaves a predefined role alone.
func (r Role) NotFound() Role {
	r.missing = r.kind == membership.RoleKindCustom
	return r
}

// CustomRoleID returns the id of the custom role called name in every
// Situation: standard base64 of "Role:" and the name.
func CustomRoleID(name string) membership.ID {
	return encodeID("Role:" + name)
}

// assignment returns the role as a request or a membership names it.
func (r Role) assignment() membership.RoleAssignment {
	switch r.kind {
	case membership.RoleKindPredefined:
		return membership.Predefined(r.predefined)
	case membership.RoleKindCustom:
		return membership.Custom(CustomRoleID(r.name))
	}
	return membership.RoleAssignment{}
}

// record returns the custom role the store finds behind r: nil for a
// predefined role, no role, or a custom role that is not found.
func (r Role) record() *membership.CustomRole {
	if r.kind != membership.RoleKindCustom || r.missing {
		return nil
	}
	account := AccountID
	if r.foreign {
		account = OtherAccountID
	}
	return &membership.CustomRole{
		ID:          CustomRoleID(r.name),
		AccountID:   account,
		Name:        r.name,
		Permissions: slices.Clone(r.permissions),
	}
}

// grant returns r as someone holds it; the zero Grant for no role.
func (r Role) grant() membership.Grant {
	if r.kind == 0 {
		return membership.Grant{}
	}
	return membership.Grant{Role: r.assignment(), CustomRole: r.record()}
}
