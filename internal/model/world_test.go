package model_test

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"

	"github.com/spaceauthz/spaceauthz/internal/model"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// A world is the small tenant setup one episode plays in. Every episode has
// ids of its own (the episode number is part of each), so episodes can share
// a store without seeing each other, and one episode can be replayed alone.
//
// Account A holds the action: users u0..u7 with random account roles,
// organizations O1 (public space S1, private space S2) and O2 (space S3 of
// random privacy), custom roles with and without the ROLE_BINDING_*
// permissions. Account B has a user, an organization, a space and a custom
// role that A must never reach. Some ids name nothing at first (a late user
// and a late custom role, which a direct store change may create) or ever
// (nobody, noOrg, noSpace, noRole).
type world struct {
	ep            int
	acctA, acctB  string
	users         []string // account A
	late          string   // account A user, missing until a PutUser creates it
	userB         string
	nobody        string
	orgs          []string // account A
	orgB          string
	noOrg         string
	spaces        []string // account A
	spaceB        string
	noSpace       string
	roles         []string // account A custom roles; the last is late
	lateRole      string
	roleB         string
	noRole        string
	names         map[string]string
	roleBaseNames map[string]string
}

// Ids that are not IDs, for the input checks.
var notIDs = []string{"", "not an id", "QQ", "QR=="}

func newWorld(ep int) *world {
	w := &world{ep: ep, names: map[string]string{"": `""`}, roleBaseNames: map[string]string{}}
	for _, s := range notIDs[1:] {
		w.names[s] = fmt.Sprintf("%q", s)
	}
	id := func(name string) string {
		s := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "e%d:%s", ep, name))
		w.names[s] = name
		return s
	}
	w.acctA, w.acctB = id("acctA"), id("acctB")
	for i := range 8 {
		w.users = append(w.users, id(fmt.Sprintf("u%d", i)))
	}
	w.late, w.userB, w.nobody = id("uLate"), id("uB"), id("nobody")
	w.orgs = []string{id("O1"), id("O2")}
	w.orgB, w.noOrg = id("OB"), id("noOrg")
	w.spaces = []string{id("S1"), id("S2"), id("S3")}
	w.spaceB, w.noSpace = id("SB"), id("noSpace")
	for _, r := range []string{"Rc", "Rd", "Rcd", "Rr", "Rlate"} {
		w.roles = append(w.roles, id(r))
		w.roleBaseNames[w.roles[len(w.roles)-1]] = r
	}
	w.lateRole = w.roles[len(w.roles)-1]
	w.roleB, w.noRole = id("RB"), id("noRole")
	w.roleBaseNames[w.roleB] = "RB"
	return w
}

func (w *world) name(id string) string {
	if n, ok := w.names[id]; ok {
		return n
	}
	return fmt.Sprintf("%q", id)
}

func (w *world) roleName(r model.Role) string {
	switch r.Kind {
	case model.Predefined:
		if r.ID != "" {
			return "predefined:" + r.Name + "+id:" + w.name(r.ID)
		}
		return "predefined:" + r.Name
	case model.Custom:
		if r.Name != "" {
			return "custom:" + w.name(r.ID) + "+name:" + r.Name
		}
		return "custom:" + w.name(r.ID)
	}
	return fmt.Sprintf("kind0(name=%q,id=%s)", r.Name, w.name(r.ID))
}

// The initial custom roles' permissions; direct changes redraw them.
var initialPermissions = map[string][]string{
	"Rc":  {model.RoleBindingCreate},
	"Rd":  {model.RoleBindingDelete},
	"Rcd": {model.RoleBindingCreate, model.RoleBindingDelete, model.RoleBindingRead},
	"Rr":  {"PROJECT_READ", model.RoleBindingRead},
	"RB":  {model.RoleBindingCreate, model.RoleBindingDelete},
}

// seed draws the episode's initial state: the fixture the store is seeded
// from and the model world that mirrors it (memberships without ids, which
// only the store knows after seeding).
func (w *world) seed(rng *rand.Rand) (*fixture.Fixture, *model.World) {
	m := model.NewWorld()
	f := &fixture.Fixture{
		Accounts: []membership.Account{{ID: membership.ID(w.acctA)}, {ID: membership.ID(w.acctB)}},
	}
	addUser := func(id, account string, role model.AccountRole) {
		m.Users[id] = model.User{Account: account, Role: role}
		f.Users = append(f.Users, userRecord(id, account, role))
	}
	for _, u := range w.users {
		addUser(u, w.acctA, pickAccountRole(rng))
	}
	addUser(w.userB, w.acctB, model.AccountAdmin)

	for _, o := range w.orgs {
		m.Orgs[o] = w.acctA
		f.Organizations = append(f.Organizations, membership.Organization{ID: membership.ID(o), AccountID: membership.ID(w.acctA), Name: w.name(o)})
	}
	m.Orgs[w.orgB] = w.acctB
	f.Organizations = append(f.Organizations, membership.Organization{ID: membership.ID(w.orgB), AccountID: membership.ID(w.acctB), Name: "OB"})

	addRole := func(id, account string) {
		base := w.roleBaseNames[id]
		m.Roles[id] = model.CustomRole{Account: account, Name: base, Perms: initialPermissions[base]}
		f.Roles = append(f.Roles, roleRecord(id, account, base, initialPermissions[base]))
	}
	for _, r := range w.roles[:len(w.roles)-1] {
		addRole(r, w.acctA)
	}
	addRole(w.roleB, w.acctB)

	// Most users of A belong to most organizations, with any role a
	// fixture accepts (custom roles of A only).
	for _, u := range w.users {
		for _, o := range w.orgs {
			if rng.IntN(100) < 65 {
				r := w.pickSeedRole(rng, 25)
				m.OrgMembers[model.Key{Of: o, User: u}] = model.Membership{Role: r}
				f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{
					OrganizationID: membership.ID(o), UserID: membership.ID(u), Role: assignment(r, membership.SpellingUpper)})
			}
		}
	}
	m.OrgMembers[model.Key{Of: w.orgB, User: w.userB}] = model.Membership{Role: model.P(model.Admin)}
	f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{
		OrganizationID: membership.ID(w.orgB), UserID: membership.ID(w.userB), Role: membership.Predefined(membership.RoleAdmin)})

	spaces := []struct {
		id, org string
		private bool
	}{
		{w.spaces[0], w.orgs[0], false},
		{w.spaces[1], w.orgs[0], true},
		{w.spaces[2], w.orgs[1], rng.IntN(2) == 0},
		{w.spaceB, w.orgB, false},
	}
	for _, s := range spaces {
		m.Spaces[s.id] = model.Space{Org: s.org, Private: s.private}
		f.Spaces = append(f.Spaces, membership.Space{ID: membership.ID(s.id), OrganizationID: membership.ID(s.org), Name: w.name(s.id), IsPrivate: s.private})
	}

	// Some memberships from the start, whatever the rules of an add say:
	// the store may hold what an add would refuse (an ANNOTATOR with
	// MEMBER), but only of a member of the space's organization, as every
	// store and fixture validation insist.
	for _, u := range w.users {
		for _, s := range w.spaces {
			if _, ok := m.OrgMembers[model.Key{Of: m.Spaces[s].Org, User: u}]; ok && rng.IntN(100) < 45 {
				r := w.pickSeedRole(rng, 20)
				m.SpaceMembers[model.Key{Of: s, User: u}] = model.Membership{Role: r}
				f.SpaceMembers = append(f.SpaceMembers, fixture.SpaceMember{SpaceID: membership.ID(s), UserID: membership.ID(u), Role: assignment(r, membership.SpellingUpper)})
			}
		}
	}
	m.SpaceMembers[model.Key{Of: w.spaceB, User: w.userB}] = model.Membership{Role: model.P(model.Member)}
	f.SpaceMembers = append(f.SpaceMembers, fixture.SpaceMember{SpaceID: membership.ID(w.spaceB), UserID: membership.ID(w.userB), Role: membership.Predefined(membership.RoleMember)})
	return f, m
}

// pickSeedRole draws a role a fixture accepts for account A: predefined
// (ADMIN with adminPct percent) or one of A's initial custom roles.
func (w *world) pickSeedRole(rng *rand.Rand, adminPct int) model.Role {
	x := rng.IntN(100)
	switch {
	case x < adminPct:
		return model.P(model.Admin)
	case x < 60:
		return model.P([]string{model.Member, model.ReadOnly, model.Annotator}[rng.IntN(3)])
	}
	return model.C(w.roles[rng.IntN(len(w.roles)-1)])
}

func pickAccountRole(rng *rand.Rand) model.AccountRole {
	x := rng.IntN(100)
	switch {
	case x < 15:
		return model.AccountAdmin
	case x < 75:
		return model.AccountMember
	}
	return model.AccountAnnotator
}

func userRecord(id, account string, role model.AccountRole) membership.User {
	r := map[model.AccountRole]membership.AccountRole{
		model.AccountAdmin: membership.AccountAdmin, model.AccountMember: membership.AccountMember, model.AccountAnnotator: membership.AccountAnnotator,
	}[role]
	return membership.User{ID: membership.ID(id), AccountID: membership.ID(account), Name: "user", Email: "user@example.com", Role: r}
}

func roleRecord(id, account, name string, perms []string) membership.CustomRole {
	ps := make([]membership.Permission, len(perms))
	for i, p := range perms {
		ps[i] = membership.Permission(p)
	}
	return membership.CustomRole{ID: membership.ID(id), AccountID: membership.ID(account), Name: name, Permissions: ps}
}

// assignment translates a model role, well formed or not, into the
// library's typed request value. An unknown predefined name becomes a
// PredefinedRole that is none of the four.
func assignment(r model.Role, sp membership.Spelling) membership.RoleAssignment {
	out := membership.RoleAssignment{ID: membership.ID(r.ID), Spelling: sp}
	switch r.Kind {
	case model.Predefined:
		out.Kind = membership.RoleKindPredefined
	case model.Custom:
		out.Kind = membership.RoleKindCustom
	}
	switch r.Name {
	case "":
	case model.Admin:
		out.Name = membership.RoleAdmin
	case model.Member:
		out.Name = membership.RoleMember
	case model.ReadOnly:
		out.Name = membership.RoleReadOnly
	case model.Annotator:
		out.Name = membership.RoleAnnotator
	default:
		out.Name = membership.PredefinedRole(200)
	}
	return out
}

// sameRole reports whether the library's role is the model's.
func sameRole(got membership.RoleAssignment, want model.Role) bool {
	w := assignment(want, got.Spelling)
	return got.Kind == w.Kind && got.Name == w.Name && got.ID == w.ID
}
