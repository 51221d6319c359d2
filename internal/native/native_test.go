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
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/spaceauthz/spaceauthz/internal/native/nativetest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
	defaultpolicy "github.com/spaceauthz/spaceauthz/rego"
)

// The violations of decision.rego, by rule.
var (
	unauthenticated         = membership.Violation{Code: membership.CodeUnauthenticated, Rule: "actor_exists"}
	spaceNotFound           = membership.Violation{Code: membership.CodeSpaceNotFound, Rule: "space_visible"}
	unknownOperation        = membership.Violation{Code: membership.CodeForbidden, Rule: "known_operation"}
	adminMember             = membership.Violation{Code: membership.CodeForbidden, Rule: "admin_membership"}
	notSpaceAdmin           = membership.Violation{Code: membership.CodeForbidden, Rule: "space_admin"}
	noRoleBindingCreate     = membership.Violation{Code: membership.CodeForbidden, Rule: "role_binding_create"}
	noRoleBindingDelete     = membership.Violation{Code: membership.CodeForbidden, Rule: "role_binding_delete"}
	userNotFound            = membership.Violation{Code: membership.CodeUserNotFound, Rule: "user_exists"}
	membershipNotFound      = membership.Violation{Code: membership.CodeMembershipNotFound, Rule: "membership_exists"}
	roleNotFound            = membership.Violation{Code: membership.CodeRoleNotFound, Rule: "role_exists"}
	userNotInOrganization   = membership.Violation{Code: membership.CodeUserNotInOrganization, Rule: "user_in_organization"}
	annotatorRoleIsRequired = membership.Violation{Code: membership.CodeAnnotatorRoleRequired, Rule: "annotator_role_required"}
	annotatorRoleForbidden  = membership.Violation{Code: membership.CodeAnnotatorRoleNotAllowed, Rule: "annotator_role_not_allowed"}
	organizationNotFound    = membership.Violation{Code: membership.CodeOrganizationNotFound, Rule: "organization_visible"}
	notOrganizationAdmin    = membership.Violation{Code: membership.CodeForbidden, Rule: "organization_admin"}
)

// engine is the Rego engine on the default policy, built once.
var engine = sync.OnceValues(func() (*policy.Engine, error) { return policy.New() })

// plain is the default policy prepared for a plain OPA evaluation, with
// nothing of the engine's machinery, built once.
var plain = sync.OnceValues(func() (rego.PreparedEvalQuery, error) {
	modules, data, err := defaultpolicy.Policy()
	if err != nil {
		return rego.PreparedEvalQuery{}, err
	}
	opts := []func(*rego.Rego){
		rego.Query(policy.DecisionQuery),
		rego.SetRegoVersion(ast.RegoV1),
		rego.StrictBuiltinErrors(true),
		rego.Data(data),
	}
	for _, m := range modules {
		opts = append(opts, rego.Module(m.Name, m.Source))
	}
	return rego.New(opts...).PrepareForEval(context.Background())
})

// decideWithOPA returns the decision of a plain OPA evaluation of the
// default policy on the input document of f.
func decideWithOPA(t testing.TB, f *membership.Facts) membership.Decision {
	t.Helper()
	q, err := plain()
	if err != nil {
		t.Fatalf("prepare the default policy: %v", err)
	}
	rs, err := q.Eval(context.Background(), rego.EvalInput(policy.InputDocument(f)))
	if err != nil {
		t.Fatalf("evaluate the default policy: %v", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		t.Fatalf("evaluate the default policy: %d results", len(rs))
	}
	raw, err := json.Marshal(rs[0].Expressions[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Allow      bool
		Violations []membership.Violation
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("decode the decision %s: %v", raw, err)
	}
	return membership.Decision{Allow: d.Allow, Violations: sorted(d.Violations)}
}

// checkAgainstRego fails t unless native decides f with exactly the
// violations want (none for an allow), and so do a plain OPA evaluation of
// the default policy and, once it reads the operation, the engine.
func checkAgainstRego(t *testing.T, f *membership.Facts, want []membership.Violation) {
	t.Helper()
	wantDecision := membership.Decision{Allow: len(want) == 0, Violations: sorted(want)}
	got := Decide(f)
	if diff := gocmp.Diff(wantDecision, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("native.Decide (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff(decideWithOPA(t, f), got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("native.Decide differs from the default policy (-rego +native):\n%s\ninput: %v", diff, policy.InputDocument(f))
	}
	e, err := engine()
	if err != nil {
		t.Fatalf("policy.New: %v", err)
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

// asActorOf returns the facts of base with the actor changed by edit (a
// copy).
func asActorOf(base func() *membership.Facts, edit func(*membership.Facts, *membership.User)) *membership.Facts {
	f := base()
	actor := *f.Actor
	f.Actor = &actor
	edit(f, &actor)
	return f
}

// asActor returns Base with the actor changed by edit (a copy).
func asActor(edit func(*membership.Facts, *membership.User)) *membership.Facts {
	return asActorOf(nativetest.Base, edit)
}

// forTargetOf returns the facts of base with the target changed by edit (a
// copy).
func forTargetOf(base func() *membership.Facts, edit func(*membership.User)) *membership.Facts {
	f := base()
	target := *f.Target
	f.Target = &target
	edit(&target)
	return f
}

// forTarget returns Allowed with the target changed by edit (a copy).
func forTarget(edit func(*membership.User)) *membership.Facts {
	return forTargetOf(nativetest.Allowed, edit)
}

// ask sets the role an add requests, and the custom role record the store
// found for it: the one place the tests write the request.
func ask(f *membership.Facts, role membership.RoleAssignment, found *membership.CustomRole) {
	f.Query.Role, f.CustomRole = role, found
}

// requesting returns Allowed with the requested role (and the custom role
// record the store found for it).
func requesting(role membership.RoleAssignment, found *membership.CustomRole) *membership.Facts {
	return with(nativetest.Allowed, func(f *membership.Facts) { ask(f, role, found) })
}

// memberAs returns the facts with the target's membership of the space
// holding role.
func memberAs(f *membership.Facts, role membership.RoleAssignment) *membership.Facts {
	f.Existing = nativetest.MembershipOf(role)
	return f
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
	remover, foreignRemover       = nativetest.Remover, nativetest.ForeignRemover
	held                          = nativetest.Held
	grant                         = nativetest.Predefined
)

// TestDecide has one case per way to pass and per way to break each rule of
// the default policy, for each operation, checked against the expected
// violations and against the Rego policy.
func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		facts *membership.Facts
		want  []membership.Violation
	}{
		// An add, allowed.
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
			f.ActorOrganizationRole = held(binder)
			ask(f, custom(reader), reader)
		}), nil},
		{"space custom role with ROLE_BINDING_CREATE grants a custom role in a private space", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole, f.Space = held(binder), nativetest.PrivateSpace
			ask(f, custom(reader), reader)
		}), nil},
		{"account ADMIN grants a custom role", asActor(func(f *membership.Facts, a *membership.User) {
			a.Role = membership.AccountAdmin
			ask(f, custom(binder), binder)
		}), nil},
		{"existing membership is updated", with(nativetest.Allowed, func(f *membership.Facts) {
			f.Existing = &membership.Membership{ID: nativetest.ID("Membership:1"), UserID: f.Target.ID, SpaceID: f.Space.ID, Role: predefined(membership.RoleReadOnly)}
		}), nil},
		{"annotator given the annotator role", with(func() *membership.Facts {
			return forTarget(func(u *membership.User) { u.Role = membership.AccountAnnotator })
		}, func(f *membership.Facts) { ask(f, predefined(membership.RoleAnnotator), nil) }), nil},

		// actor_exists, and what follows from no actor at all.
		{"actor null", with(nativetest.Allowed, func(f *membership.Facts) { f.Actor = nil }),
			[]membership.Violation{unauthenticated, spaceNotFound}},

		// space_visible.
		{"no role at all", nativetest.Base(), []membership.Violation{spaceNotFound}},
		{"account ANNOTATOR, no role", asActor(func(_ *membership.Facts, a *membership.User) { a.Role = membership.AccountAnnotator }),
			[]membership.Violation{spaceNotFound}},
		{"space null", with(nativetest.Allowed, func(f *membership.Facts) { f.Space = nil }),
			[]membership.Violation{spaceNotFound}},
		{"organization null", with(nativetest.Allowed, func(f *membership.Facts) { f.Organization = nil }),
			[]membership.Violation{spaceNotFound}},
		{"space of another account, account ADMIN", inForeignSpace(asActor(func(_ *membership.Facts, a *membership.User) { a.Role = membership.AccountAdmin })),
			[]membership.Violation{spaceNotFound}},
		{"space of another organization, account ADMIN", asActor(func(f *membership.Facts, a *membership.User) {
			a.Role, f.Space = membership.AccountAdmin, nativetest.ForeignSpace
		}), []membership.Violation{spaceNotFound}},
		{"organization of another account, account ADMIN", asActor(func(f *membership.Facts, a *membership.User) {
			a.Role = membership.AccountAdmin
			f.Organization = &membership.Organization{ID: nativetest.Organization.ID, AccountID: nativetest.OtherAccount}
		}), []membership.Violation{spaceNotFound}},
		{"private space, organization MEMBER", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Space = grant(membership.RoleMember), nativetest.PrivateSpace
		}), []membership.Violation{spaceNotFound}},
		{"private space, organization custom role", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Space = held(reader), nativetest.PrivateSpace
		}), []membership.Violation{spaceNotFound}},
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
			[]membership.Violation{spaceNotFound}},

		// role_binding_create.
		{"custom role, organization MEMBER", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = grant(membership.RoleMember)
			ask(f, custom(binder), binder)
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, space READ_ONLY", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole = grant(membership.RoleReadOnly)
			ask(f, custom(binder), binder)
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, organization custom role without the permission", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(reader)
			ask(f, custom(binder), binder)
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, organization custom role of another account", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(foreignBinder)
			ask(f, custom(binder), binder)
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, space custom role whose record is missing", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole = membership.Grant{Role: custom(binder)}
			ask(f, custom(binder), binder)
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, space custom role whose record has another id", asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole = membership.Grant{Role: custom(reader), CustomRole: binder}
			ask(f, custom(binder), binder)
		}), []membership.Violation{noRoleBindingCreate}},
		{"custom role, no role at all", asActor(func(f *membership.Facts, _ *membership.User) {
			ask(f, custom(binder), binder)
		}), []membership.Violation{spaceNotFound}},

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
			f.ActorOrganizationRole = grant(membership.RoleMember)
			ask(f, membership.RoleAssignment{}, nil)
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
		}, func(f *membership.Facts) { ask(f, custom(binder), binder) }), []membership.Violation{annotatorRoleIsRequired}},
		{"MEMBER given the annotator role", requesting(predefined(membership.RoleAnnotator), nil),
			[]membership.Violation{annotatorRoleForbidden}},
		{"ADMIN given the annotator role", with(func() *membership.Facts {
			return forTarget(func(u *membership.User) { u.Role = membership.AccountAdmin })
		}, func(f *membership.Facts) { ask(f, predefined(membership.RoleAnnotator), nil) }), []membership.Violation{annotatorRoleForbidden}},
		{"user without an account role given the annotator role", with(func() *membership.Facts {
			return forTarget(func(u *membership.User) { u.Role = 0 })
		}, func(f *membership.Facts) { ask(f, predefined(membership.RoleAnnotator), nil) }), []membership.Violation{annotatorRoleForbidden}},
		{"no target, annotator role", with(nativetest.Allowed, func(f *membership.Facts) {
			f.Target = nil
			ask(f, predefined(membership.RoleAnnotator), nil)
		}), []membership.Violation{userNotFound}},

		// known_operation: whatever the facts, an operation the policy does
		// not know is refused, with none of the rules of another operation.
		{"zero operation, facts of an allowed add", with(nativetest.Allowed, func(f *membership.Facts) { f.Query.Operation = 0 }),
			[]membership.Violation{unknownOperation}},
		{"unknown operation, facts of an allowed remove", with(nativetest.RemoveAllowed, func(f *membership.Facts) { f.Query.Operation = 200 }),
			[]membership.Violation{unknownOperation}},
		{"unknown operation, no membership, unknown role", with(nativetest.RemoveAllowed, func(f *membership.Facts) {
			f.Query.Operation, f.Existing = membership.OperationAudit+1, nil
			ask(f, predefined(9), nil)
		}), []membership.Violation{unknownOperation}},
		{"unknown operation, no role at all", with(nativetest.ListBase, func(f *membership.Facts) { f.Query.Operation = 0 }),
			[]membership.Violation{spaceNotFound, unknownOperation}},
		{"unknown operation, actor null", with(nativetest.Allowed, func(f *membership.Facts) { f.Query.Operation, f.Actor = 0, nil }),
			[]membership.Violation{unauthenticated, spaceNotFound, unknownOperation}},

		// admin_membership on an add: ROLE_BINDING_CREATE alone does not
		// replace a space ADMIN's role.
		{"organization ROLE_BINDING_CREATE gives a space ADMIN a custom role", memberAs(asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(binder)
			ask(f, custom(reader), reader)
		}), predefined(membership.RoleAdmin)), []membership.Violation{adminMember}},
		{"space ROLE_BINDING_CREATE gives a space ADMIN a custom role", memberAs(asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole = held(binder)
			ask(f, custom(reader), reader)
		}), predefined(membership.RoleAdmin)), []membership.Violation{adminMember}},
		{"ROLE_BINDING_CREATE gives a MEMBER a custom role", memberAs(asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(binder)
			ask(f, custom(reader), reader)
		}), predefined(membership.RoleMember)), nil},
		{"ROLE_BINDING_CREATE gives a custom role holder a custom role", memberAs(asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(binder)
			ask(f, custom(reader), reader)
		}), custom(binder)), nil},
		{"organization MEMBER gives a space ADMIN a predefined role", memberAs(asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = grant(membership.RoleMember)
		}), predefined(membership.RoleAdmin)), []membership.Violation{notSpaceAdmin, adminMember}},
		{"space ADMIN gives a space ADMIN a custom role", memberAs(requesting(custom(binder), binder), predefined(membership.RoleAdmin)), nil},
		{"organization ADMIN gives a space ADMIN a custom role", memberAs(asActor(func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = grant(membership.RoleAdmin)
			ask(f, custom(binder), binder)
		}), predefined(membership.RoleAdmin)), nil},
		{"account ADMIN gives a space ADMIN a custom role", memberAs(asActor(func(f *membership.Facts, a *membership.User) {
			a.Role = membership.AccountAdmin
			ask(f, custom(binder), binder)
		}), predefined(membership.RoleAdmin)), nil},

		// A remove, allowed.
		{"space ADMIN removes a MEMBER", nativetest.RemoveAllowed(), nil},
		{"account ADMIN removes from a private space", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, a *membership.User) {
			a.Role, f.Space = membership.AccountAdmin, nativetest.PrivateSpace
		}), nil},
		{"organization ADMIN removes from a private space", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Space = grant(membership.RoleAdmin), nativetest.PrivateSpace
		}), nil},
		{"organization custom role with ROLE_BINDING_DELETE removes a MEMBER", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(remover)
		}), nil},
		{"space custom role with ROLE_BINDING_DELETE removes from a private space", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole, f.Space = held(remover), nativetest.PrivateSpace
		}), nil},
		{"ROLE_BINDING_DELETE removes a custom role holder", memberAs(asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(remover)
		}), custom(binder)), nil},
		{"space ADMIN removes a space ADMIN", memberAs(nativetest.RemoveAllowed(), predefined(membership.RoleAdmin)), nil},
		{"organization ADMIN removes a space ADMIN", memberAs(asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = grant(membership.RoleAdmin)
		}), predefined(membership.RoleAdmin)), nil},
		{"account ADMIN removes a space ADMIN", memberAs(asActorOf(nativetest.RemoveBase, func(f *membership.Facts, a *membership.User) {
			a.Role = membership.AccountAdmin
		}), predefined(membership.RoleAdmin)), nil},
		{"remove of a target no longer in the organization", with(nativetest.RemoveAllowed, func(f *membership.Facts) {
			f.TargetOrganizationRole = membership.Grant{}
		}), nil},
		{"remove of an account ANNOTATOR", forTargetOf(nativetest.RemoveAllowed, func(u *membership.User) { u.Role = membership.AccountAnnotator }), nil},
		{"remove with a role in the facts the policy does not know", with(nativetest.RemoveAllowed, func(f *membership.Facts) {
			ask(f, predefined(9), nil)
		}), nil},

		// A remove, denied. role_binding_delete:
		{"remove, no role at all", nativetest.RemoveBase(), []membership.Violation{spaceNotFound}},
		{"remove, ROLE_BINDING_CREATE only", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(binder)
		}), []membership.Violation{noRoleBindingDelete}},
		{"remove, organization MEMBER", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = grant(membership.RoleMember)
		}), []membership.Violation{noRoleBindingDelete}},
		{"remove, space READ_ONLY", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole = grant(membership.RoleReadOnly)
		}), []membership.Violation{noRoleBindingDelete}},
		{"remove, organization custom role with ROLE_BINDING_READ", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(reader)
		}), []membership.Violation{noRoleBindingDelete}},
		{"remove, organization custom role of another account", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(foreignRemover)
		}), []membership.Violation{noRoleBindingDelete}},
		{"remove, space custom role whose record is missing", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole = membership.Grant{Role: custom(remover)}
		}), []membership.Violation{noRoleBindingDelete}},
		{"remove from another account's space, account ADMIN", inForeignSpace(asActorOf(nativetest.RemoveBase, func(_ *membership.Facts, a *membership.User) {
			a.Role = membership.AccountAdmin
		})), []membership.Violation{spaceNotFound}},
		{"remove from a private space, organization ROLE_BINDING_DELETE", asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Space = held(remover), nativetest.PrivateSpace
		}), []membership.Violation{spaceNotFound}},
		{"remove, actor null", with(nativetest.RemoveAllowed, func(f *membership.Facts) { f.Actor = nil }),
			[]membership.Violation{unauthenticated, spaceNotFound}},
		// admin_membership:
		{"ROLE_BINDING_DELETE removes a space ADMIN", memberAs(asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(remover)
		}), predefined(membership.RoleAdmin)), []membership.Violation{adminMember}},
		{"space ROLE_BINDING_DELETE removes a space ADMIN", memberAs(asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole = held(remover)
		}), predefined(membership.RoleAdmin)), []membership.Violation{adminMember}},
		{"ROLE_BINDING_CREATE removes a space ADMIN", memberAs(asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(binder)
		}), predefined(membership.RoleAdmin)), []membership.Violation{noRoleBindingDelete, adminMember}},
		// user_exists and membership_exists:
		{"remove, target null and not a member", with(nativetest.RemoveAllowed, func(f *membership.Facts) { f.Target, f.Existing = nil, nil }),
			[]membership.Violation{userNotFound, membershipNotFound}},
		{"remove, target null", with(nativetest.RemoveAllowed, func(f *membership.Facts) { f.Target = nil }),
			[]membership.Violation{userNotFound}},
		{"remove, target of another account", forTargetOf(nativetest.RemoveAllowed, func(u *membership.User) { u.AccountID = nativetest.OtherAccount }),
			[]membership.Violation{userNotFound}},
		{"remove, not a member", with(nativetest.RemoveAllowed, func(f *membership.Facts) { f.Existing = nil }),
			[]membership.Violation{membershipNotFound}},
		{"ROLE_BINDING_DELETE removes a non-member", with(func() *membership.Facts {
			return asActorOf(nativetest.RemoveBase, func(f *membership.Facts, _ *membership.User) { f.ActorOrganizationRole = held(remover) })
		}, func(f *membership.Facts) { f.Existing = nil }), []membership.Violation{membershipNotFound}},

		// A list, allowed: reading the space is all it takes.
		{"organization MEMBER lists a public space", nativetest.ListAllowed(), nil},
		{"organization custom role lists a public space", asActorOf(nativetest.ListBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(reader)
		}), nil},
		{"account ADMIN lists a private space", asActorOf(nativetest.ListBase, func(f *membership.Facts, a *membership.User) {
			a.Role, f.Space = membership.AccountAdmin, nativetest.PrivateSpace
		}), nil},
		{"organization ADMIN lists a private space", asActorOf(nativetest.ListBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole, f.Space = grant(membership.RoleAdmin), nativetest.PrivateSpace
		}), nil},
		{"space ANNOTATOR lists a private space", asActorOf(nativetest.ListBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorSpaceRole, f.Space = grant(membership.RoleAnnotator), nativetest.PrivateSpace
		}), nil},

		// A list, denied.
		{"list, no role at all", nativetest.ListBase(), []membership.Violation{spaceNotFound}},
		{"list a private space, organization MEMBER", with(nativetest.ListAllowed, func(f *membership.Facts) { f.Space = nativetest.PrivateSpace }),
			[]membership.Violation{spaceNotFound}},
		{"list another account's space, account ADMIN", inForeignSpace(asActorOf(nativetest.ListBase, func(_ *membership.Facts, a *membership.User) {
			a.Role = membership.AccountAdmin
		})), []membership.Violation{spaceNotFound}},
		{"list, actor null", with(nativetest.ListAllowed, func(f *membership.Facts) { f.Actor = nil }),
			[]membership.Violation{unauthenticated, spaceNotFound}},

		// An org_add.
		{"organization ADMIN adds to the organization", nativetest.OrgAddAllowed(), nil},
		{"account ADMIN adds to the organization", asActorOf(nativetest.OrgAddBase, func(_ *membership.Facts, a *membership.User) {
			a.Role = membership.AccountAdmin
		}), nil},
		{"org_add, no role at all", nativetest.OrgAddBase(), []membership.Violation{organizationNotFound}},
		{"org_add, organization of another account", with(nativetest.OrgAddAllowed, func(f *membership.Facts) { f.Organization = nativetest.ForeignOrganization }),
			[]membership.Violation{organizationNotFound}},
		{"org_add, organization MEMBER", asActorOf(nativetest.OrgAddBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = grant(membership.RoleMember)
		}), []membership.Violation{notOrganizationAdmin}},
		{"org_add, custom role with ROLE_BINDING_CREATE", asActorOf(nativetest.OrgAddBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = held(binder)
			ask(f, custom(reader), reader)
		}), []membership.Violation{notOrganizationAdmin}},
		{"org_add, target null", with(nativetest.OrgAddAllowed, func(f *membership.Facts) { f.Target = nil }),
			[]membership.Violation{userNotFound}},
		{"org_add, custom role not found", with(nativetest.OrgAddAllowed, func(f *membership.Facts) { ask(f, custom(binder), nil) }),
			[]membership.Violation{roleNotFound}},
		{"org_add, account ANNOTATOR given MEMBER", forTargetOf(nativetest.OrgAddAllowed, func(u *membership.User) { u.Role = membership.AccountAnnotator }),
			[]membership.Violation{annotatorRoleIsRequired}},
		{"org_add, account MEMBER given ANNOTATOR", with(nativetest.OrgAddAllowed, func(f *membership.Facts) { ask(f, predefined(membership.RoleAnnotator), nil) }),
			[]membership.Violation{annotatorRoleForbidden}},
		{"org_add, target not yet in the organization", with(nativetest.OrgAddAllowed, func(f *membership.Facts) { f.TargetOrganizationRole = membership.Grant{} }), nil},

		// An org_remove.
		{"organization ADMIN removes from the organization", nativetest.OrgRemoveAllowed(), nil},
		{"org_remove, no role at all", nativetest.OrgRemoveBase(), []membership.Violation{organizationNotFound}},
		{"org_remove, organization MEMBER", asActorOf(nativetest.OrgRemoveBase, func(f *membership.Facts, _ *membership.User) {
			f.ActorOrganizationRole = grant(membership.RoleMember)
		}), []membership.Violation{notOrganizationAdmin}},
		{"org_remove, target of another account", forTargetOf(nativetest.OrgRemoveAllowed, func(u *membership.User) { u.AccountID = nativetest.OtherAccount }),
			[]membership.Violation{userNotFound}},
		{"org_remove, not a member", with(nativetest.OrgRemoveAllowed, func(f *membership.Facts) { f.TargetOrganizationRole = membership.Grant{} }),
			[]membership.Violation{membershipNotFound}},
		{"org_remove, actor null", with(nativetest.OrgRemoveAllowed, func(f *membership.Facts) { f.Actor = nil }),
			[]membership.Violation{unauthenticated, organizationNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkAgainstRego(t, tt.facts, tt.want)
		})
	}
}

// TestDecideRandomFacts is the property: on any fact set, of any
// operation, native.Decide and the default policy name the same
// violations, evaluated by plain OPA and by the engine.
func TestDecideRandomFacts(t *testing.T) {
	t.Parallel()
	e, err := engine()
	if err != nil {
		t.Fatalf("policy.New: %v", err)
	}
	n := 2000
	if testing.Short() {
		n = 400
	}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[membership.Violation]int{}
	allows := map[membership.Operation]int{}
	for i := range n {
		f := nativetest.RandomOperation(r)
		got := Decide(f)
		if diff := gocmp.Diff(decideWithOPA(t, f), got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("fact set %d: native.Decide differs from the default policy (-rego +native):\n%s\ninput: %v", i, diff, policy.InputDocument(f))
		}
		want, err := e.Decide(context.Background(), f)
		if err != nil {
			t.Fatalf("engine.Decide: %v", err)
		}
		want.Violations = sorted(want.Violations)
		if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("fact set %d: native.Decide differs from the engine (-engine +native):\n%s\nfacts: %+v", i, diff, policy.InputDocument(f))
		}
		if got.Allow {
			allows[f.Query.Operation]++
		}
		for _, v := range got.Violations {
			seen[v]++
		}
	}
	// The generator must exercise every rule and allow every operation, or
	// the property proves little.
	for _, op := range []membership.Operation{membership.OperationAdd, membership.OperationRemove, membership.OperationList, membership.OperationOrgAdd, membership.OperationOrgRemove, membership.OperationRead} {
		if allows[op] == 0 {
			t.Errorf("no fact set of operation %q was allowed", op)
		}
	}
	for _, v := range violations {
		if seen[v] == 0 {
			t.Errorf("no fact set broke %s/%s", v.Code, v.Rule)
		}
	}
}

// TestRandomIsAnAdd: Random draws adds only, as the benchmarks that replay
// it expect.
func TestRandomIsAnAdd(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		if f := nativetest.Random(r); f.Query.Operation != membership.OperationAdd {
			t.Fatalf("Random drew operation %v, want add", f.Query.Operation)
		}
	}
}

func TestDecideAllowAllocatesNothing(t *testing.T) {
	for _, f := range []*membership.Facts{nativetest.Allowed(), nativetest.RemoveAllowed(), nativetest.ListAllowed(), nativetest.OrgAddAllowed(), nativetest.OrgRemoveAllowed()} {
		if allocs := testing.AllocsPerRun(100, func() { Decide(f) }); allocs != 0 {
			t.Errorf("Decide(allowed %v) allocates %v times, want 0", f.Query.Operation, allocs)
		}
		if d := Decide(f); !d.Allow || d.Violations != nil {
			t.Errorf("Decide(allowed %v) = %#v, want an allow with nil violations", f.Query.Operation, d)
		}
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
