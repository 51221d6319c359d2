package policy

import (
	"pgregory.net/rapid"

	"github.com/spaceauthz/spaceauthz/membership"
)

// Generators of random facts. IDs, names and permissions come from small
// pools, so that equal values (the same account on both sides, a custom role
// that matches the request) happen often and every rule is exercised both
// ways.

func pick[T any](vals ...T) *rapid.Generator[T] { return rapid.SampledFrom(vals) }

var (
	genAccount  = pick(testID("Account:1"), testID("Account:2"))
	genOrgID    = pick(testID("Org:1"), testID("Org:2"))
	genSpaceID  = pick(testID("Space:1"), testID("Space:2"))
	genUserID   = pick(testID("User:1"), testID("User:2"), testID("User:3"))
	genRoleID   = pick(testID("Role:1"), testID("Role:2"))
	genName     = pick("Ada", "Bob", "")
	genEmail    = pick("a@example.com", "b@blocked.example")
	genAcctRole = pick(membership.AccountAdmin, membership.AccountMember, membership.AccountAnnotator)
	// Mostly adds; the zero Operation stands for one the policy does not
	// know.
	genOperation = pick(membership.OperationAdd, membership.OperationAdd, membership.OperationAdd,
		membership.OperationRemove, membership.OperationRemove, membership.OperationList,
		membership.OperationOrgAdd, membership.OperationOrgAdd, membership.OperationOrgRemove, 0)
	genPerms = rapid.SliceOfNDistinct(pick[membership.Permission](membership.PermissionRoleBindingCreate, "PROJECT_READ", membership.PermissionRoleBindingRead), 0, 3, rapid.ID)
)

func genPredefined(t *rapid.T, label string) membership.RoleAssignment {
	return membership.Predefined(pick(membership.RoleAdmin, membership.RoleMember, membership.RoleReadOnly, membership.RoleAnnotator).Draw(t, label))
}

func genRole(t *rapid.T, label string) membership.RoleAssignment {
	if rapid.Bool().Draw(t, label+".custom") {
		return membership.Custom(genRoleID.Draw(t, label+".id"))
	}
	return genPredefined(t, label)
}

func genCustomRole(t *rapid.T, label string, id membership.ID) *membership.CustomRole {
	if rapid.IntRange(0, 3).Draw(t, label+".missing") == 0 {
		return nil
	}
	return &membership.CustomRole{ID: id, AccountID: genAccount.Draw(t, label+".account"), Name: genName.Draw(t, label+".name"), Permissions: genPerms.Draw(t, label+".permissions")}
}

func genGrant(t *rapid.T, label string) membership.Grant {
	if rapid.IntRange(0, 2).Draw(t, label+".none") == 0 {
		return membership.Grant{}
	}
	g := membership.Grant{Role: genRole(t, label+".role")}
	if g.Role.Kind == membership.RoleKindCustom {
		g.CustomRole = genCustomRole(t, label+".custom_role", g.Role.ID)
	}
	return g
}

func genUser(t *rapid.T, label string, id membership.ID) *membership.User {
	if rapid.IntRange(0, 5).Draw(t, label+".missing") == 0 {
		return nil
	}
	return &membership.User{ID: id, AccountID: genAccount.Draw(t, label+".account"), Name: genName.Draw(t, label+".name"), Email: genEmail.Draw(t, label+".email"), Role: genAcctRole.Draw(t, label+".role")}
}

// genFacts draws the facts of one request, of any operation.
func genFacts(t *rapid.T) *membership.Facts {
	req := membership.AddUserRequest{Actor: genUserID.Draw(t, "actor"), SpaceID: genSpaceID.Draw(t, "space"), UserID: genUserID.Draw(t, "user"), Role: genRole(t, "request.role")}
	f := &membership.Facts{Query: membership.Query{Operation: genOperation.Draw(t, "operation"), Actor: req.Actor, SpaceID: req.SpaceID, UserID: req.UserID, Role: req.Role}}
	switch f.Query.Operation {
	case membership.OperationRemove:
		f.Query.Role = membership.RoleAssignment{}
	case membership.OperationList:
		f.Query.Role, f.Query.UserID = membership.RoleAssignment{}, ""
	case membership.OperationOrgAdd, membership.OperationOrgRemove:
		return genOrganizationFacts(t, f)
	}
	f.Actor = genUser(t, "actor", req.Actor)
	if f.Query.UserID != "" {
		f.Target = genUser(t, "target", req.UserID)
	}
	if f.Actor != nil {
		f.ActorOrganizationRole = genGrant(t, "actor.organization_role")
		f.ActorSpaceRole = genGrant(t, "actor.space_role")
	}
	if f.Target != nil {
		f.TargetOrganizationRole = genGrant(t, "target.organization_role")
	}
	if rapid.IntRange(0, 5).Draw(t, "space.missing") != 0 {
		f.Space = &membership.Space{ID: req.SpaceID, OrganizationID: genOrgID.Draw(t, "space.org"), Name: genName.Draw(t, "space.name"), IsPrivate: rapid.Bool().Draw(t, "space.private")}
		if rapid.IntRange(0, 5).Draw(t, "org.missing") != 0 {
			f.Organization = &membership.Organization{ID: f.Space.OrganizationID, AccountID: genAccount.Draw(t, "org.account"), Name: genName.Draw(t, "org.name")}
		}
		if f.Query.UserID != "" && rapid.Bool().Draw(t, "existing") {
			f.Existing = &membership.Membership{ID: testID("Membership:1"), UserID: req.UserID, SpaceID: req.SpaceID, Role: genRole(t, "existing.role")}
		}
	}
	if f.Query.Role.Kind == membership.RoleKindCustom {
		f.CustomRole = genCustomRole(t, "custom_role", req.Role.ID)
	}
	return f
}

// genOrganizationFacts completes the facts of an org_add or an org_remove
// begun in f: the organization the query names, no space and no space
// membership, the roles being those in the organization.
func genOrganizationFacts(t *rapid.T, f *membership.Facts) *membership.Facts {
	f.Query.OrganizationID, f.Query.SpaceID = genOrgID.Draw(t, "organization"), ""
	if f.Query.Operation == membership.OperationOrgRemove {
		f.Query.Role = membership.RoleAssignment{}
	}
	f.Actor = genUser(t, "actor", f.Query.Actor)
	f.Target = genUser(t, "target", f.Query.UserID)
	if f.Actor != nil {
		f.ActorOrganizationRole = genGrant(t, "actor.organization_role")
	}
	if f.Target != nil {
		f.TargetOrganizationRole = genGrant(t, "target.organization_role")
		if f.TargetOrganizationRole.Held() {
			f.TargetOrganizationMember = &membership.OrganizationMember{ID: testID("OrgMembership:1"), UserID: f.Query.UserID,
				OrganizationID: f.Query.OrganizationID, Role: f.TargetOrganizationRole.Role}
		}
	}
	if rapid.IntRange(0, 5).Draw(t, "org.missing") != 0 {
		f.Organization = &membership.Organization{ID: f.Query.OrganizationID, AccountID: genAccount.Draw(t, "org.account"), Name: genName.Draw(t, "org.name")}
	}
	if f.Query.Role.Kind == membership.RoleKindCustom {
		f.CustomRole = genCustomRole(t, "custom_role", f.Query.Role.ID)
	}
	return f
}

// mutators each redraw one part of the facts. Deciding facts and then a
// variant that differs in one part is what finds a decision key that leaves
// out something the policy reads.
var mutators = []func(t *rapid.T, f *membership.Facts){
	func(t *rapid.T, f *membership.Facts) { f.Query.Operation = genOperation.Draw(t, "operation") },
	func(t *rapid.T, f *membership.Facts) { f.Actor = genUser(t, "actor", f.Query.Actor) },
	func(t *rapid.T, f *membership.Facts) { f.Actor = mutateUser(t, f.Actor) },
	func(t *rapid.T, f *membership.Facts) { f.ActorOrganizationRole = genGrant(t, "grant") },
	func(t *rapid.T, f *membership.Facts) { f.ActorSpaceRole = genGrant(t, "grant") },
	func(t *rapid.T, f *membership.Facts) {
		f.ActorOrganizationRole = mutateGrant(t, f.ActorOrganizationRole)
	},
	func(t *rapid.T, f *membership.Facts) { f.ActorSpaceRole = mutateGrant(t, f.ActorSpaceRole) },
	func(t *rapid.T, f *membership.Facts) { f.Target = mutateUser(t, f.Target) },
	func(t *rapid.T, f *membership.Facts) { f.Target = genUser(t, "target", f.Query.UserID) },
	func(t *rapid.T, f *membership.Facts) {
		f.TargetOrganizationRole = mutateGrant(t, f.TargetOrganizationRole)
	},
	func(t *rapid.T, f *membership.Facts) { f.TargetOrganizationRole = genGrant(t, "grant") },
	func(t *rapid.T, f *membership.Facts) {
		if f.Space != nil {
			s := *f.Space
			s.IsPrivate = !s.IsPrivate
			f.Space = &s
		}
	},
	func(t *rapid.T, f *membership.Facts) {
		if f.Space != nil {
			s := *f.Space
			s.OrganizationID = genOrgID.Draw(t, "space.org")
			f.Space = &s
		}
	},
	func(t *rapid.T, f *membership.Facts) { f.Space, f.Organization = nil, nil },
	func(t *rapid.T, f *membership.Facts) { f.Organization = nil },
	func(t *rapid.T, f *membership.Facts) {
		if f.Organization != nil {
			o := *f.Organization
			o.AccountID = genAccount.Draw(t, "org.account")
			f.Organization = &o
		}
	},
	func(t *rapid.T, f *membership.Facts) {
		f.Query.Role = genRole(t, "request.role")
		f.CustomRole = nil
		if f.Query.Role.Kind == membership.RoleKindCustom {
			f.CustomRole = genCustomRole(t, "custom_role", f.Query.Role.ID)
		}
	},
	func(t *rapid.T, f *membership.Facts) {
		if f.CustomRole != nil {
			f.CustomRole = mutateCustomRole(t, f.CustomRole)
		}
	},
	func(t *rapid.T, f *membership.Facts) {
		if f.Existing != nil {
			m := *f.Existing
			m.Role = genRole(t, "existing.role")
			f.Existing = &m
		}
	},
}

func mutateUser(t *rapid.T, u *membership.User) *membership.User {
	if u == nil {
		return nil
	}
	c := *u
	switch rapid.IntRange(0, 3).Draw(t, "user.field") {
	case 0:
		c.AccountID = genAccount.Draw(t, "user.account")
	case 1:
		c.Role = genAcctRole.Draw(t, "user.role")
	case 2:
		c.Email = genEmail.Draw(t, "user.email")
	default:
		c.Name = genName.Draw(t, "user.name")
	}
	return &c
}

func mutateGrant(t *rapid.T, g membership.Grant) membership.Grant {
	if g.CustomRole != nil && rapid.Bool().Draw(t, "grant.role") {
		g.CustomRole = mutateCustomRole(t, g.CustomRole)
		return g
	}
	if g.Role.Kind == membership.RoleKindPredefined {
		g.Role = genPredefined(t, "grant.name")
	}
	return g
}

func mutateCustomRole(t *rapid.T, r *membership.CustomRole) *membership.CustomRole {
	c := *r
	if rapid.Bool().Draw(t, "custom_role.field") {
		c.AccountID = genAccount.Draw(t, "custom_role.account")
	} else {
		c.Permissions = genPerms.Draw(t, "custom_role.permissions")
	}
	return &c
}

// genFactsPair draws facts and a variant of them that differs in one part.
func genFactsPair(t *rapid.T) (*membership.Facts, *membership.Facts) {
	f := genFacts(t)
	v := *f
	rapid.SampledFrom(mutators).Draw(t, "mutator")(t, &v)
	return f, &v
}
