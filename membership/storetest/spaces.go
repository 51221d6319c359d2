package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The records the list cases add to the world: an account ADMIN, spaces
// whose names need Unicode folding, and a second account with a space
// named like the first account's, which no list of the first may show.
var (
	accountAdmin = membership.User{ID: id("User:admin"), AccountID: account.ID, Name: "Grace", Email: "grace@example.com", Role: membership.AccountAdmin}
	kelvin       = membership.Space{ID: id("Space:kelvin"), OrganizationID: org.ID, Name: "\u212Aelvin-EVALS", IsPrivate: true, CreatedAt: time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)}
	summer       = membership.Space{ID: id("Space:ete"), OrganizationID: org2.ID, Name: "Été straße", CreatedAt: time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)}
	account2     = membership.Account{ID: id("Account:2")}
	foreignOrg   = membership.Organization{ID: id("Org:foreign"), AccountID: account2.ID, Name: "Elsewhere"}
	foreignSpace = membership.Space{ID: id("Space:foreign"), OrganizationID: foreignOrg.ID, Name: "llm-evals", CreatedAt: time.Date(2026, 4, 3, 10, 0, 0, 0, time.UTC)}
	foreigner    = membership.User{ID: id("User:foreigner"), AccountID: account2.ID, Name: "Lin", Email: "lin@example.com", Role: membership.AccountAdmin}
)

// accountSpaces is every space of the first account once seedSpaces ran.
var accountSpaces = []membership.Space{space, redTeam, otherSpace, kelvin, summer}

// seedSpaces writes the world and the list cases' records into s. Besides
// the world's memberships, the target holds the predefined MEMBER role in
// the red team's space and a custom role in kelvin, and the outsider is in
// no organization.
func seedSpaces(t *testing.T, s Store) {
	t.Helper()
	seed(t, s)
	ctx := context.Background()
	for _, err := range []error{
		s.PutUser(ctx, accountAdmin),
		s.PutSpace(ctx, kelvin),
		s.PutSpace(ctx, summer),
		s.PutAccount(ctx, account2),
		s.PutOrganization(ctx, foreignOrg),
		s.PutSpace(ctx, foreignSpace),
		s.PutUser(ctx, foreigner),
		s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: foreignOrg.ID, UserID: foreigner.ID, Role: orgAdmin}),
	} {
		if err != nil {
			t.Fatalf("seeding: %v", err)
		}
	}
	if _, err := s.PutSpaceMember(ctx, redTeam.ID, target.ID, member); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSpaceMember(ctx, kelvin.ID, target.ID, membership.Custom(binder.ID)); err != nil {
		t.Fatal(err)
	}
}

// inAccountOf reports whether sp lies in u's account.
func inAccountOf(sp membership.Space, u membership.User) bool {
	if sp.OrganizationID == foreignOrg.ID {
		return u.AccountID == account2.ID
	}
	return u.AccountID == account.ID
}

// spaceQuery lists every space of the actor's account that cond lets
// through.
func spaceQuery(actorID membership.ID, cond membership.Condition) membership.SpaceQuery {
	return membership.SpaceQuery{Actor: actorID, Limit: 100, Filter: membership.ReadFilter{Condition: cond}}
}

// readFacts returns the facts of a read of spaceID by actorID.
func readFacts(t *testing.T, s Store, actorID, spaceID membership.ID) *membership.Facts {
	t.Helper()
	f, _, err := s.Read(context.Background(), membership.Query{Operation: membership.OperationRead, Actor: actorID, SpaceID: spaceID})
	if err != nil {
		t.Fatalf("Read(space %s as %s): %v", spaceID, actorID, err)
	}
	return f
}

// expectedSpaces is what ListSpaces must list for q, without its After and
// Limit, decided from the facts Read returns for each of the candidates:
// in the query's organization, with a name that contains the query's, on
// whose facts the condition holds and, when keep is not nil, that keep
// lets through. The result is in space id order.
func expectedSpaces(t *testing.T, s Store, q membership.SpaceQuery, candidates []membership.Space, keep func(*membership.Facts) bool) []membership.Space {
	t.Helper()
	var out []membership.Space
	for _, sp := range candidates {
		f := readFacts(t, s, q.Actor, sp.ID)
		if f.Space == nil || (q.OrganizationID != "" && f.Space.OrganizationID != q.OrganizationID) ||
			!strings.Contains(membership.FoldName(f.Space.Name), q.Name) ||
			!q.Filter.Condition.Holds(f) || (keep != nil && !keep(f)) {
			continue
		}
		out = append(out, *f.Space)
	}
	slices.SortFunc(out, func(a, b membership.Space) int { return compare(a.ID, b.ID) })
	return out
}

// listSpaces walks every page of q, limit spaces at a time, from q.After,
// checking each page against its limit and the walk's order.
func listSpaces(t *testing.T, s Store, q membership.SpaceQuery, limit int, decide func(*membership.Facts) (bool, error)) []membership.Space {
	t.Helper()
	q.Limit = limit
	var all []membership.Space
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("the walk does not end")
		}
		list, err := s.ListSpaces(context.Background(), q, decide)
		if err != nil {
			t.Fatalf("ListSpaces(%v): %v", q, err)
		}
		if len(list.Spaces) > limit {
			t.Fatalf("a page of %d holds %d spaces", limit, len(list.Spaces))
		}
		for _, sp := range list.Spaces {
			if compare(sp.ID, q.After) <= 0 {
				t.Fatalf("the page after %s lists %s, which does not come after it", q.After, sp.ID)
			}
			q.After = sp.ID
		}
		all = append(all, list.Spaces...)
		if !list.More {
			return all
		}
		if len(list.Spaces) == 0 {
			t.Fatal("an empty page of spaces says more follow")
		}
	}
}

func spaceIDs(spaces []membership.Space) []membership.ID {
	out := make([]membership.ID, len(spaces))
	for i, sp := range spaces {
		out[i] = sp.ID
	}
	return out
}

// testSpacesInIDOrder: the spaces of the actor's account come in id order
// (byte order), after After whether or not it names a space, at most Limit
// of them, with More set exactly when another follows; the actor's record
// comes with them.
func testSpacesInIDOrder(t *testing.T, s Store) {
	seedSpaces(t, s)
	ctx := context.Background()
	q := spaceQuery(actor.ID, membership.True)
	want := expectedSpaces(t, s, q, accountSpaces, nil)
	if len(want) != len(accountSpaces) {
		t.Fatalf("the account holds %d spaces, want %d", len(want), len(accountSpaces))
	}
	for _, limit := range []int{1, 2, 3, len(want), len(want) + 1, 100} {
		if diff := cmp.Diff(want, listSpaces(t, s, q, limit, nil)); diff != "" {
			t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
		}
	}
	for i := range want {
		for _, limit := range []int{1, 2} {
			q := q
			if i > 0 {
				q.After = want[i-1].ID
			}
			q.Limit = limit
			list, err := s.ListSpaces(ctx, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			end := min(i+limit, len(want))
			if diff := cmp.Diff(spaceIDs(want[i:end]), spaceIDs(list.Spaces)); diff != "" {
				t.Errorf("page of %d after %q (-want +got):\n%s", limit, q.After, diff)
			}
			if more := end < len(want); list.More != more {
				t.Errorf("page of %d after %q: More = %v, want %v", limit, q.After, list.More, more)
			}
			if diff := cmp.Diff(&actor, list.Actor); diff != "" {
				t.Errorf("page of %d after %q: actor (-want +got):\n%s", limit, q.After, diff)
			}
		}
	}
	// After an id that names no space: the walk starts where it would be.
	between := membership.ID(string(want[1].ID) + "A")
	q.After = between
	got := listSpaces(t, s, q, 100, nil)
	wantAfter := slices.DeleteFunc(slices.Clone(want), func(sp membership.Space) bool { return compare(sp.ID, between) <= 0 })
	if diff := cmp.Diff(spaceIDs(wantAfter), spaceIDs(got)); diff != "" {
		t.Errorf("spaces after %q, which names no space (-want +got):\n%s", between, diff)
	}
	q.After = want[len(want)-1].ID
	list, err := s.ListSpaces(ctx, q, nil)
	if err != nil || len(list.Spaces) != 0 || list.More {
		t.Errorf("the page after the last space = %+v, %v; want an empty last page", list, err)
	}
}

// testSpacesNarrowed: OrganizationID keeps the spaces of that organization,
// and Name those whose folded name contains it; an organization of another
// account, or none, lists nothing.
func testSpacesNarrowed(t *testing.T, s Store) {
	seedSpaces(t, s)
	for _, tc := range []struct {
		name string
		org  membership.ID
		text string
		want []membership.Space
	}{
		{"organization", org.ID, "", []membership.Space{space, redTeam, kelvin}},
		{"other organization", org2.ID, "", []membership.Space{otherSpace, summer}},
		{"organization of another account", foreignOrg.ID, "", nil},
		{"missing organization", id("Org:none"), "", nil},
		{"name ignoring case", "", "EVALS", []membership.Space{space, otherSpace, kelvin}},
		{"name by Kelvin sign folding", "", "kel", []membership.Space{kelvin}},
		{"name with accents", "", "été", []membership.Space{summer}},
		{"name by sharp s folding", "", "STRA\u1E9EE", []membership.Space{summer}},
		{"name by long s folding", "", "\u017Ftra", []membership.Space{summer}},
		{"name inside a word", "", "-tea", []membership.Space{redTeam}},
		{"name matching nothing", "", "zzz-none", nil},
		{"organization and name", org.ID, "evals", []membership.Space{space, kelvin}},
		{"organization and a name of another", org2.ID, "red", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := spaceQuery(accountAdmin.ID, membership.True)
			q.OrganizationID, q.Name = tc.org, membership.FoldName(tc.text)
			want := slices.Clone(tc.want)
			slices.SortFunc(want, func(a, b membership.Space) int { return compare(a.ID, b.ID) })
			if diff := cmp.Diff(want, expectedSpaces(t, s, q, accountSpaces, nil)); diff != "" {
				t.Fatalf("the case itself is wrong (-case +facts):\n%s", diff)
			}
			for _, limit := range []int{1, 2, 100} {
				if diff := cmp.Diff(spaceIDs(want), spaceIDs(listSpaces(t, s, q, limit, nil))); diff != "" {
					t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
				}
			}
		})
	}
}

// The atoms the condition cases are made of.
var (
	isPublic      = membership.Is(membership.Atom{Test: membership.TestEqual, Left: membership.Ref(membership.FieldSpaceIsPrivate), Right: membership.Const(membership.Bool(false))})
	inOrg         = membership.Is(membership.Atom{Test: membership.TestIsObject, Left: membership.Ref(membership.FieldOrgRole)})
	inSpace       = membership.Is(membership.Atom{Test: membership.TestIsObject, Left: membership.Ref(membership.FieldSpaceRole)})
	orgAdminGrant = membership.And(
		membership.Is(membership.Atom{Test: membership.TestEqual, Left: membership.Ref(membership.FieldOrgRoleType), Right: membership.Const(membership.String("PREDEFINED"))}),
		membership.Is(membership.Atom{Test: membership.TestEqual, Left: membership.Ref(membership.FieldOrgRoleName), Right: membership.Const(membership.String("ADMIN"))}),
	)
	customSpaceRole = membership.Is(membership.Atom{Test: membership.TestEqual, Left: membership.Ref(membership.FieldSpaceRoleType), Right: membership.Const(membership.String("CUSTOM"))})
	canBind         = membership.Is(membership.Atom{Test: membership.TestIn, Left: membership.Const(membership.String(string(membership.PermissionRoleBindingCreate))), Right: membership.Ref(membership.FieldSpaceRoleCustomPermissions)})
	actorIsAdmin    = membership.Is(membership.Atom{Test: membership.TestEqual, Left: membership.Ref(membership.FieldActorRole), Right: membership.Const(membership.String("ADMIN"))})
	actorIsMember   = membership.Is(membership.Atom{Test: membership.TestEqual, Left: membership.Ref(membership.FieldActorRole), Right: membership.Const(membership.String("MEMBER"))})
	inActorAccount  = membership.Is(membership.Atom{Test: membership.TestEqual, Left: membership.Ref(membership.FieldOrganizationAccountID), Right: membership.Ref(membership.FieldActorAccountID)})
	inParent        = membership.Is(membership.Atom{Test: membership.TestEqual, Left: membership.Ref(membership.FieldSpaceOrganizationID), Right: membership.Ref(membership.FieldOrganizationID)})
)

func spaceIs(s membership.Space) membership.Condition {
	return membership.Is(membership.Atom{Test: membership.TestEqual, Left: membership.Ref(membership.FieldSpaceID), Right: membership.Const(membership.String(string(s.ID)))})
}

func orgIs(o membership.ID) membership.Condition {
	return membership.Is(membership.Atom{Test: membership.TestEqual, Left: membership.Ref(membership.FieldOrganizationID), Right: membership.Const(membership.String(string(o)))})
}

func idsIn(f membership.Field, ids ...membership.ID) membership.Condition {
	list := make([]membership.Value, len(ids))
	for i, x := range ids {
		list[i] = membership.String(string(x))
	}
	return membership.Is(membership.Atom{Test: membership.TestIn, Left: membership.Ref(f), Right: membership.Const(membership.Value{Kind: membership.KindList, List: list})})
}

// readRule is the default policy's read rule, by hand.
var readRule = membership.And(inParent, inActorAccount, membership.Or(
	actorIsAdmin,
	membership.And(isPublic, inOrg),
	orgAdminGrant,
	inSpace,
))

// conditionCases are the conditions the store must apply as Holds does.
var conditionCases = []struct {
	name string
	cond membership.Condition
}{
	{"true", membership.True},
	{"false", membership.False},
	{"public", isPublic},
	{"not public", membership.Not(isPublic)},
	{"organization member", inOrg},
	{"not an organization member", membership.Not(inOrg)},
	{"space member", inSpace},
	{"not a space member", membership.Not(inSpace)},
	{"organization admin", orgAdminGrant},
	{"custom space role", customSpaceRole},
	{"permission of a custom space role", canBind},
	{"not a custom space role", membership.Not(customSpaceRole)},
	{"one space", spaceIs(redTeam)},
	{"not one space", membership.Not(spaceIs(redTeam))},
	{"spaces by id, one missing", idsIn(membership.FieldSpaceID, kelvin.ID, summer.ID, id("Space:none"), foreignSpace.ID)},
	{"one organization", orgIs(org2.ID)},
	{"organizations by id", idsIn(membership.FieldSpaceOrganizationID, org.ID, foreignOrg.ID)},
	{"organization of another account", orgIs(foreignOrg.ID)},
	{"a space or an organization", membership.Or(spaceIs(space), orgIs(org2.ID))},
	{"name prefix", membership.Is(membership.Atom{Test: membership.TestStartsWith, Left: membership.Ref(membership.FieldSpaceName), Right: membership.Const(membership.String("red"))})},
	{"name suffix, negated", membership.Not(membership.Is(membership.Atom{Test: membership.TestEndsWith, Left: membership.Ref(membership.FieldSpaceName), Right: membership.Const(membership.String("evals"))}))},
	{"account ADMIN only", actorIsAdmin},
	{"not an account ADMIN", membership.Not(actorIsAdmin)},
	{"MEMBER and public", membership.And(actorIsMember, isPublic)},
	{"ADMIN or a space member", membership.Or(actorIsAdmin, inSpace)},
	{"ADMIN and a space member, or public in one organization", membership.Or(membership.And(actorIsAdmin, inSpace), membership.And(isPublic, orgIs(org.ID)))},
	{"a grant and an organization", membership.And(inOrg, orgIs(org2.ID))},
	{"a space, guarded", membership.And(actorIsMember, spaceIs(kelvin))},
	{"the default read rule", readRule},
	{"name defined", defined(membership.FieldSpaceName)},
	{"a suffix, or no name", membership.Or(
		membership.Is(membership.Atom{Test: membership.TestEndsWith, Left: membership.Ref(membership.FieldSpaceName), Right: membership.Const(membership.String("evals"))}),
		membership.Not(defined(membership.FieldSpaceName)),
	)},
	{"space role type defined", defined(membership.FieldSpaceRoleType)},
	{"no space role type", membership.Not(defined(membership.FieldSpaceRoleType))},
	{"organization custom role defined", defined(membership.FieldOrgRoleCustom)},
	{"public, or no custom role permissions", membership.Or(isPublic, membership.Not(defined(membership.FieldOrgRoleCustomPermissions)))},
}

func defined(f membership.Field) membership.Condition {
	return membership.Is(membership.Atom{Test: membership.TestDefined, Left: membership.Ref(f)})
}

// conditionActors are the callers the condition cases list for: an
// organization ADMIN holding a custom space role, a member through a
// custom role and a predefined one, a user in no organization, an account
// ADMIN, and a user of the other account.
var conditionActors = []membership.User{actor, target, outsider, accountAdmin, foreigner}

// testSpacesCondition: the store lists exactly the spaces of the actor's
// account on whose facts the condition holds, as Holds decides it on the
// facts Read returns.
func testSpacesCondition(t *testing.T, s Store) {
	seedSpaces(t, s)
	candidates := append(slices.Clone(accountSpaces), foreignSpace)
	for _, tc := range conditionCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, u := range conditionActors {
				q := spaceQuery(u.ID, tc.cond)
				want := expectedSpaces(t, s, q, candidates, func(f *membership.Facts) bool { return inAccountOf(*f.Space, u) })
				for _, limit := range []int{1, 3, 100} {
					if diff := cmp.Diff(spaceIDs(want), spaceIDs(listSpaces(t, s, q, limit, nil))); diff != "" {
						t.Errorf("%s, as %s, pages of %d (-want +got):\n%s", tc.cond, u.Name, limit, diff)
					}
				}
			}
		})
	}
}

// decideCalls records the calls of a decide function.
type decideCalls struct {
	mu    sync.Mutex
	facts map[membership.ID][]*membership.Facts
}

func (c *decideCalls) record(f *membership.Facts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.facts == nil {
		c.facts = map[membership.ID][]*membership.Facts{}
	}
	var key membership.ID
	if f.Space != nil {
		key = f.Space.ID
	}
	c.facts[key] = append(c.facts[key], f)
}

// testSpacesDecide: decide sees, for each space that passes the condition
// and for no other, the facts Read returns for it; a space it refuses is
// not listed.
func testSpacesDecide(t *testing.T, s Store) {
	seedSpaces(t, s)
	refuseR := func(f *membership.Facts) bool { return !strings.HasPrefix(f.Space.Name, "r") }
	candidates := append(slices.Clone(accountSpaces), foreignSpace)
	for _, tc := range conditionCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, u := range conditionActors {
				q := spaceQuery(u.ID, tc.cond)
				var calls decideCalls
				got, err := s.ListSpaces(context.Background(), q, func(f *membership.Facts) (bool, error) {
					calls.record(f)
					return refuseR(f), nil
				})
				if err != nil {
					t.Fatalf("ListSpaces: %v", err)
				}
				// decide may see a space of another account that passes
				// the condition, but must see every one of the actor's.
				passing := expectedSpaces(t, s, q, candidates, nil)
				ours := slices.DeleteFunc(slices.Clone(passing), func(sp membership.Space) bool {
					return !slices.ContainsFunc(candidates, func(c membership.Space) bool { return c.ID == sp.ID && inAccountOf(c, u) })
				})
				want := slices.DeleteFunc(slices.Clone(ours), func(sp membership.Space) bool { return !refuseR(&membership.Facts{Space: &sp}) })
				if diff := cmp.Diff(spaceIDs(want), spaceIDs(got.Spaces)); diff != "" {
					t.Errorf("%s, as %s, listed (-want +got):\n%s", tc.cond, u.Name, diff)
				}
				for spaceID, fs := range calls.facts {
					if !slices.ContainsFunc(passing, func(sp membership.Space) bool { return sp.ID == spaceID }) {
						t.Errorf("%s, as %s: decide called for space %s, which the condition or the account keeps out", tc.cond, u.Name, spaceID)
						continue
					}
					read := readFacts(t, s, u.ID, spaceID)
					for _, f := range fs {
						if diff := cmp.Diff(read, f); diff != "" {
							t.Errorf("%s, as %s: decide's facts of space %s (-Read +decide):\n%s", tc.cond, u.Name, spaceID, diff)
						}
					}
				}
				for _, sp := range ours {
					if len(calls.facts[sp.ID]) == 0 {
						t.Errorf("%s, as %s: space %s passes the condition, but decide was never asked about it", tc.cond, u.Name, sp.ID)
					}
				}
			}
		})
	}
}

// testSpacesDecideError: an error from decide fails the list and comes
// back unchanged.
func testSpacesDecideError(t *testing.T, s Store) {
	seedSpaces(t, s)
	errDecide := fmt.Errorf("storetest: decide failed: %w", errDenied)
	for _, cond := range []membership.Condition{membership.True, membership.Not(isPublic), spaceIs(redTeam), orgIs(org.ID)} {
		_, err := s.ListSpaces(context.Background(), spaceQuery(actor.ID, cond), func(f *membership.Facts) (bool, error) {
			if f.Space != nil && f.Space.ID == redTeam.ID {
				return false, errDecide
			}
			return true, nil
		})
		if !errors.Is(err, errDecide) {
			t.Errorf("%s: ListSpaces = %v, want decide's error", cond, err)
		}
	}
}

// testSpacesOfNoUser: an actor that names no user lists nothing, whatever
// the condition, and has no record.
func testSpacesOfNoUser(t *testing.T, s Store) {
	seedSpaces(t, s)
	for _, cond := range []membership.Condition{membership.True, isPublic, membership.Not(inSpace), spaceIs(space)} {
		for _, decide := range []func(*membership.Facts) (bool, error){nil, func(*membership.Facts) (bool, error) { return true, nil }} {
			list, err := s.ListSpaces(context.Background(), spaceQuery(id("User:nobody"), cond), decide)
			if err != nil {
				t.Fatalf("%s: ListSpaces: %v", cond, err)
			}
			if list.Actor != nil || len(list.Spaces) != 0 || list.More {
				t.Errorf("%s: an actor that names no user listed %+v", cond, list)
			}
		}
	}
}

// testSpacesOfOneAccount: no condition lists a space of another account,
// not even True with a decide that allows everything, nor one that names
// that space or its organization.
func testSpacesOfOneAccount(t *testing.T, s Store) {
	seedSpaces(t, s)
	allow := func(*membership.Facts) (bool, error) { return true, nil }
	for _, cond := range []membership.Condition{membership.True, spaceIs(foreignSpace), orgIs(foreignOrg.ID), membership.Not(inSpace), membership.Or(spaceIs(foreignSpace), spaceIs(space))} {
		for _, u := range []membership.User{actor, accountAdmin, foreigner} {
			for _, decide := range []func(*membership.Facts) (bool, error){nil, allow} {
				q := spaceQuery(u.ID, cond)
				for _, orgID := range []membership.ID{"", foreignOrg.ID, org.ID} {
					q.OrganizationID = orgID
					for _, sp := range listSpaces(t, s, q, 2, decide) {
						want := account.ID
						if u.AccountID != account.ID {
							want = account2.ID
						}
						f := readFacts(t, s, u.ID, sp.ID)
						if f.Organization == nil || f.Organization.AccountID != want {
							t.Errorf("%s, as %s, organization %q: listed space %s of another account", cond, u.Name, orgID, sp.ID)
						}
					}
				}
			}
		}
	}
	got := listSpaces(t, s, spaceQuery(foreigner.ID, membership.True), 100, nil)
	if diff := cmp.Diff([]membership.Space{foreignSpace}, got); diff != "" {
		t.Errorf("the other account's spaces (-want +got):\n%s", diff)
	}
	// Asked for an organization of another account, a store lists nothing
	// and never asks decide about a space of it.
	q := spaceQuery(accountAdmin.ID, membership.True)
	q.OrganizationID = foreignOrg.ID
	looked := func(f *membership.Facts) (bool, error) {
		t.Errorf("decide was asked about %s, a space of an organization of another account", f.Space.ID)
		return true, nil
	}
	if list, err := s.ListSpaces(context.Background(), q, looked); err != nil || len(list.Spaces) != 0 {
		t.Errorf("an organization of another account: %v, %v; want an empty list", list.Spaces, err)
	}
}

// testSpacesFollowTheirAccount: a space is listed in the account of its
// organization as it is now, after the organization moves to another
// account, after the space moves to an organization of another account, and
// for a space seeded before its organization.
func testSpacesFollowTheirAccount(t *testing.T, s Store) {
	seedSpaces(t, s)
	ctx := context.Background()
	ids := func(u membership.User) []membership.ID {
		var out []membership.ID
		for _, sp := range listSpaces(t, s, spaceQuery(u.ID, membership.True), 100, nil) {
			out = append(out, sp.ID)
		}
		return out
	}
	check := func(step string, wantFirst, wantSecond []membership.ID) {
		t.Helper()
		slices.SortFunc(wantFirst, compare)
		slices.SortFunc(wantSecond, compare)
		if got := ids(accountAdmin); !slices.Equal(got, wantFirst) {
			t.Errorf("%s: the first account lists %v, want %v", step, got, wantFirst)
		}
		if got := ids(foreigner); !slices.Equal(got, wantSecond) {
			t.Errorf("%s: the second account lists %v, want %v", step, got, wantSecond)
		}
	}
	first := func(except ...membership.ID) []membership.ID {
		var out []membership.ID
		for _, sp := range accountSpaces {
			if !slices.Contains(except, sp.ID) {
				out = append(out, sp.ID)
			}
		}
		return out
	}
	check("as seeded", first(), []membership.ID{foreignSpace.ID})

	moved := summer
	moved.OrganizationID = foreignOrg.ID
	if err := s.PutSpace(ctx, moved); err != nil {
		t.Fatal(err)
	}
	check("a space moved to an organization of the second account", first(summer.ID), []membership.ID{foreignSpace.ID, summer.ID})

	early := membership.Space{ID: id("Space:early"), OrganizationID: id("Org:late"), Name: "early", CreatedAt: time.Date(2026, 4, 4, 10, 0, 0, 0, time.UTC)}
	wantSecond := []membership.ID{foreignSpace.ID, summer.ID}
	// A store may refuse a space whose organization does not exist yet.
	if err := s.PutSpace(ctx, early); err == nil {
		if err := s.PutOrganization(ctx, membership.Organization{ID: early.OrganizationID, AccountID: account2.ID, Name: "Late"}); err != nil {
			t.Fatal(err)
		}
		wantSecond = append(wantSecond, early.ID)
		check("a space seeded before its organization", first(summer.ID), wantSecond)
	}

	// A store may refuse to move an organization with members to another
	// account: its members are users of the first.
	away := foreignOrg
	away.AccountID = account.ID
	if err := s.PutOrganization(ctx, away); err != nil {
		return
	}
	check("the organization moved to the first account", append(first(), foreignSpace.ID), slices.DeleteFunc(wantSecond, func(id membership.ID) bool {
		return id == foreignSpace.ID || id == summer.ID
	}))
}

// testSpaceWalkUnderWrites: a walk of small pages while memberships come
// and go, spaces appear and users move in and out of organizations lists
// every space readable for the whole walk exactly once, in id order, and no
// space that is never readable.
//
// The walker is a MEMBER of the world's organization and of its own
// private spaces; nothing running touches those memberships. Writers add
// and remove the walker's memberships of other private spaces, move the
// walker in and out of a third organization of public spaces, move other
// users in and out of the organizations and their spaces, and create
// spaces, public and private, in the world's organization.
func testSpaceWalkUnderWrites(t *testing.T, s Store) {
	seedSpaces(t, s)
	ctx := context.Background()
	walker := membership.User{ID: id("User:walker"), AccountID: account.ID, Name: "Walt", Email: "walt@example.com", Role: membership.AccountMember}
	moving := membership.Organization{ID: id("Org:moving"), AccountID: account.ID, Name: "Moving"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seeding: %v", err)
		}
	}
	must(s.PutUser(ctx, walker))
	must(s.PutOrganization(ctx, moving))
	must(s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org.ID, UserID: walker.ID, Role: member}))
	others := newUsers(t, s, "w", 6)

	var stable, churn, hidden []membership.ID
	newSpace := func(name string, orgID membership.ID, private bool) membership.ID {
		sp := membership.Space{ID: id("Space:" + name), OrganizationID: orgID, Name: name, IsPrivate: private}
		must(s.PutSpace(ctx, sp))
		return sp.ID
	}
	for i := range 12 {
		stable = append(stable, newSpace(fmt.Sprintf("public-%02d", i), org.ID, false))
		mine := newSpace(fmt.Sprintf("mine-%02d", i), org.ID, true)
		if _, err := s.PutSpaceMember(ctx, mine, walker.ID, member); err != nil {
			t.Fatal(err)
		}
		stable = append(stable, mine)
		churn = append(churn, newSpace(fmt.Sprintf("churn-%02d", i), org.ID, true))
		hidden = append(hidden, newSpace(fmt.Sprintf("hidden-%02d", i), org.ID, true))
		newSpace(fmt.Sprintf("moving-%02d", i), moving.ID, false) // readable only while the walker is in moving
	}
	stable = append(stable, space.ID) // public, in the walker's organization
	hidden = append(hidden, redTeam.ID, kelvin.ID, otherSpace.ID, summer.ID, foreignSpace.ID)
	for _, u := range others {
		for _, sp := range hidden[:12] {
			if _, err := s.PutSpaceMember(ctx, sp, u, member); err != nil {
				t.Fatal(err)
			}
		}
	}

	var stop atomic.Bool
	var writes atomic.Int64
	var wg sync.WaitGroup
	fail := func(what string, err error) {
		writes.Add(1)
		if err != nil && !errors.Is(err, membership.ErrMembershipNotFound) && !errors.Is(err, membership.ErrUserNotInOrganization) {
			t.Errorf("%s: %v", what, err)
			stop.Store(true)
		}
	}
	wg.Go(func() { // the walker's memberships of other private spaces
		for i := 0; !stop.Load(); i++ {
			q := membership.Query{Operation: membership.OperationAdd, Actor: walker.ID, SpaceID: churn[i%len(churn)], UserID: walker.ID, Role: member}
			if i%3 == 2 {
				q.Operation, q.Role = membership.OperationRemove, membership.RoleAssignment{}
				_, err := s.Write(ctx, q, remove)
				fail("removing the walker from a space", err)
				continue
			}
			_, err := s.Write(ctx, q, put)
			fail("adding the walker to a space", err)
		}
	})
	wg.Go(func() { // the walker, in and out of an organization
		for i := 0; !stop.Load(); i++ {
			if i%2 == 0 {
				fail("the walker joining", s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: moving.ID, UserID: walker.ID, Role: member}))
				continue
			}
			q := orgRemoveQuery(walker.ID)
			q.OrganizationID = moving.ID
			_, err := s.Write(ctx, q, cascade)
			fail("the walker leaving", err)
		}
	})
	wg.Go(func() { // other users, in and out of organizations and spaces
		for i := 0; !stop.Load(); i++ {
			u := others[i%len(others)]
			switch i % 4 {
			case 0:
				_, err := s.Write(ctx, orgRemoveQuery(u), cascade)
				fail("a user leaving", err)
			case 1:
				fail("a user joining", s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org.ID, UserID: u, Role: member}))
			default:
				sp := stable[i%len(stable)]
				if i%8 == 3 {
					sp = hidden[i%12]
				}
				_, err := writeSpace(ctx, s, membership.Query{Operation: membership.OperationAdd, Actor: u, SpaceID: sp, UserID: u, Role: member}, put)
				fail("a user joining a space", err)
			}
		}
	})
	wg.Go(func() { // new spaces
		for i := 0; !stop.Load() && i < 200; i++ {
			fail("creating a space", s.PutSpace(ctx, membership.Space{ID: id(fmt.Sprintf("Space:new-%03d", i)), OrganizationID: org.ID, Name: "new", IsPrivate: i%2 == 1}))
		}
	})

	cond := membership.And(inParent, inActorAccount, membership.Or(membership.And(isPublic, inOrg), inSpace))
	decideAgain := func(f *membership.Facts) (bool, error) { return readRule.Holds(f), nil }
	// Let every writer get going before the first walk.
	for writes.Load() < 100 && !stop.Load() {
		time.Sleep(time.Millisecond)
	}
	during := int64(0)
	for round := range 8 {
		before := writes.Load()
		q := spaceQuery(walker.ID, cond)
		var decide func(*membership.Facts) (bool, error)
		if round%2 == 1 {
			q.Filter.Condition = membership.True
			decide = decideAgain
		}
		got := listSpaces(t, s, q, 1+round%3, decide)
		seen := map[membership.ID]int{}
		for _, sp := range got {
			seen[sp.ID]++
		}
		for _, sp := range stable {
			if seen[sp] != 1 {
				t.Errorf("round %d: space %s, readable for the whole walk, was listed %d times", round, sp, seen[sp])
			}
		}
		for _, sp := range hidden {
			if seen[sp] != 0 {
				t.Errorf("round %d: space %s, never readable, was listed", round, sp)
			}
		}
		during += writes.Load() - before
	}
	stop.Store(true)
	wg.Wait()
	if during == 0 {
		t.Error("no write ran during the walks: the case tested nothing")
	}
}
