package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// A listWorld is the data of the list benchmarks: one account of
// listOrganizations organizations with spacesPerOrg spaces each, and the
// callers who list them. The worlds differ only in spacesPerOrg: space j of
// organization o has the same id, name and privacy in every world that has
// it, so the 1k world (5 a organization) is the first five spaces of every
// organization of the 100k world (500 a organization), and its callers are
// the same users with the same grants.
//
// Space ids are digests, so that id order, the order of a page, is not the
// order of organizations: a caller's first page mixes the spaces of all
// their organizations, as random ids would.
//
// The organizations come in four kinds, by o mod 4:
//
//	public      every space public
//	firstFive   spaces 0-4 public, the rest private: all public in the 1k world
//	private     every space private
//	mixed       the odd spaces private
//
// What the default policy lets a caller read is the union of: every space,
// for an account ADMIN; the public spaces of an organization they are a
// member of; every space of one they are an ADMIN of; the spaces they are a
// member of. A space member is always a member of the space's organization
// (the store keeps that true), so a caller who sees only their own spaces
// holds them in private organizations.
type listWorld struct {
	spacesPerOrg  int
	account       membership.ID
	organizations []membership.ID
	// spaces lists every space, organization by organization.
	spaces []membership.Space
	// data is the whole world as a fixture: spaces, callers, grants.
	data *fixture.Fixture
	// callers holds listCallers users of each class.
	callers map[listClass][]listCaller
}

// listOrganizations is the number of organizations of every list world.
const listOrganizations = 200

// listCallers is how many users of each class a benchmark takes turns
// with, so that it is not one request repeated.
const listCallers = 4

// listSizes are the sizes, in spaces, of the list worlds: 200
// organizations of 5 spaces and of 500.
var listSizes = []int{1_000, 100_000}

// A listClass is a kind of caller, by the grants they hold.
type listClass string

const (
	// classAdmin is an account ADMIN: every space.
	classAdmin listClass = "admin"
	// classOrgAdmin is an ADMIN of 20 organizations of every kind: a tenth.
	classOrgAdmin listClass = "org-admin"
	// classPublicMember is a MEMBER of 2 public organizations: a hundredth.
	classPublicMember listClass = "public-member"
	// classFirstFiveMember is a MEMBER of 2 firstFive organizations: their
	// first five spaces, 10 in every world; a hundredth of the 1k world.
	classFirstFiveMember listClass = "first-five-member"
	// classSpaceMember is a MEMBER of 1 or 2 private organizations and of
	// a thousandth of all spaces in them.
	classSpaceMember listClass = "space-member"
)

// listCaller is one user and the spaces they can read, in id order.
type listCaller struct {
	user    membership.User
	visible []membership.ID
}

// The organization kinds, by o mod 4.
const (
	kindPublic = iota
	kindFirstFive
	kindPrivate
	kindMixed
)

// listShare is a share of the account's spaces that a caller can read, and
// the class of callers who read it in a world of spacesPerOrg.
type listShare struct {
	name string
	// perMille is the share in thousandths; exact in every world.
	perMille int
	class    func(spacesPerOrg int) listClass
}

// listShares are the shares every world benchmarks. 1% is two whole
// organizations; in the 1k world it is the first-five members, so that the
// 100k world's 1pct-of-1k, the same callers, sees the very same spaces.
var listShares = []listShare{
	{"0.1pct", 1, func(int) listClass { return classSpaceMember }},
	{"1pct", 10, func(spacesPerOrg int) listClass {
		if spacesPerOrg <= 5 {
			return classFirstFiveMember
		}
		return classPublicMember
	}},
	{"10pct", 100, func(int) listClass { return classOrgAdmin }},
	{"100pct", 1000, func(int) listClass { return classAdmin }},
}

// sameAsSmall is the share of the 100k world whose callers see exactly
// what the 1k world's 1pct callers see: the same users, grants and spaces.
var sameAsSmall = listShare{"1pct-of-1k", 0, func(int) listClass { return classFirstFiveMember }}

// sharesOf returns the shares benchmarked in the world of n spaces.
func sharesOf(n int) []listShare {
	if n > listSizes[0] {
		return append(slices.Clone(listShares), sameAsSmall)
	}
	return listShares
}

func newListWorld(spaces int) (*listWorld, error) {
	if spaces%(listOrganizations*5) != 0 || spaces < listOrganizations*5 {
		return nil, fmt.Errorf("a list world holds a multiple of %d spaces, not %d", listOrganizations*5, spaces)
	}
	w := &listWorld{spacesPerOrg: spaces / listOrganizations, account: entityID("ListAccount", 1), callers: map[listClass][]listCaller{}}
	for o := range listOrganizations {
		w.organizations = append(w.organizations, entityID("ListOrg", o))
		for j := range w.spacesPerOrg {
			w.spaces = append(w.spaces, membership.Space{
				ID: listSpaceID(o, j), OrganizationID: w.organizations[o],
				Name: "space-" + strconv.Itoa(o) + "-" + strconv.Itoa(j), IsPrivate: listSpacePrivate(o, j),
			})
		}
	}
	w.data = w.fixture()
	if err := w.data.Validate(); err != nil {
		return nil, fmt.Errorf("list world of %d: %w", spaces, err)
	}
	return w, nil
}

// listSpaceID is the id of space j of organization o, the same in every
// world.
func listSpaceID(o, j int) membership.ID {
	sum := sha256.Sum256([]byte("ListSpace:" + strconv.Itoa(o) + ":" + strconv.Itoa(j)))
	return membership.ID(base64.StdEncoding.EncodeToString(sum[:12]))
}

func listSpacePrivate(o, j int) bool {
	switch o % 4 {
	case kindFirstFive:
		return j >= 5
	case kindPrivate:
		return true
	case kindMixed:
		return j%2 == 1
	}
	return false
}

// orgOfKind returns the i-th organization of a kind.
func orgOfKind(kind, i int) int { return 4*i + kind }

// fixture returns the world with its callers and their grants, and fills
// w.callers with the spaces each can read, decided by readable. Only
// newListWorld calls it.
func (w *listWorld) fixture() *fixture.Fixture {
	f := &fixture.Fixture{Accounts: []membership.Account{{ID: w.account}}, Spaces: w.spaces}
	for o, id := range w.organizations {
		f.Organizations = append(f.Organizations, membership.Organization{ID: id, AccountID: w.account, Name: "org-" + strconv.Itoa(o)})
	}
	member, admin := membership.Predefined(membership.RoleMember), membership.Predefined(membership.RoleAdmin)
	users := 0
	newUser := func(class listClass, role membership.AccountRole) membership.User {
		users++
		u := membership.User{ID: entityID("ListUser", users), AccountID: w.account, Name: string(class) + " " + strconv.Itoa(users),
			Email: "list" + strconv.Itoa(users) + "@example.com", Role: role}
		f.Users = append(f.Users, u)
		return u
	}
	join := func(u membership.User, o int, role membership.RoleAssignment) {
		f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{OrganizationID: w.organizations[o], UserID: u.ID, Role: role})
	}
	classes := map[listClass][]membership.User{}
	for c := range listCallers {
		classes[classAdmin] = append(classes[classAdmin], newUser(classAdmin, membership.AccountAdmin))

		u := newUser(classOrgAdmin, membership.AccountMember)
		for k := range 20 {
			join(u, (c+10*k)%listOrganizations, admin)
		}
		classes[classOrgAdmin] = append(classes[classOrgAdmin], u)

		u = newUser(classPublicMember, membership.AccountMember)
		join(u, orgOfKind(kindPublic, 2*c), member)
		join(u, orgOfKind(kindPublic, 2*c+1), member)
		classes[classPublicMember] = append(classes[classPublicMember], u)

		u = newUser(classFirstFiveMember, membership.AccountMember)
		join(u, orgOfKind(kindFirstFive, 2*c), member)
		join(u, orgOfKind(kindFirstFive, 2*c+1), member)
		classes[classFirstFiveMember] = append(classes[classFirstFiveMember], u)

		// A thousandth of the account, 50 spaces an organization.
		u = newUser(classSpaceMember, membership.AccountMember)
		for k := range len(w.spaces) / 1000 {
			o := orgOfKind(kindPrivate, 2*c+k/50)
			if k%50 == 0 {
				join(u, o, member)
			}
			f.SpaceMembers = append(f.SpaceMembers, fixture.SpaceMember{SpaceID: listSpaceID(o, k%50), UserID: u.ID, Role: member})
		}
		classes[classSpaceMember] = append(classes[classSpaceMember], u)
	}
	for class, us := range classes {
		w.callers[class] = nil
		for _, u := range us {
			w.callers[class] = append(w.callers[class], listCaller{user: u, visible: readable(f, u)})
		}
	}
	return f
}

// readable returns the spaces of f that u can read under the default
// policy, in id order: the policy's read rule written out by hand.
func readable(f *fixture.Fixture, u membership.User) []membership.ID {
	orgRoles := map[membership.ID]membership.RoleAssignment{}
	for _, m := range f.OrganizationMembers {
		if m.UserID == u.ID {
			orgRoles[m.OrganizationID] = m.Role
		}
	}
	spaceMember := map[membership.ID]bool{}
	for _, m := range f.SpaceMembers {
		if m.UserID == u.ID {
			spaceMember[m.SpaceID] = true
		}
	}
	var out []membership.ID
	for _, sp := range f.Spaces {
		role, inOrg := orgRoles[sp.OrganizationID]
		if u.Role == membership.AccountAdmin || inOrg && (!sp.IsPrivate || role.Is(membership.RoleAdmin)) || spaceMember[sp.ID] {
			out = append(out, sp.ID)
		}
	}
	slices.Sort(out)
	return out
}

// callersOf returns the callers of a share, after checking that each can
// read exactly that share of the world (or, for 1pct-of-1k, exactly what
// the same callers read in the 1k world): a world that is not the one
// described must not be measured.
func (w *listWorld) callersOf(s listShare) ([]listCaller, error) {
	cs := w.callers[s.class(w.spacesPerOrg)]
	if len(cs) != listCallers {
		return nil, fmt.Errorf("list world of %d: share %s: %d callers, want %d", len(w.spaces), s.name, len(cs), listCallers)
	}
	for i, c := range cs {
		want := len(w.spaces) * s.perMille / 1000
		if s.perMille == 0 {
			want = 2 * 5
			if small := listSpaceIDsOfFirstFive(i); !slices.Equal(c.visible, small) {
				return nil, fmt.Errorf("list world of %d: share %s: caller %d reads other spaces than in the 1k world", len(w.spaces), s.name, i)
			}
		}
		if len(c.visible) != want {
			return nil, fmt.Errorf("list world of %d: share %s: caller %d reads %d spaces, want %d", len(w.spaces), s.name, i, len(c.visible), want)
		}
	}
	return cs, nil
}

// listSpaceIDsOfFirstFive returns, in id order, the spaces that the c-th
// first-five member reads in the 1k world.
func listSpaceIDsOfFirstFive(c int) []membership.ID {
	var out []membership.ID
	for _, o := range []int{orgOfKind(kindFirstFive, 2*c), orgOfKind(kindFirstFive, 2*c+1)} {
		for j := range 5 {
			out = append(out, listSpaceID(o, j))
		}
	}
	slices.Sort(out)
	return out
}
