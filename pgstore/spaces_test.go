package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/membership"
)

// listWorld is a small account for lists: two organizations with public and
// private spaces, another account's organization and space, and actors who
// hold each kind of grant.
type listWorld struct {
	account, other membership.ID
	spaces         []membership.Space // every space, in id order, the other account's too
	actors         map[string]membership.ID
	reviewer       membership.CustomRole
}

func seedListWorld(t *testing.T, s *Store) *listWorld {
	t.Helper()
	ctx := context.Background()
	w := &listWorld{account: id("Account:list"), other: id("Account:other"), actors: map[string]membership.ID{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutAccount(ctx, membership.Account{ID: w.account}))
	must(s.PutAccount(ctx, membership.Account{ID: w.other}))
	w.reviewer = membership.CustomRole{ID: id("Role:reviewer"), AccountID: w.account, Name: "Reviewer", Permissions: []membership.Permission{"PROJECT_READ", "ROLE_BINDING_READ"}}
	must(s.PutCustomRole(ctx, w.reviewer))
	must(s.PutCustomRole(ctx, membership.CustomRole{ID: id("Role:empty"), AccountID: w.account, Name: "Empty"}))
	research, ops, foreign := id("Org:research"), id("Org:ops"), id("Org:foreign")
	must(s.PutOrganization(ctx, membership.Organization{ID: research, AccountID: w.account, Name: "Research"}))
	must(s.PutOrganization(ctx, membership.Organization{ID: ops, AccountID: w.account, Name: "Ops"}))
	must(s.PutOrganization(ctx, membership.Organization{ID: foreign, AccountID: w.other, Name: "Foreign"}))
	// The ids are chosen so that byte order and a case-insensitive order
	// differ (base64 of "Space:a..." and "Space:A..." start alike).
	for _, sp := range []struct {
		name, title string
		org         membership.ID
		private     bool
	}{
		{"a-evals", "llm-evals", research, false},
		{"B-private", "Secret 50% plan", research, true},
		{"c-under", "under_score", research, false},
		{"D-ops", "ops dashboard", ops, false},
		{"e-ops-private", "Ops ΣΊΣΥΦΟΣ", ops, true},
		{"F-foreign", "foreign llm-evals", foreign, false},
	} {
		space := membership.Space{ID: id("Space:" + sp.name), OrganizationID: sp.org, Name: sp.title, IsPrivate: sp.private}
		must(s.PutSpace(ctx, space))
		w.spaces = append(w.spaces, space)
	}
	slices.SortFunc(w.spaces, func(a, b membership.Space) int { return strings.Compare(string(a.ID), string(b.ID)) })

	user := func(key string, account membership.ID, role membership.AccountRole) membership.ID {
		u := membership.User{ID: id("User:" + key), AccountID: account, Name: strings.ToLower(key), Email: key + "@example.com", Role: role}
		must(s.PutUser(ctx, u))
		w.actors[key] = u.ID
		return u.ID
	}
	user("admin", w.account, membership.AccountAdmin)
	user("nobody", w.account, membership.AccountMember)
	member := user("member", w.account, membership.AccountMember)
	orgAdmin := user("orgadmin", w.account, membership.AccountAnnotator)
	custom := user("custom", w.account, membership.AccountMember)
	dangling := user("dangling", w.account, membership.AccountMember)
	stranger := user("stranger", w.other, membership.AccountAdmin)
	orgRole := func(org, u membership.ID, r membership.RoleAssignment) {
		must(s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org, UserID: u, Role: r}))
	}
	spaceRole := func(space string, u membership.ID, r membership.RoleAssignment) {
		_, err := s.PutSpaceMember(ctx, id("Space:"+space), u, r)
		must(err)
	}
	orgRole(research, member, membership.Predefined(membership.RoleMember))
	spaceRole("B-private", member, membership.Predefined(membership.RoleReadOnly))
	orgRole(ops, member, membership.Predefined(membership.RoleAnnotator))
	orgRole(research, orgAdmin, membership.Predefined(membership.RoleAdmin))
	orgRole(research, custom, membership.Custom(w.reviewer.ID))
	orgRole(ops, custom, membership.Predefined(membership.RoleMember))
	spaceRole("e-ops-private", custom, membership.Custom(id("Role:empty")))
	spaceRole("D-ops", custom, membership.Custom(w.reviewer.ID))
	// A custom role that does not exist: the grant is held, its role null.
	orgRole(ops, dangling, membership.Custom(id("Role:gone")))
	orgRole(foreign, stranger, membership.Predefined(membership.RoleAdmin))
	w.actors["missing"] = id("User:missing")
	return w
}

// expectSpaces lists, by deciding space by space on the facts Read returns,
// the spaces of the actor's account on which cond holds and that pass keep.
func (w *listWorld) expectSpaces(t *testing.T, s *Store, actor membership.ID, cond membership.Condition, keep func(membership.Space) bool) []membership.ID {
	t.Helper()
	var out []membership.ID
	for _, sp := range w.spaces {
		f, _, err := s.Read(context.Background(), membership.Query{Operation: membership.OperationRead, Actor: actor, SpaceID: sp.ID})
		if err != nil {
			t.Fatal(err)
		}
		if f.Actor == nil || f.Organization == nil || f.Organization.AccountID != f.Actor.AccountID {
			continue
		}
		if cond.Holds(f) && (keep == nil || keep(sp)) {
			out = append(out, sp.ID)
		}
	}
	return out
}

func spaceIDs(spaces []membership.Space) []membership.ID {
	var out []membership.ID
	for _, sp := range spaces {
		out = append(out, sp.ID)
	}
	return out
}

// Shorthands for the conditions of the tests.
var (
	ref   = membership.Ref
	str   = func(s string) membership.Operand { return membership.Const(membership.String(s)) }
	boolc = func(b bool) membership.Operand { return membership.Const(membership.Bool(b)) }
	null  = membership.Const(membership.Null)
	list  = func(vs ...membership.Value) membership.Operand {
		return membership.Const(membership.Value{Kind: membership.KindList, List: vs})
	}
	strs = func(ss ...string) membership.Value {
		v := membership.Value{Kind: membership.KindList}
		for _, s := range ss {
			v.List = append(v.List, membership.String(s))
		}
		return v
	}
)

func atom(t membership.Test, l, r membership.Operand) membership.Condition {
	return membership.Is(membership.Atom{Test: t, Left: l, Right: r})
}

func not(c membership.Condition) membership.Condition { return membership.Not(c) }

func isType(t membership.Test, f membership.Field) membership.Condition {
	return atom(t, ref(f), membership.Operand{})
}

// readPolicy is the default policy's read rule, as a condition.
func readPolicy() membership.Condition {
	inAccount := membership.And(
		atom(membership.TestEqual, ref(membership.FieldSpaceOrganizationID), ref(membership.FieldOrganizationID)),
		isType(membership.TestIsString, membership.FieldActorAccountID),
		atom(membership.TestEqual, ref(membership.FieldOrganizationAccountID), ref(membership.FieldActorAccountID)),
	)
	return membership.Or(
		membership.And(inAccount, atom(membership.TestEqual, ref(membership.FieldActorRole), str("ADMIN"))),
		membership.And(inAccount, atom(membership.TestEqual, ref(membership.FieldSpaceIsPrivate), boolc(false)), isType(membership.TestIsObject, membership.FieldOrgRole)),
		membership.And(inAccount, atom(membership.TestEqual, ref(membership.FieldOrgRoleType), str("PREDEFINED")), atom(membership.TestEqual, ref(membership.FieldOrgRoleName), str("ADMIN"))),
		membership.And(inAccount, isType(membership.TestIsObject, membership.FieldSpaceRole)),
	)
}

// conditionCases covers every test, negation, absent values, kinds that
// differ, and grants held, not held, custom and with a missing custom role.
func conditionCases() []membership.Condition {
	var (
		eq, ne, lt, le, gt, ge = membership.TestEqual, membership.TestNotEqual, membership.TestLess, membership.TestLessEqual, membership.TestGreater, membership.TestGreaterEqual
		in                     = membership.TestIn
	)
	cases := []membership.Condition{
		membership.True,
		membership.False,
		readPolicy(),
		not(readPolicy()),
		// Strings, by byte order.
		atom(eq, ref(membership.FieldSpaceName), str("llm-evals")),
		atom(ne, ref(membership.FieldSpaceName), str("llm-evals")),
		atom(lt, ref(membership.FieldSpaceName), str("ops")),
		atom(le, ref(membership.FieldSpaceName), str("ops dashboard")),
		atom(gt, ref(membership.FieldSpaceName), str("Ops ΣΊΣΥΦΟΣ")),
		atom(ge, ref(membership.FieldSpaceName), str("Ops")),
		atom(lt, str("m"), ref(membership.FieldSpaceName)),
		atom(lt, ref(membership.FieldSpaceID), ref(membership.FieldSpaceOrganizationID)),
		atom(eq, ref(membership.FieldSpaceOrganizationID), ref(membership.FieldOrganizationID)),
		atom(eq, ref(membership.FieldActorAccountID), ref(membership.FieldOrganizationAccountID)),
		// Kinds that differ: never equal, ordered null < bool < string < list.
		atom(eq, ref(membership.FieldSpaceIsPrivate), str("false")),
		atom(ne, ref(membership.FieldSpaceIsPrivate), str("false")),
		atom(lt, ref(membership.FieldSpaceIsPrivate), str("")),
		atom(gt, ref(membership.FieldSpaceName), boolc(true)),
		atom(le, ref(membership.FieldSpaceName), null),
		atom(gt, ref(membership.FieldSpaceName), list()),
		atom(lt, ref(membership.FieldSpaceName), list()),
		atom(ge, ref(membership.FieldOrgRoleCustomPermissions), str("zzz")),
		// Booleans.
		atom(eq, ref(membership.FieldSpaceIsPrivate), boolc(true)),
		atom(lt, ref(membership.FieldSpaceIsPrivate), boolc(true)),
		atom(ge, boolc(true), ref(membership.FieldSpaceIsPrivate)),
		not(atom(eq, ref(membership.FieldSpaceIsPrivate), boolc(false))),
		// Nulls and records.
		atom(eq, ref(membership.FieldOrgRole), null),
		atom(ne, ref(membership.FieldOrgRole), null),
		atom(gt, ref(membership.FieldOrgRole), null),
		atom(eq, ref(membership.FieldOrgRole), ref(membership.FieldSpaceRole)),
		atom(eq, ref(membership.FieldOrgRoleCustom), null),
		atom(eq, ref(membership.FieldActor), ref(membership.FieldSpace)),
		atom(lt, ref(membership.FieldSpaceRole), ref(membership.FieldSpaceName)),
		// Absent values: no test holds, every negation does.
		atom(eq, ref(membership.FieldOrgRoleName), str("ADMIN")),
		not(atom(eq, ref(membership.FieldOrgRoleName), str("ADMIN"))),
		atom(ne, ref(membership.FieldOrgRoleName), str("ADMIN")),
		not(atom(ne, ref(membership.FieldOrgRoleName), str("ADMIN"))),
		atom(eq, ref(membership.FieldSpaceRoleID), ref(membership.FieldOrgRoleID)),
		atom(ne, ref(membership.FieldSpaceRoleCustomName), ref(membership.FieldOrgRoleCustomName)),
		atom(eq, ref(membership.FieldOrgRoleType), membership.Const(membership.Value{})),
		not(atom(eq, ref(membership.FieldOrgRoleType), membership.Const(membership.Value{}))),
		not(isType(membership.TestIsNull, membership.FieldOrgRoleCustomAccountID)),
		// Grants: held, not held, custom, with a missing custom role.
		isType(membership.TestDefined, membership.FieldOrgRole),
		isType(membership.TestDefined, membership.FieldOrgRoleName),
		not(isType(membership.TestDefined, membership.FieldOrgRoleCustom)),
		isType(membership.TestDefined, membership.FieldSpaceRoleCustomPermissions),
		not(isType(membership.TestDefined, membership.FieldActorRole)),
		isType(membership.TestDefined, membership.Field(0)),
		isType(membership.TestIsObject, membership.FieldOrgRole),
		isType(membership.TestIsNull, membership.FieldOrgRole),
		not(isType(membership.TestIsObject, membership.FieldSpaceRole)),
		atom(eq, ref(membership.FieldOrgRoleType), str("CUSTOM")),
		atom(eq, ref(membership.FieldSpaceRoleType), str("PREDEFINED")),
		atom(eq, ref(membership.FieldOrgRoleID), str(string(id("Role:gone")))),
		isType(membership.TestIsObject, membership.FieldOrgRoleCustom),
		isType(membership.TestIsNull, membership.FieldOrgRoleCustom),
		not(isType(membership.TestIsNull, membership.FieldOrgRoleCustom)),
		isType(membership.TestIsString, membership.FieldOrgRoleCustomName),
		isType(membership.TestIsArray, membership.FieldOrgRoleCustomPermissions),
		isType(membership.TestIsArray, membership.FieldSpaceRoleCustomPermissions),
		isType(membership.TestIsBoolean, membership.FieldSpaceIsPrivate),
		isType(membership.TestIsBoolean, membership.FieldSpaceName),
		isType(membership.TestIsString, membership.FieldActorRole),
		atom(eq, ref(membership.FieldSpaceRoleCustomAccountID), ref(membership.FieldActorAccountID)),
		// In: constant lists, a custom role's permissions.
		atom(in, ref(membership.FieldOrgRoleName), list(membership.String("ADMIN"), membership.String("ANNOTATOR"))),
		not(atom(in, ref(membership.FieldOrgRoleName), list(membership.String("ADMIN"), membership.String("ANNOTATOR")))),
		atom(in, ref(membership.FieldOrgRole), list(membership.Null, membership.Bool(true))),
		atom(in, ref(membership.FieldSpaceIsPrivate), list(membership.Bool(true), membership.String("x"))),
		atom(in, ref(membership.FieldSpaceName), list()),
		atom(in, ref(membership.FieldSpaceName), str("llm-evals")),
		atom(in, str("PROJECT_READ"), ref(membership.FieldOrgRoleCustomPermissions)),
		not(atom(in, str("PROJECT_READ"), ref(membership.FieldSpaceRoleCustomPermissions))),
		atom(in, ref(membership.FieldActorRole), ref(membership.FieldOrgRoleCustomPermissions)),
		atom(in, boolc(true), ref(membership.FieldOrgRoleCustomPermissions)),
		atom(in, ref(membership.FieldOrgRoleCustomPermissions), list(strs("PROJECT_READ", "ROLE_BINDING_READ"), membership.Null)),
		atom(in, ref(membership.FieldSpaceID), list(membership.String(string(id("Space:a-evals"))), membership.String(string(id("Space:D-ops"))), membership.Null)),
		atom(in, ref(membership.FieldOrganizationID), list(membership.String(string(id("Org:ops"))))),
		// Lists compared whole, with items of other kinds too.
		atom(eq, ref(membership.FieldOrgRoleCustomPermissions), membership.Const(strs("PROJECT_READ", "ROLE_BINDING_READ"))),
		atom(lt, ref(membership.FieldOrgRoleCustomPermissions), membership.Const(strs("PROJECT_READ", "S"))),
		atom(gt, ref(membership.FieldSpaceRoleCustomPermissions), membership.Const(strs())),
		atom(lt, ref(membership.FieldOrgRoleCustomPermissions), list(membership.String("PROJECT_READ"), membership.Null)),
		atom(gt, ref(membership.FieldOrgRoleCustomPermissions), list(membership.String("PROJECT_READ"), membership.Null)),
		atom(lt, ref(membership.FieldSpaceRoleCustomPermissions), list(membership.Bool(false))),
		atom(lt, list(membership.String("PROJECT_READ"), strs()), ref(membership.FieldOrgRoleCustomPermissions)),
		atom(ge, list(membership.String("PROJECT_READ"), membership.String("ROLE_BINDING_READ"), strs()), ref(membership.FieldOrgRoleCustomPermissions)),
		atom(eq, ref(membership.FieldOrgRoleCustomPermissions), ref(membership.FieldSpaceRoleCustomPermissions)),
		atom(lt, ref(membership.FieldSpaceRoleCustomPermissions), ref(membership.FieldOrgRoleCustomPermissions)),
		// String tests, byte by byte, LIKE's characters taken literally.
		atom(membership.TestStartsWith, ref(membership.FieldSpaceName), str("llm")),
		atom(membership.TestStartsWith, ref(membership.FieldSpaceName), str("Secret 50%")),
		atom(membership.TestStartsWith, ref(membership.FieldSpaceName), str("_")),
		atom(membership.TestEndsWith, ref(membership.FieldSpaceName), str("evals")),
		atom(membership.TestEndsWith, ref(membership.FieldSpaceName), str("ΦΟΣ")),
		atom(membership.TestEndsWith, ref(membership.FieldSpaceName), str("φος")),
		atom(membership.TestContains, ref(membership.FieldSpaceName), str("r_s")),
		atom(membership.TestContains, ref(membership.FieldSpaceName), str("e_s")),
		atom(membership.TestContains, ref(membership.FieldSpaceName), str("0%")),
		atom(membership.TestContains, ref(membership.FieldSpaceName), str("")),
		atom(membership.TestContains, ref(membership.FieldSpaceName), ref(membership.FieldOrgRoleName)),
		atom(membership.TestContains, ref(membership.FieldOrganizationName), ref(membership.FieldActorName)),
		atom(membership.TestStartsWith, ref(membership.FieldSpaceIsPrivate), str("t")),
		not(atom(membership.TestEndsWith, ref(membership.FieldSpaceRoleName), str("ONLY"))),
		// Constants on both sides, decided while rendering.
		atom(lt, str("a"), str("b")),
		atom(eq, list(membership.Null), list(membership.Null)),
		// Conditions on the actor alone guard the sources.
		membership.And(atom(eq, ref(membership.FieldActorRole), str("ADMIN")), atom(eq, ref(membership.FieldSpaceIsPrivate), boolc(true))),
		membership.Or(atom(eq, ref(membership.FieldActorRole), str("ANNOTATOR")), atom(eq, ref(membership.FieldSpaceID), str(string(id("Space:c-under"))))),
		membership.And(isType(membership.TestIsObject, membership.FieldActor), atom(eq, ref(membership.FieldOrganizationID), str(string(id("Org:research"))))),
		membership.And(not(isType(membership.TestIsObject, membership.FieldActor)), atom(eq, ref(membership.FieldOrganizationID), str(string(id("Org:research"))))),
		membership.Or(
			membership.And(atom(eq, ref(membership.FieldOrgRoleName), str("MEMBER")), atom(eq, ref(membership.FieldSpaceIsPrivate), boolc(false))),
			atom(in, str("PROJECT_READ"), ref(membership.FieldSpaceRoleCustomPermissions)),
		),
	}
	return cases
}

// TestListSpacesRendersConditionsExactly holds the SQL of each condition
// to membership.Condition.Holds: for every actor, the spaces an exact list
// returns are those of the actor's account on whose facts, as Read returns
// them, the condition holds; both with the whole account read and with the
// sources the condition plans.
func TestListSpacesRendersConditionsExactly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedListWorld(t, s)
	for i, cond := range conditionCases() {
		t.Run(fmt.Sprintf("%d %s", i, cond), func(t *testing.T) {
			t.Parallel()
			for key, actor := range w.actors {
				want := w.expectSpaces(t, s, actor, cond, nil)
				q := membership.SpaceQuery{Actor: actor, Limit: 100, Filter: membership.ReadFilter{Condition: cond, Exact: true}}
				whole, err := s.listFrom(ctx, q, []membership.Source{{Kind: membership.SourceAccount, Guard: membership.True}}, nil)
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				if diff := cmp.Diff(want, spaceIDs(whole.Spaces)); diff != "" {
					t.Errorf("%s, whole account: spaces (-Holds +SQL):\n%s", key, diff)
				}
				planned, err := s.ListSpaces(ctx, q, nil)
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				if diff := cmp.Diff(want, spaceIDs(planned.Spaces)); diff != "" {
					t.Errorf("%s, planned sources %v: spaces (-Holds +SQL):\n%s", key, cond.Plan(), diff)
				}
				switch {
				case key == "missing" && planned.Actor != nil:
					t.Errorf("%s: the actor reads as %+v, want none", key, planned.Actor)
				case key != "missing" && (planned.Actor == nil || planned.Actor.ID != actor):
					t.Errorf("%s: the actor reads as %+v", key, planned.Actor)
				}
			}
		})
	}
}

// TestListSpacesPages walks the spaces page by page: each appears once, in
// byte order, and More is set exactly when another follows.
func TestListSpacesPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedListWorld(t, s)
	for _, key := range []string{"admin", "member", "custom"} {
		actor := w.actors[key]
		want := w.expectSpaces(t, s, actor, readPolicy(), nil)
		for _, limit := range []int{1, 2, 3, 100} {
			for _, exact := range []bool{true, false} {
				var decide func(*membership.Facts) (bool, error)
				if !exact {
					decide = func(*membership.Facts) (bool, error) { return true, nil }
				}
				var got []membership.ID
				after := membership.ID("")
				for pages := 0; ; pages++ {
					if pages > len(want)+1 {
						t.Fatalf("%s, limit %d: the walk does not end", key, limit)
					}
					list, err := s.ListSpaces(ctx, membership.SpaceQuery{Actor: actor, After: after, Limit: limit, Filter: membership.ReadFilter{Condition: readPolicy(), Exact: exact}}, decide)
					if err != nil {
						t.Fatal(err)
					}
					if len(list.Spaces) > limit {
						t.Fatalf("%s, limit %d: a page of %d spaces", key, limit, len(list.Spaces))
					}
					got = append(got, spaceIDs(list.Spaces)...)
					if more := len(got) < len(want); list.More != more {
						t.Errorf("%s, limit %d, exact %v: More is %v after %d of %d spaces", key, limit, exact, list.More, len(got), len(want))
					}
					if !list.More {
						break
					}
					after = list.Spaces[len(list.Spaces)-1].ID
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s, limit %d, exact %v: spaces (-want +got):\n%s", key, limit, exact, diff)
				}
			}
		}
	}
}

// TestListSpacesNarrows holds the organization and name filters: the name
// is matched folded (Unicode simple case folding, not lower()), LIKE's own
// characters literally.
func TestListSpacesNarrows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedListWorld(t, s)
	org := id("Org:research")
	extra := []string{"ſtraße", "STRASSE", "Kelvin \u212a", "kelvin k", "ΌΣΟΣ", "όσος", "όσoς", `back\slash`, "50% off", "500 off", "a_b", "axb", "ǅemal", "ǆemal"}
	for i, name := range extra {
		sp := membership.Space{ID: id(fmt.Sprintf("Space:name%02d", i)), OrganizationID: org, Name: name}
		if err := s.PutSpace(ctx, sp); err != nil {
			t.Fatal(err)
		}
		w.spaces = append(w.spaces, sp)
	}
	slices.SortFunc(w.spaces, func(a, b membership.Space) int { return strings.Compare(string(a.ID), string(b.ID)) })
	admin := w.actors["admin"]
	for _, tc := range []struct {
		name, filter string
		org          membership.ID
		want         int // how many spaces match, a check on the table itself
	}{
		{"long s", "STR", "", 2},
		{"sharp s is no ss", "ß", "", 1},
		{"kelvin sign", "kelvin k", "", 2},
		{"kelvin sign in the filter", "\u212aELVIN", "", 2},
		{"final sigma", "όσος", "", 2},
		{"sigma", "ΣΟΣ", "", 2},
		{"title case digraph", "ǆ", "", 2},
		{"percent", "0%", "", 2},
		{"underscore", "a_b", "", 1},
		{"backslash", `\s`, "", 1},
		{"empty", "", "", len(w.spaces) - 1},
		{"organization", "", org, 3 + len(extra)},
		{"organization and name", "llm", org, 1},
		{"name in another organization", "ops", org, 0},
		{"organization of another account", "", id("Org:foreign"), 0},
		{"no such organization", "", id("Org:none"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			folded := membership.FoldName(tc.filter)
			want := w.expectSpaces(t, s, admin, membership.True, func(sp membership.Space) bool {
				return strings.Contains(membership.FoldName(sp.Name), folded) && (tc.org == "" || sp.OrganizationID == tc.org)
			})
			if len(want) != tc.want {
				t.Fatalf("the table expects %d spaces, folding finds %d", tc.want, len(want))
			}
			for _, decide := range []func(*membership.Facts) (bool, error){nil, func(*membership.Facts) (bool, error) { return true, nil }} {
				list, err := s.ListSpaces(ctx, membership.SpaceQuery{Actor: admin, OrganizationID: tc.org, Name: folded, Limit: 100,
					Filter: membership.ReadFilter{Condition: readPolicy(), Exact: decide == nil}}, decide)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, spaceIDs(list.Spaces)); diff != "" {
					t.Errorf("exact %v: spaces (-want +got):\n%s", decide == nil, diff)
				}
			}
		})
	}
}

var errDecide = errors.New("pgstore test: the decision failed")

// TestListSpacesDecides holds a list with a decision: decide sees only the
// candidates that pass the condition, in order, with the facts Read
// returns; the list holds exactly the allowed ones; decide's error fails
// the list unchanged.
func TestListSpacesDecides(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedListWorld(t, s)
	// More spaces than a batch, so that a page takes several.
	for i := range 40 {
		sp := membership.Space{ID: id(fmt.Sprintf("Space:many%02d", i)), OrganizationID: id("Org:ops"), Name: fmt.Sprintf("many %d", i), IsPrivate: i%3 == 0}
		if err := s.PutSpace(ctx, sp); err != nil {
			t.Fatal(err)
		}
		w.spaces = append(w.spaces, sp)
	}
	slices.SortFunc(w.spaces, func(a, b membership.Space) int { return strings.Compare(string(a.ID), string(b.ID)) })
	actor := w.actors["custom"]
	cond := membership.Or(
		atom(membership.TestEqual, ref(membership.FieldSpaceIsPrivate), boolc(false)),
		isType(membership.TestIsObject, membership.FieldSpaceRole),
	)
	candidates := w.expectSpaces(t, s, actor, cond, nil)
	// The decision lets every other candidate through.
	allowed := map[membership.ID]bool{}
	var want []membership.ID
	for i, sp := range candidates {
		if i%2 == 1 {
			allowed[sp] = true
			want = append(want, sp)
		}
	}
	if len(want) < 10 {
		t.Fatalf("only %d spaces allowed; the test needs more", len(want))
	}
	for _, limit := range []int{1, 4, 100} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			var decided, got []membership.ID
			after := membership.ID("")
			for {
				var seen []membership.ID
				list, err := s.ListSpaces(ctx, membership.SpaceQuery{Actor: actor, After: after, Limit: limit, Filter: membership.ReadFilter{Condition: cond}},
					func(f *membership.Facts) (bool, error) {
						read, _, err := s.Read(ctx, f.Query)
						if err != nil {
							return false, err
						}
						if diff := cmp.Diff(read, f); diff != "" {
							t.Errorf("decide got facts other than Read's (-Read +got):\n%s", diff)
						}
						seen = append(seen, f.Space.ID)
						return allowed[f.Space.ID], nil
					})
				if err != nil {
					t.Fatal(err)
				}
				if len(list.Spaces) > limit {
					t.Fatalf("a page of %d spaces", len(list.Spaces))
				}
				got = append(got, spaceIDs(list.Spaces)...)
				if list.More {
					// The page decided up to the first allowed space past it.
					if last := seen[len(seen)-1]; !allowed[last] || slices.Contains(got, last) {
						t.Errorf("a page that has more stopped deciding at %s", last)
					}
					// The next page decides again what follows its last space.
					after = list.Spaces[len(list.Spaces)-1].ID
					decided = append(decided, seen[:slices.Index(seen, after)+1]...)
					continue
				}
				decided = append(decided, seen...)
				break
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("spaces (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(candidates, decided); diff != "" {
				t.Errorf("decided (-the candidates that pass the condition +decided):\n%s", diff)
			}
		})
	}

	t.Run("error", func(t *testing.T) {
		calls := 0
		_, err := s.ListSpaces(ctx, membership.SpaceQuery{Actor: actor, Limit: 100, Filter: membership.ReadFilter{Condition: cond}},
			func(*membership.Facts) (bool, error) {
				calls++
				if calls == 3 {
					return false, errDecide
				}
				return true, nil
			})
		if err != errDecide {
			t.Errorf("got %v, want decide's error unchanged", err)
		}
		if calls != 3 {
			t.Errorf("decide ran %d times, want it to stop at its error", calls)
		}
		// The connection is fine afterwards.
		if _, err := s.ListSpaces(ctx, membership.SpaceQuery{Actor: actor, Limit: 1, Filter: membership.ReadFilter{Condition: cond}},
			func(*membership.Facts) (bool, error) { return true, nil }); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("no actor", func(t *testing.T) {
		list, err := s.ListSpaces(ctx, membership.SpaceQuery{Actor: id("User:missing"), Limit: 100, Filter: membership.ReadFilter{Condition: membership.True}},
			func(*membership.Facts) (bool, error) {
				t.Error("decide ran for an actor that names no user")
				return true, nil
			})
		if err != nil || list.Actor != nil || len(list.Spaces) != 0 || list.More {
			t.Errorf("got %+v, %v; want nothing", list, err)
		}
	})
}

// TestListSpacesErrors holds a done context to an error that wraps it.
func TestListSpacesErrors(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	w := seedListWorld(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, decide := range []func(*membership.Facts) (bool, error){nil, func(*membership.Facts) (bool, error) { return true, nil }} {
		_, err := s.ListSpaces(ctx, membership.SpaceQuery{Actor: w.actors["admin"], Limit: 10, Filter: membership.ReadFilter{Condition: readPolicy()}}, decide)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("decide %v: got %v, want an error that wraps context.Canceled", decide != nil, err)
		}
	}
}

// TestListSpacesRoundTrips counts the round trips of a page on a warm
// connection: one for an exact filter, whatever the policy's sources.
func TestListSpacesRoundTrips(t *testing.T) {
	t.Parallel()
	cfg := newSchema(t)
	trips := &roundTrips{}
	cfg.MaxConns = 1
	cfg.ConnConfig.Tracer = trips
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: conn, trips: trips, reading: true}, nil
	}
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	s := migratedStore(t, newPool(t, cfg))
	w := seedListWorld(t, s)
	ctx := context.Background()
	allowAll := func(*membership.Facts) (bool, error) { return true, nil }
	for _, tc := range []struct {
		name   string
		q      membership.SpaceQuery
		decide func(*membership.Facts) (bool, error)
		trips  int // exactly, or at most for a list that decides
	}{
		{"exact, default policy, member", membership.SpaceQuery{Actor: w.actors["member"], Limit: 50, Filter: membership.ReadFilter{Condition: readPolicy(), Exact: true}}, nil, 1},
		{"exact, default policy, account admin", membership.SpaceQuery{Actor: w.actors["admin"], Limit: 50, Filter: membership.ReadFilter{Condition: readPolicy(), Exact: true}}, nil, 1},
		{"exact, organization and name", membership.SpaceQuery{Actor: w.actors["admin"], OrganizationID: id("Org:research"), Name: "LLM", Limit: 50, Filter: membership.ReadFilter{Condition: readPolicy(), Exact: true}}, nil, 1},
		{"exact, no actor", membership.SpaceQuery{Actor: w.actors["missing"], Limit: 50, Filter: membership.ReadFilter{Condition: readPolicy(), Exact: true}}, nil, 1},
		{"exact, false", membership.SpaceQuery{Actor: w.actors["admin"], Limit: 50, Filter: membership.ReadFilter{Condition: membership.False, Exact: true}}, nil, 1},
		// Deciding, one batch: begin and read, then commit.
		{"deciding, one batch", membership.SpaceQuery{Actor: w.actors["admin"], Limit: 50, Filter: membership.ReadFilter{Condition: readPolicy()}}, allowAll, 2},
	} {
		// The first run prepares the statement on the connection.
		for pass := range 2 {
			trips.reset()
			if _, err := s.ListSpaces(ctx, tc.q, tc.decide); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			requests, wire := trips.reset()
			if pass == 0 {
				continue
			}
			t.Logf("%s: %d round trips (%d pgx requests)", tc.name, wire, requests)
			if wire != tc.trips || requests != tc.trips {
				t.Errorf("%s: %d round trips on the wire, %d pgx requests; want %d", tc.name, wire, requests, tc.trips)
			}
		}
	}
}

// TestMigrateFoldsSpaceNames migrates a database of schema version 3: the
// names of its spaces are folded as membership.FoldName folds them, and
// the column then refuses a space without one.
func TestMigrateFoldsSpaceNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, newSchema(t))
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, createMigrations); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:3] {
		if _, err := pool.Exec(ctx, m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO pgstore_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	acct, org := string(id("Account:1")), string(id("Org:1"))
	if _, err := pool.Exec(ctx, `INSERT INTO accounts (id) VALUES ($1)`, acct); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO organizations (id, account_id, name) VALUES ($1, $2, 'Research')`, org, acct); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	// More than one batch of the fill.
	for i := range 2500 {
		name := fmt.Sprintf("ſpace %d \u212a Σ", i)
		space := string(id(fmt.Sprintf("Space:%d", i)))
		names[space] = name
		if _, err := pool.Exec(ctx, `INSERT INTO spaces (id, account_id, organization_id, name, is_private) VALUES ($1, $2, $3, $4, false)`, space, acct, org, name); err != nil {
			t.Fatal(err)
		}
	}
	migratedStore(t, pool)
	rows, err := pool.Query(ctx, `SELECT id, name_fold FROM spaces`)
	if err != nil {
		t.Fatal(err)
	}
	folded := 0
	for rows.Next() {
		var space, fold string
		if err := rows.Scan(&space, &fold); err != nil {
			t.Fatal(err)
		}
		if want := membership.FoldName(names[space]); fold != want {
			t.Errorf("space %s: name_fold %q, want %q", space, fold, want)
		}
		folded++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if folded != len(names) {
		t.Errorf("%d spaces after the migration, want %d", folded, len(names))
	}
	_, err = pool.Exec(ctx, `INSERT INTO spaces (id, account_id, organization_id, name, is_private) VALUES ($1, $2, $3, 'x', false)`, string(id("Space:new")), acct, org)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23502" {
		t.Errorf("a space without its folded name: got %v, want a not-null violation", err)
	}
}
