package policy

import (
	"strings"

	"pgregory.net/rapid"

	"github.com/spaceauthz/spaceauthz/membership"
)

// renameIDs returns a deep copy of f with every id passed through rename.
// With a one-to-one rename the copy has the same shape (the same ids equal
// to each other) as another tenant's request would.
func renameIDs(f *membership.Facts, rename func(membership.ID) membership.ID) *membership.Facts {
	c := *f
	c.Query.Actor, c.Query.SpaceID, c.Query.UserID = rename(f.Query.Actor), rename(f.Query.SpaceID), rename(f.Query.UserID)
	c.Query.OrganizationID = rename(f.Query.OrganizationID)
	c.Query.Role = renameRole(f.Query.Role, rename)
	user := func(u *membership.User) *membership.User {
		if u == nil {
			return nil
		}
		v := *u
		v.ID, v.AccountID = rename(u.ID), rename(u.AccountID)
		return &v
	}
	customRole := func(r *membership.CustomRole) *membership.CustomRole {
		if r == nil {
			return nil
		}
		v := *r
		v.ID, v.AccountID = rename(r.ID), rename(r.AccountID)
		return &v
	}
	grant := func(g membership.Grant) membership.Grant {
		return membership.Grant{Role: renameRole(g.Role, rename), CustomRole: customRole(g.CustomRole)}
	}
	c.Actor, c.Target = user(f.Actor), user(f.Target)
	c.ActorOrganizationRole, c.ActorSpaceRole, c.TargetOrganizationRole = grant(f.ActorOrganizationRole), grant(f.ActorSpaceRole), grant(f.TargetOrganizationRole)
	c.CustomRole = customRole(f.CustomRole)
	if f.Space != nil {
		s := *f.Space
		s.ID, s.OrganizationID = rename(s.ID), rename(s.OrganizationID)
		c.Space = &s
	}
	if f.Organization != nil {
		o := *f.Organization
		o.ID, o.AccountID = rename(o.ID), rename(o.AccountID)
		c.Organization = &o
	}
	if f.TargetOrganizationMember != nil {
		m := *f.TargetOrganizationMember
		m.ID, m.UserID, m.OrganizationID = rename(m.ID), rename(m.UserID), rename(m.OrganizationID)
		m.Role = renameRole(m.Role, rename)
		c.TargetOrganizationMember = &m
	}
	if f.Existing != nil {
		m := *f.Existing
		m.ID, m.UserID, m.SpaceID = rename(m.ID), rename(m.UserID), rename(m.SpaceID)
		m.Role = renameRole(m.Role, rename)
		c.Existing = &m
	}
	return &c
}

func renameRole(r membership.RoleAssignment, rename func(membership.ID) membership.ID) membership.RoleAssignment {
	if r.Kind == membership.RoleKindCustom {
		r.ID = rename(r.ID)
	}
	return r
}

// genRename draws a one-to-one rename of the test ids: within each kind of
// entity, the pool's ids are permuted, or all moved to fresh ids.
func genRename(t *rapid.T) func(membership.ID) membership.ID {
	fresh := rapid.Bool().Draw(t, "rename.fresh")
	swap := rapid.Bool().Draw(t, "rename.swap")
	return func(id membership.ID) membership.ID {
		name := decodeTestID(id)
		kind, n, ok := strings.Cut(name, ":")
		if !ok {
			return id
		}
		switch {
		case fresh:
			return testID(kind + ":tenant-b-" + n)
		case swap && n == "1":
			return testID(kind + ":2")
		case swap && n == "2":
			return testID(kind + ":1")
		}
		return id
	}
}
