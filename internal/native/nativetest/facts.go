// Package nativetest builds and draws membership.Facts for differential
// tests of the default policy: native.Decide, the Rego engine of package
// policy and a plain OPA evaluation must agree on every fact set it
// produces, for every operation (add, remove, list, org_add, org_remove,
// and operations the policy does not know).
//
// The facts come from a small universe (two accounts, one or two of each
// record, a handful of custom roles) so that IDs and accounts collide often
// and every rule of the policy is hit both ways, including facts no Store
// would produce (a record of another account, a custom role record whose id
// is not the one asked for, a role that is not a role).
package nativetest

import (
	"encoding/base64"
	"math/rand/v2"

	"github.com/spaceauthz/spaceauthz/membership"
)

// ID returns the ID of name, the standard base64 of its bytes, the way the
// fixtures spell them ("User:1" is "VXNlcjox").
func ID(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

// The universe. Account 1 is the actor's; account 2 holds what must never
// count.
var (
	Account      = ID("Account:1")
	OtherAccount = ID("Account:2")

	Organization        = &membership.Organization{ID: ID("Org:1"), AccountID: Account, Name: "Research"}
	ForeignOrganization = &membership.Organization{ID: ID("Org:2"), AccountID: OtherAccount, Name: "Elsewhere"}

	Space        = &membership.Space{ID: ID("Space:1"), OrganizationID: Organization.ID, Name: "llm-evals"}
	PrivateSpace = &membership.Space{ID: ID("Space:1"), OrganizationID: Organization.ID, Name: "llm-evals", IsPrivate: true}
	ForeignSpace = &membership.Space{ID: ID("Space:2"), OrganizationID: ForeignOrganization.ID, Name: "theirs"}

	// Binder grants ROLE_BINDING_CREATE, Reader does not, ForeignBinder
	// would but lies in the other account.
	Binder        = &membership.CustomRole{ID: ID("Role:1"), AccountID: Account, Name: "Binder", Permissions: []membership.Permission{membership.PermissionRoleBindingCreate}}
	Reader        = &membership.CustomRole{ID: ID("Role:2"), AccountID: Account, Name: "Reader", Permissions: []membership.Permission{"PROJECT_READ", membership.PermissionRoleBindingRead}}
	ForeignBinder = &membership.CustomRole{ID: ID("Role:3"), AccountID: OtherAccount, Name: "Binder", Permissions: []membership.Permission{membership.PermissionRoleBindingCreate}}

	// Remover grants ROLE_BINDING_DELETE (what a remove needs) and nothing
	// else; ForeignRemover would but lies in the other account.
	Remover        = &membership.CustomRole{ID: ID("Role:4"), AccountID: Account, Name: "Remover", Permissions: []membership.Permission{membership.PermissionRoleBindingDelete}}
	ForeignRemover = &membership.CustomRole{ID: ID("Role:5"), AccountID: OtherAccount, Name: "Remover", Permissions: []membership.Permission{membership.PermissionRoleBindingDelete}}

	// Actor is an account MEMBER, Target an account MEMBER who is a MEMBER
	// of the organization.
	Actor  = &membership.User{ID: ID("User:1"), AccountID: Account, Name: "Ada", Email: "ada@example.com", Role: membership.AccountMember}
	Target = &membership.User{ID: ID("User:2"), AccountID: Account, Name: "Bob", Email: "bob@example.com", Role: membership.AccountMember}
)

// Held returns the grant of a custom role record as someone holds it.
func Held(r *membership.CustomRole) membership.Grant {
	return membership.Grant{Role: membership.Custom(r.ID), CustomRole: r}
}

// Predefined returns the grant of a predefined role.
func Predefined(name membership.PredefinedRole) membership.Grant {
	return membership.Grant{Role: membership.Predefined(name)}
}

// request returns the request the facts are gathered for: the one place
// that knows how the facts spell it. A remove names no role, a list no user
// and no role.
func request(op membership.Operation, user membership.ID, role membership.RoleAssignment) membership.Query {
	return membership.Query{Operation: op, Actor: Actor.ID, SpaceID: Space.ID, UserID: user, Role: role}
}

// Base returns the facts of Actor asking to give Target the predefined
// MEMBER role in Space while holding no role at all: denied, since the
// actor can neither read the space nor administer it. Each call returns a
// fresh value; the records it points to are shared and must not be
// modified.
func Base() *membership.Facts {
	f := &membership.Facts{
		Actor:                  Actor,
		Space:                  Space,
		Organization:           Organization,
		Target:                 Target,
		TargetOrganizationRole: Predefined(membership.RoleMember),
	}
	f.Query = request(membership.OperationAdd, Target.ID, membership.Predefined(membership.RoleMember))
	return f
}

// Allowed returns Base with the actor a predefined ADMIN of the space:
// every check passes.
func Allowed() *membership.Facts {
	f := Base()
	f.ActorSpaceRole = Predefined(membership.RoleAdmin)
	return f
}

// MembershipOf returns a fresh membership of Target in Space with role.
func MembershipOf(role membership.RoleAssignment) *membership.Membership {
	return &membership.Membership{ID: ID("Membership:1"), UserID: Target.ID, SpaceID: Space.ID, Role: role}
}

// RemoveBase returns the facts of Actor asking to remove Target, a MEMBER
// of Space, while holding no role at all: denied, since the actor can
// neither read the space nor remove anyone from it. As with Base, each call
// returns a fresh value over shared records.
func RemoveBase() *membership.Facts {
	f := Base()
	f.Query = request(membership.OperationRemove, Target.ID, membership.RoleAssignment{})
	f.Existing = MembershipOf(membership.Predefined(membership.RoleMember))
	return f
}

// RemoveAllowed returns RemoveBase with the actor a predefined ADMIN of the
// space: every check passes.
func RemoveAllowed() *membership.Facts {
	f := RemoveBase()
	f.ActorSpaceRole = Predefined(membership.RoleAdmin)
	return f
}

// ListBase returns the facts of Actor asking for the members of Space while
// holding no role at all: denied, since the actor cannot read the space. A
// list is about no user: there is no target and no membership.
func ListBase() *membership.Facts {
	f := Base()
	f.Query = request(membership.OperationList, "", membership.RoleAssignment{})
	f.Target, f.TargetOrganizationRole = nil, membership.Grant{}
	return f
}

// ListAllowed returns ListBase with the actor a MEMBER of the organization,
// which reads the public Space: every check passes.
func ListAllowed() *membership.Facts {
	f := ListBase()
	f.ActorOrganizationRole = Predefined(membership.RoleMember)
	return f
}

// Random returns Allowed with each of its facts redrawn from the universe
// with probability one half: always an add. About one fact set in twenty is
// an allow. (It draws the same fact sets from the same source as it always
// has, for the benchmarks that replay them.)
func Random(r *rand.Rand) *membership.Facts {
	f := Allowed()
	redraw := func() bool { return r.IntN(2) == 0 }
	redrawActor(r, f, grant)
	redrawTarget(r, f, grant)
	if redraw() {
		asked := role(r)
		f.Query = request(membership.OperationAdd, Target.ID, asked)
		if asked.Kind == membership.RoleKindCustom {
			f.CustomRole = pick(r, nil, Binder, Reader, ForeignBinder)
		}
	}
	if redraw() {
		f.Existing = MembershipOf(role(r))
	}
	return f
}

// OrgAddBase returns the facts of Actor asking to give Target the
// predefined MEMBER role in Organization while holding no role at all:
// denied, since the actor cannot even see the organization. An organization
// operation has no space and no space membership, and the roles are those
// in the organization itself. As with Base, each call returns a fresh value
// over shared records.
func OrgAddBase() *membership.Facts {
	f := Base()
	f.Space = nil
	f.Query = membership.Query{Operation: membership.OperationOrgAdd, Actor: Actor.ID, OrganizationID: Organization.ID,
		UserID: Target.ID, Role: membership.Predefined(membership.RoleMember)}
	return f
}

// OrgAddAllowed returns OrgAddBase with the actor a predefined ADMIN of the
// organization: every check passes.
func OrgAddAllowed() *membership.Facts {
	f := OrgAddBase()
	f.ActorOrganizationRole = Predefined(membership.RoleAdmin)
	return f
}

// OrgRemoveBase returns the facts of Actor asking to remove Target, a
// MEMBER of Organization, while holding no role at all: denied. Nothing is
// requested.
func OrgRemoveBase() *membership.Facts {
	f := OrgAddBase()
	f.Query.Operation, f.Query.Role = membership.OperationOrgRemove, membership.RoleAssignment{}
	return f
}

// OrgRemoveAllowed returns OrgRemoveBase with the actor a predefined ADMIN
// of the organization: every check passes.
func OrgRemoveAllowed() *membership.Facts {
	f := OrgRemoveBase()
	f.ActorOrganizationRole = Predefined(membership.RoleAdmin)
	return f
}

// RandomOperation returns the facts of any operation: an add as Random
// draws it, a remove, a list or a read, an org_add or an org_remove drawn
// the same way from RemoveAllowed, ListAllowed, OrgAddAllowed or
// OrgRemoveAllowed,
// or now and then the facts of one of those under an operation the policy
// does not know (the zero Operation among them).
func RandomOperation(r *rand.Rand) *membership.Facts {
	var f *membership.Facts
	switch n := r.IntN(30); {
	case n < 8:
		return Random(r)
	case n < 14:
		f = OrgAddAllowed()
		redrawOrganization(r, f, grant)
		redrawTarget(r, f, grant)
		if r.IntN(2) == 0 {
			asked := role(r)
			f.Query.Role = asked
			f.CustomRole = nil
			if asked.Kind == membership.RoleKindCustom {
				f.CustomRole = pick(r, nil, Binder, Reader, ForeignBinder)
			}
		}
	case n < 19:
		f = OrgRemoveAllowed()
		redrawOrganization(r, f, grant)
		redrawTarget(r, f, grant)
	case n < 25:
		f = RemoveAllowed()
		redrawActor(r, f, removeGrant)
		redrawTarget(r, f, removeGrant)
		if r.IntN(2) == 0 {
			f.Existing = pick(r, nil, MembershipOf(membership.Predefined(membership.RoleAdmin)), MembershipOf(role(r)))
		}
	case n < 28:
		f = ListAllowed()
		redrawActor(r, f, removeGrant)
		switch r.IntN(3) {
		case 0:
			// A read is decided on the facts of a list.
			f.Query.Operation = membership.OperationRead
		case 1:
			// So is a read of the audit log, which must ignore the space.
			f.Query.Operation = membership.OperationAudit
		}
	default:
		f = pick(r, Allowed, RemoveAllowed, ListAllowed, OrgAddAllowed, OrgRemoveAllowed)()
		f.Query.Operation = pick(r, 0, membership.OperationAudit+1, 200)
	}
	return f
}

// redrawOrganization redraws, each with probability one half, the actor,
// the organization and the actor's role in it (drawn by grant), for an
// organization operation; now and then a space slips in, which no rule of
// an organization operation may read.
func redrawOrganization(r *rand.Rand, f *membership.Facts, grant func(*rand.Rand) membership.Grant) {
	redraw := func() bool { return r.IntN(2) == 0 }
	if redraw() {
		f.Actor = pick(r, nil, Actor, user(Actor, OtherAccount, membership.AccountAdmin),
			user(Actor, Account, membership.AccountAdmin), user(Actor, Account, membership.AccountAnnotator),
			user(Actor, Account, 0))
	}
	if redraw() {
		f.Organization = pick(r, nil, Organization, ForeignOrganization,
			&membership.Organization{ID: Organization.ID, AccountID: OtherAccount, Name: "Impostor"})
	}
	if redraw() {
		f.ActorOrganizationRole = grant(r)
	}
	if r.IntN(8) == 0 {
		f.Space, f.ActorSpaceRole = PrivateSpace, Predefined(membership.RoleAdmin)
		f.Existing = MembershipOf(membership.Predefined(membership.RoleAdmin))
	}
}

// redrawActor redraws, each with probability one half, the actor, the space
// and its organization, and the actor's roles there (drawn by grant).
func redrawActor(r *rand.Rand, f *membership.Facts, grant func(*rand.Rand) membership.Grant) {
	redraw := func() bool { return r.IntN(2) == 0 }
	if redraw() {
		f.Actor = pick(r, nil, Actor, user(Actor, OtherAccount, membership.AccountMember),
			user(Actor, Account, membership.AccountAdmin), user(Actor, Account, membership.AccountAnnotator),
			user(Actor, Account, 0))
	}
	if redraw() {
		f.Space = pick(r, nil, Space, PrivateSpace, ForeignSpace)
	}
	if redraw() {
		f.Organization = pick(r, nil, Organization, ForeignOrganization,
			&membership.Organization{ID: Organization.ID, AccountID: OtherAccount, Name: "Impostor"})
	}
	if redraw() {
		f.ActorOrganizationRole = grant(r)
	}
	if redraw() {
		f.ActorSpaceRole = grant(r)
	}
}

// redrawTarget redraws, each with probability one half, the target and the
// target's role in the organization (drawn by grant).
func redrawTarget(r *rand.Rand, f *membership.Facts, grant func(*rand.Rand) membership.Grant) {
	redraw := func() bool { return r.IntN(2) == 0 }
	if redraw() {
		f.Target = pick(r, nil, Target, user(Target, OtherAccount, membership.AccountMember),
			user(Target, Account, membership.AccountAdmin), user(Target, Account, membership.AccountAnnotator),
			user(Target, Account, 0))
	}
	if redraw() {
		f.TargetOrganizationRole = grant(r)
	}
}

func pick[T any](r *rand.Rand, choices ...T) T { return choices[r.IntN(len(choices))] }

func user(u *membership.User, account membership.ID, role membership.AccountRole) *membership.User {
	c := *u
	c.AccountID, c.Role = account, role
	return &c
}

// role draws a role assignment: mostly well formed, sometimes a role the
// policy does not know.
func role(r *rand.Rand) membership.RoleAssignment {
	switch r.IntN(12) {
	case 0:
		return membership.RoleAssignment{} // no role at all
	case 1:
		return membership.RoleAssignment{Kind: 3, Name: membership.RoleAdmin} // an unknown kind
	case 2:
		return membership.Predefined(membership.PredefinedRole(r.IntN(2) * 9)) // an unknown name
	case 3, 4, 5, 6, 7:
		return membership.Custom(pick(r, Binder, Reader, ForeignBinder).ID)
	default:
		return membership.Predefined(membership.PredefinedRole(1 + r.IntN(4)))
	}
}

// grant draws a role someone holds, including a custom role whose record
// is missing, of another account or of another id.
func grant(r *rand.Rand) membership.Grant {
	g := membership.Grant{Role: role(r)}
	if g.Role.Kind == membership.RoleKindCustom {
		g.CustomRole = pick(r, nil, Binder, Reader, ForeignBinder)
		if r.IntN(2) == 0 {
			// Mostly the record that the role names, as a Store reports it.
			for _, c := range []*membership.CustomRole{Binder, Reader, ForeignBinder} {
				if c.ID == g.Role.ID {
					g.CustomRole = c
				}
			}
		}
	}
	return g
}

// removeGrant draws a role someone holds for a remove: a predefined role,
// or a custom role that grants ROLE_BINDING_DELETE, another permission, or
// nothing here (of another account, or whose record is missing).
func removeGrant(r *rand.Rand) membership.Grant {
	switch r.IntN(8) {
	case 0:
		return membership.Grant{}
	case 1:
		return Held(Binder)
	case 2:
		return Held(ForeignRemover)
	case 3:
		return membership.Grant{Role: membership.Custom(Remover.ID)}
	case 4, 5:
		return Held(Remover)
	default:
		return Predefined(membership.PredefinedRole(1 + r.IntN(4)))
	}
}
