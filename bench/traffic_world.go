package main

import (
	"math/rand/v2"
	"strconv"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// A trafficWorld is many accounts shaped like the tenants of a real
// product, for the traffic benchmarks: each account has a few
// organizations with public and private spaces, about thirty users of every
// account role, organization and space memberships with predefined and
// custom roles, and two custom roles made from the same templates in every
// account (a product has a handful of role templates, not one per tenant).
//
// Each account is drawn from a generator seeded with its index alone, so
// the world of n accounts is the first n accounts of any larger world, and
// every run builds the same one.
type trafficWorld struct {
	accounts []trafficAccount
}

// The shape of an account. Sizes vary a little from account to account
// within these bounds.
const (
	usersPerAccount          = 30
	maxOrganizations         = 3
	maxSpacesPerOrganization = 4
)

type trafficAccount struct {
	id membership.ID
	// users lists account ADMINs first, then ANNOTATORs, then MEMBERs.
	users         []trafficUser
	organizations []trafficOrganization
	// binder grants ROLE_BINDING_CREATE; reader only reads projects.
	binder, reader membership.CustomRole
}

type trafficUser struct {
	id   membership.ID
	role membership.AccountRole
}

type trafficOrganization struct {
	id      membership.ID
	members []roleHolder
	spaces  []trafficSpace
}

type trafficSpace struct {
	id      membership.ID
	private bool
	members []roleHolder
}

// roleHolder is a user (an index into the account's users) holding a role
// in an organization or a space.
type roleHolder struct {
	user int
	role membership.RoleAssignment
}

// The role templates every account instantiates.
var (
	binderPermissions = []membership.Permission{membership.PermissionRoleBindingCreate, membership.PermissionRoleBindingRead, "PROJECT_READ"}
	readerPermissions = []membership.Permission{"PROJECT_READ"}
)

// worldSeed seeds the accounts of every traffic world.
const worldSeed = 0x5ace

func newTrafficWorld(accounts int) *trafficWorld {
	w := &trafficWorld{accounts: make([]trafficAccount, accounts)}
	for a := range w.accounts {
		w.accounts[a] = newTrafficAccount(a)
	}
	return w
}

// trafficWorldHolding returns the smallest world holding at least n space
// memberships.
func trafficWorldHolding(n int) *trafficWorld {
	w := &trafficWorld{}
	for held := 0; held < n || len(w.accounts) == 0; {
		acc := newTrafficAccount(len(w.accounts))
		held += acc.spaceMemberships()
		w.accounts = append(w.accounts, acc)
	}
	return w
}

func newTrafficAccount(a int) trafficAccount {
	r := rand.New(rand.NewPCG(worldSeed, uint64(a)))
	acc := trafficAccount{
		id:     entityID("Account", a+1),
		binder: membership.CustomRole{ID: entityID("Role", 2*a+1), Name: "Binder", Permissions: binderPermissions},
		reader: membership.CustomRole{ID: entityID("Role", 2*a+2), Name: "Reader", Permissions: readerPermissions},
	}
	acc.binder.AccountID, acc.reader.AccountID = acc.id, acc.id

	admins, annotators := 2+r.IntN(2), 3+r.IntN(4)
	for i := range usersPerAccount {
		role := membership.AccountMember
		switch {
		case i < admins:
			role = membership.AccountAdmin
		case i < admins+annotators:
			role = membership.AccountAnnotator
		}
		acc.users = append(acc.users, trafficUser{id: entityID("User", a*usersPerAccount+i+1), role: role})
	}

	for o := range 2 + r.IntN(maxOrganizations-1) {
		org := trafficOrganization{id: entityID("Org", a*maxOrganizations+o+1)}
		for u := range acc.users {
			if r.Float64() < 0.6 {
				org.members = append(org.members, roleHolder{user: u, role: acc.organizationRole(r, u, len(org.members) == 0)})
			}
		}
		for s := range 2 + r.IntN(maxSpacesPerOrganization-1) {
			space := trafficSpace{
				id:      entityID("Space", (a*maxOrganizations+o)*maxSpacesPerOrganization+s+1),
				private: r.IntN(2) == 0,
			}
			for i, m := range sample(r, org.members, 4+r.IntN(5)) {
				space.members = append(space.members, roleHolder{user: m.user, role: acc.spaceRole(r, m.user, i == 0)})
			}
			org.spaces = append(org.spaces, space)
		}
		acc.organizations = append(acc.organizations, org)
	}
	return acc
}

// organizationRole draws the role of user u in an organization; first is
// set for the organization's first member, who administers it.
func (acc *trafficAccount) organizationRole(r *rand.Rand, u int, first bool) membership.RoleAssignment {
	if acc.users[u].role == membership.AccountAnnotator {
		return membership.Predefined(membership.RoleReadOnly)
	}
	if first {
		return membership.Predefined(membership.RoleAdmin)
	}
	return pickRole(r, []weightedRole{
		{60, membership.Predefined(membership.RoleMember)},
		{20, membership.Predefined(membership.RoleReadOnly)},
		{10, membership.Custom(acc.binder.ID)},
		{10, membership.Custom(acc.reader.ID)},
	})
}

// spaceRole draws the role of user u in a space; first is set for the
// space's first member, who administers it. Annotators are annotators.
func (acc *trafficAccount) spaceRole(r *rand.Rand, u int, first bool) membership.RoleAssignment {
	if acc.users[u].role == membership.AccountAnnotator {
		return membership.Predefined(membership.RoleAnnotator)
	}
	if first {
		return membership.Predefined(membership.RoleAdmin)
	}
	return pickRole(r, []weightedRole{
		{50, membership.Predefined(membership.RoleMember)},
		{25, membership.Predefined(membership.RoleReadOnly)},
		{15, membership.Custom(acc.binder.ID)},
		{10, membership.Custom(acc.reader.ID)},
	})
}

type weightedRole struct {
	weight int
	role   membership.RoleAssignment
}

func pickRole(r *rand.Rand, roles []weightedRole) membership.RoleAssignment {
	total := 0
	for _, w := range roles {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range roles {
		if n < w.weight {
			return w.role
		}
		n -= w.weight
	}
	panic("unreachable")
}

// sample returns up to n distinct elements of xs in random order.
func sample[T any](r *rand.Rand, xs []T, n int) []T {
	out := make([]T, 0, min(n, len(xs)))
	for _, i := range r.Perm(len(xs))[:cap(out)] {
		out = append(out, xs[i])
	}
	return out
}

func (acc *trafficAccount) spaceMemberships() int {
	n := 0
	for _, o := range acc.organizations {
		for _, s := range o.spaces {
			n += len(s.members)
		}
	}
	return n
}

// spaceMemberships counts the space memberships of the world.
func (w *trafficWorld) spaceMemberships() int {
	n := 0
	for i := range w.accounts {
		n += w.accounts[i].spaceMemberships()
	}
	return n
}

// fixture returns the whole world as a fixture, for memstore's Import.
func (w *trafficWorld) fixture() *fixture.Fixture {
	f := &fixture.Fixture{}
	for a := range w.accounts {
		w.appendAccount(f, a)
	}
	return f
}

// accountFixture returns account a alone as a fixture: an account refers
// to nothing outside itself, so it can be loaded on its own.
func (w *trafficWorld) accountFixture(a int) *fixture.Fixture {
	f := &fixture.Fixture{}
	w.appendAccount(f, a)
	return f
}

func (w *trafficWorld) appendAccount(f *fixture.Fixture, a int) {
	acc := &w.accounts[a]
	f.Accounts = append(f.Accounts, membership.Account{ID: acc.id})
	f.Roles = append(f.Roles, acc.binder, acc.reader)
	for i, u := range acc.users {
		name := "user " + strconv.Itoa(i+1) + " of account " + strconv.Itoa(a+1)
		f.Users = append(f.Users, membership.User{ID: u.id, AccountID: acc.id, Name: name, Email: string(u.id) + "@example.com", Role: u.role})
	}
	for o, org := range acc.organizations {
		f.Organizations = append(f.Organizations, membership.Organization{ID: org.id, AccountID: acc.id, Name: "organization " + strconv.Itoa(o+1)})
		for _, m := range org.members {
			f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{OrganizationID: org.id, UserID: acc.users[m.user].id, Role: m.role})
		}
		for s, space := range org.spaces {
			f.Spaces = append(f.Spaces, membership.Space{ID: space.id, OrganizationID: org.id, Name: "space " + strconv.Itoa(s+1), IsPrivate: space.private})
			for _, m := range space.members {
				f.SpaceMembers = append(f.SpaceMembers, fixture.SpaceMember{SpaceID: space.id, UserID: acc.users[m.user].id, Role: m.role})
			}
		}
	}
}
