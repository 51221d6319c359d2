package native

import (
	"cmp"
	"context"
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spaceauthz/spaceauthz/internal/native/nativetest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
	defaultpolicy "github.com/spaceauthz/spaceauthz/rego"
)

// The violations of decision.rego, by rule.
var (
	unauthenticated         = membership.Violation{Code: membership.CodeUnauthenticated, Rule: "actor_exists"}
	spaceNotFound           = membership.Violation{Code: membership.CodeSpaceNotFound, Rule: "space_visible"}
	notSpaceAdmin           = membership.Violation{Code: membership.CodeForbidden, Rule: "space_admin"}
	noRoleBindingCreate     = membership.Violation{Code: membership.CodeForbidden, Rule: "role_binding_create"}
	userNotFound            = membership.Violation{Code: membership.CodeUserNotFound, Rule: "user_exists"}
	roleNotFound            = membership.Violation{Code: membership.CodeRoleNotFound, Rule: "role_exists"}
	userNotInOrganization   = membership.Violation{Code: membership.CodeUserNotInOrganization, Rule: "user_in_organization"}
	annotatorRoleIsRequired = membership.Violation{Code: membership.CodeAnnotatorRoleRequired, Rule: "annotator_role_required"}
	annotatorRoleForbidden  = membership.Violation{Code: membership.CodeAnnotatorRoleNotAllowed, Rule: "annotator_role_not_allowed"}
)

// engine is the Rego engine on the default policy, built once.
var engine = sync.OnceValues(func() (*policy.Engine, error) { return policy.New() })

// checkAgainstEngine fails t unless native and the engine both decide f
// with exactly the violations want (none for an allow).
func checkAgainstEngine(t *testing.T, f *membership.Facts, want []membership.Violation) {
	t.Helper()
	e, err := engine()
	if err != nil {
		t.Fatalf("policy.New: %v", err)
	}
	wantDecision := membership.Decision{Allow: len(want) == 0, Violations: sorted(want)}
	got := Decide(f)
	if diff := gocmp.Diff(wantDecision, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("native.Decide (-want +got):\n%s", diff)
	}
	fromEngine, err := e.Decide(context.Background(), f)
	if err != nil {
		t.Fatalf("engine.Decide: %v", err)
	}
	fromEngine.Violations = sorted(fromEngine.Violations)
	if diff := gocmp.Diff(fromEngine, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("native.Decide differs from the engine (-engine +native):\n%s", diff)
	}
}

func sorted(vs []membership.Violation) []membership.Violation {
	vs = slices.Clone(vs)
	slices.SortFunc(vs, func(a, b membership.Violation) int {
		return cmp.Or(cmp.Compare(a.Code, b.Code), cmp.Compare(a.Rule, b.Rule))
	})
	return vs
}

// with returns the facts of base changed by edit.
func with(base func() *membership.Facts, edit func(*membership.Facts)) *membership.Facts {
	f := base()
	edit(f)
	return f
}

// asActor returns Base with the actor changed by edit (a copy).
func asActor(edit func(*membership.Facts, *membership.User)) *membership.Facts {
	f := nativetest.Base()
	actor := *f.Actor
	f.Actor = &actor
	edit(f, &actor)
	return f
}

// forTarget returns Allowed with the target changed by edit (a copy).
func forTarget(edit func(*membership.User)) *membership.Facts {
	f := nativetest.Allowed()
	target := *f.Target
	f.Target = &target
	edit(&target)
	return f
}

// requesting returns Allowed with the requested role (and the custom role
// record the store found for it).
func requesting(role membership.RoleAssignment, found *membership.CustomRole) *membership.Facts {
	return with(nativetest.Allowed, func(f *membership.Facts) { f.Request.Role, f.CustomRole = role, found })
}

func inForeignSpace(f *membership.Facts) *membership.Facts {
	f.Space, f.Organization = nativetest.ForeignSpace, nativetest.ForeignOrganization
	return f
}

func custom(r *membership.CustomRole) membership.RoleAssignment { return membership.Custom(r.ID) }

func predefined(name membership.PredefinedRole) membership.RoleAssignment {
	return membership.Predefined(name)
}

var (
	binder, reader, foreignBinder = nativetest.Binder, nativetest.Reader, nativetest.ForeignBinder
	held                          = nativetest.Held
	grant                         = nativetest.Predefined
)

// TestDecide has one case per way to pass and per way to break each rule of
// the default policy, checked against the expected violations and against
// the Rego engine.
func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		facts *membership.Facts
		want  []membership.Violation
	}{
		// Allowed.
		{"space ADMIN adds a MEMBER", nativetest.Allowed(), nil},
		{"space ADMIN adds an ADMIN", requesting(predefined(membership.RoleAdmin), nil), nil},
		{"space ADMIN adds a READ_ONLY", requesting(predefined(membership.RoleReadOnly), nil), nil},
		{"space ADMIN grants a custom role", requesting(custom(binder), binder), nil},
		{"account ADMIN adds to a private space", asActor(func(f *membership.Facts, a *membership.User) {
			a.Role, f.Space = membership.AccountAdmin, nativetest.PrivateSpace
		}), nil},
		{"organization ADMIN adds to a private space", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Space = grant(membership.RoleAdmin), nativetest.PrivateSpace
		}), nil},
		{"organization custom role with ROLE_BINDING_CREATE grants a custom role", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Request.Role, f.CustomRole = held(binder), custom(reader), reader
		}), nil},
		{"space custom role with ROLE_BINDING_CREATE grants a custom role in a private space", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole, f.Space, f.Request.Role, f.CustomRole = held(binder), nativetest.PrivateSpace, custom(reader), reader
		}), nil},
		{"account ADMIN grants a custom role", asActor(func(f *membership.Facts, a *membership.User) {
			a.Role, f.Request.Role, f.CustomRole = membership.AccountAdmin, custom(binder), binder
		}), nil},
		{"existing membership is updated", with(nativetest.Allowed, func(f *membership.Facts) {
			f.Existing = &membership.Membership{ID: nativetest.ID("Membership:1"), UserID: f.Target.ID, SpaceID: f.Space.ID, Role: predefined(membership.RoleReadOnly)}
		}), nil},
		{"annotator given the annotator role", with(func() *membership.Facts {
			return forTarget(func(u *membership.User) { u.Role = membership.AccountAnnotator })
		}, func(f *membership.Facts) { f.Request.Role = predefined(membership.RoleAnnotator) }), nil},

		// actor_exists, and what follows from no actor at all.
		{"actor null", with(nativetest.Allowed, func(f *membership.Facts) { f.Actor = nil }),
			[]membership.Violation{unauthenticated, spaceNotFound, notSpaceAdmin, userNotFound}},

		// space_visible.
		{"no role at all", nativetest.Base(), []membership.Violation{spaceNotFound, notSpaceAdmin}},
		{"account ANNOTATOR, no role", asActor(func(_ *membership.Facts, a *membership.User) { a.Role = membership.AccountAnnotator }),
			[]membership.Violation{spaceNotFound, notSpaceAdmin}},
		{"space null", with(nativetest.Allowed, func(f *membership.Facts) { f.Space = nil }),
			[]membership.Violation{spaceNotFound, notSpaceAdmin, userNotInOrganization}},
		{"organization null", with(nativetest.Allowed, func(f *membership.Facts) { f.Organization = nil }),
			[]membership.Violation{spaceNotFound, notSpaceAdmin, userNotInOrganization}},
		{"space of another account, account ADMIN", inForeignSpace(asActor(func(_ *membership.Facts, a *membership.User) { a.Role = membership.AccountAdmin })),
			[]membership.Violation{spaceNotFound, notSpaceAdmin, userNotInOrganization}},
		{"space of another organization, account ADMIN", asActor(func(f *membership.Facts, a *membership.User) {
			a.Role, f.Space = membership.AccountAdmin, nativetest.ForeignSpace
		}), []membership.Violation{spaceNotFound, notSpaceAdmin, userNotInOrganization}},
		{"organization of another account, account ADMIN", asActor(func(f *membership.Facts, a *membership.User) {
			a.Role = membership.AccountAdmin
			f.Organization = &membership.Organization{ID: nativetest.Organization.ID, AccountID: nativetest.OtherAccount}
		}), []membership.Violation{spaceNotFound, notSpaceAdmin, userNotInOrganization}},
		{"private space, organization MEMBER", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Space = grant(membership.RoleMember), nativetest.PrivateSpace
		}), []membership.Violation{spaceNotFound, notSpaceAdmin}},
		{"private space, organization custom role", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Space = held(reader), nativetest.PrivateSpace
		}), []membership.Violation{spaceNotFound, notSpaceAdmin}},
		{"public space, organization custom role reads", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(reader)
		}), []membership.Violation{notSpaceAdmin}},
		{"private space, space READ_ONLY reads", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole, f.Space = grant(membership.RoleReadOnly), nativetest.PrivateSpace
		}), []membership.Violation{notSpaceAdmin}},

		// space_admin.
		{"predefined role, organization MEMBER", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = grant(membership.RoleMember)
		}), []membership.Violation{notSpaceAdmin}},
		{"predefined role, space custom role with ROLE_BINDING_CREATE", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole = held(binder)
		}), []membership.Violation{notSpaceAdmin}},
		{"space ADMIN of another account's space", inForeignSpace(nativetest.Allowed()),
			[]membership.Violation{spaceNotFound, notSpaceAdmin, userNotInOrganization}},

		// role_binding_create.
		{"custom role, organization MEMBER", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Request.Role, f.CustomRole = grant(membership.RoleMember), custom(binder), binder
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, space READ_ONLY", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole, f.Request.Role, f.CustomRole = grant(membership.RoleReadOnly), custom(binder), binder
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, organization custom role without the permission", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Request.Role, f.CustomRole = held(reader), custom(binder), binder
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, organization custom role of another account", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Request.Role, f.CustomRole = held(foreignBinder), custom(binder), binder
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, space custom role whose record is missing", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole = membership.Grant{Role: custom(binder)}
			f.Request.Role, f.CustomRole = custom(binder), binder
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, space custom role whose record has another id", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole = membership.Grant{Role: custom(reader), CustomRole: binder}
			f.Request.Role, f.CustomRole = custom(binder), binder
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, no role at all", asActor(func(f *membership.Facts, _ *membership.User) {
			f.Request.Role, f.CustomRole = custom(binder), binder
		}), []membership.Violation{spaceNotFound, noRoleBindingCreate}},

		// user_exists.
		{"target null", with(nativetest.Allowed, func(f *membership.Facts) { f.Target = nil }),
			[]membership.Violation{userNotFound}},
		{"target of another account", forTarget(func(u *membership.User) { u.AccountID = nativetest.OtherAccount }),
			[]membership.Violation{userNotFound}},

		// role_exists.
		{"custom role not found", requesting(custom(binder), nil), []membership.Violation{roleNotFound}},
		{"custom role of another account", requesting(custom(foreignBinder), foreignBinder), []membership.Violation{roleNotFound}},
		{"custom role record with another id", requesting(custom(binder), reader), []membership.Violation{roleNotFound}},
		{"no role", requesting(membership.RoleAssignment{}, nil), []membership.Violation{roleNotFound}},
		{"unknown kind", requesting(membership.RoleAssignment{Kind: 3, Name: membership.RoleAdmin}, nil), []membership.Violation{roleNotFound}},
		{"unknown predefined name", requesting(predefined(9), nil), []membership.Violation{roleNotFound}},
		{"predefined without a name", requesting(predefined(0), nil), []membership.Violation{roleNotFound}},
		{"unknown role, organization MEMBER", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Request.Role = grant(membership.RoleMember), membership.RoleAssignment{}
		}), []membership.Violation{notSpaceAdmin, roleNotFound}},

		// user_in_organization.
		{"target not in the organization", with(nativetest.Allowed, func(f *membership.Facts) { f.TargetOrganizationRole = membership.Grant{} }),
			[]membership.Violation{userNotInOrganization}},
		{"target of another account, not in the organization", with(func() *membership.Facts {
			return forTarget(func(u *membership.User) { u.AccountID = nativetest.OtherAccount })
		}, func(f *membership.Facts) { f.TargetOrganizationRole = membership.Grant{} }), []membership.Violation{userNotFound}},

		// annotator_role_required and annotator_role_not_allowed.
		{"annotator given MEMBER", forTarget(func(u *membership.User) { u.Role = membership.AccountAnnotator }),
			[]membership.Violation{annotatorRoleIsRequired}},
		{"annotator given a custom role", with(func() *membership.Facts {
			return forTarget(func(u *membership.User) { u.Role = membership.AccountAnnotator })
		}, func(f *membership.Facts) { f.Request.Role, f.CustomRole = custom(binder), binder }), []membership.Violation{annotatorRoleIsRequired}},
		{"MEMBER given the annotator role", requesting(predefined(membership.RoleAnnotator), nil),
			[]membership.Violation{annotatorRoleForbidden}},
		{"ADMIN given the annotator role", with(func() *membership.Facts {
			return forTarget(func(u *membership.User) { u.Role = membership.AccountAdmin })
		}, func(f *membership.Facts) { f.Request.Role = predefined(membership.RoleAnnotator) }), []membership.Violation{annotatorRoleForbidden}},
		{"user without an account role given the annotator role", with(func() *membership.Facts {
			return forTarget(func(u *membership.User) { u.Role = 0 })
		}, func(f *membership.Facts) { f.Request.Role = predefined(membership.RoleAnnotator) }), []membership.Violation{annotatorRoleForbidden}},
		{"no target, annotator role", with(nativetest.Allowed, func(f *membership.Facts) {
			f.Target, f.Request.Role = nil, predefined(membership.RoleAnnotator)
		}), []membership.Violation{userNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkAgainstEngine(t, tt.facts, tt.want)
		})
	}
}

// TestDecideRandomFacts is the property: on any fact set, native.Decide and
// the engine name the same violations.
func TestDecideRandomFacts(t *testing.T) {
	t.Parallel()
	e, err := engine()
	if err != nil {
		t.Fatalf("policy.New: %v", err)
	}
	n := 1000
	if testing.Short() {
		n = 200
	}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[membership.Violation]int{}
	allows := 0
	for i := range n {
		f := nativetest.Random(r)
		got := Decide(f)
		want, err := e.Decide(context.Background(), f)
		if err != nil {
			t.Fatalf("engine.Decide: %v", err)
		}
		want.Violations = sorted(want.Violations)
		if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("fact set %d: native.Decide differs from the engine (-engine +native):\n%s\nfacts: %+v", i, diff, policy.InputDocument(f))
		}
		if got.Allow {
			allows++
		}
		for _, v := range got.Violations {
			seen[v]++
		}
	}
	// The generator must exercise every rule, or the property proves little.
	if allows == 0 {
		t.Error("no fact set was allowed")
	}
	for _, v := range violations {
		if seen[v] == 0 {
			t.Errorf("no fact set broke %s/%s", v.Code, v.Rule)
		}
	}
}

func TestDecideAllowAllocatesNothing(t *testing.T) {
	f := nativetest.Allowed()
	if allocs := testing.AllocsPerRun(100, func() { Decide(f) }); allocs != 0 {
		t.Errorf("Decide(allowed) allocates %v times, want 0", allocs)
	}
	if d := Decide(f); d.Violations != nil {
		t.Errorf("Decide(allowed).Violations = %#v, want nil", d.Violations)
	}
}

// TestViolationOrder guards the bit order that Decide relies on to return
// sorted violations.
func TestViolationOrder(t *testing.T) {
	t.Parallel()
	if got := sorted(violations[:]); !slices.Equal(got, violations[:]) {
		t.Errorf("violations are not sorted by code and rule:\n%v", violations)
	}
}

// TestPredefinedTable checks the permission table written into
// predefinedAllows and predefinedRoleExists against rego/data.json.
func TestPredefinedTable(t *testing.T) {
	t.Parallel()
	raw, err := fs.ReadFile(defaultpolicy.Files, "data.json")
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Spaceauthz struct {
			PredefinedRoles map[string]struct {
				AllPermissions bool                    `json:"all_permissions"`
				Permissions    []membership.Permission `json:"permissions"`
			} `json:"predefined_roles"`
		} `json:"spaceauthz"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	table := data.Spaceauthz.PredefinedRoles
	permissions := []membership.Permission{
		membership.PermissionRoleBindingCreate, membership.PermissionRoleBindingDelete,
		membership.PermissionRoleBindingRead, "PROJECT_READ",
	}
	for name := membership.PredefinedRole(0); name < 8; name++ {
		entry, known := table[name.String()]
		if got := predefinedRoleExists(predefined(name)); got != known {
			t.Errorf("predefinedRoleExists(%v) = %v, data.json says %v", name, got, known)
		}
		for _, p := range permissions {
			want := known && (entry.AllPermissions || slices.Contains(entry.Permissions, p))
			if got := predefinedAllows(name, p); got != want {
				t.Errorf("predefinedAllows(%v, %s) = %v, data.json says %v", name, p, got, want)
			}
		}
	}
	if len(table) != 4 {
		t.Errorf("data.json has %d predefined roles, native knows 4", len(table))
	}
}
