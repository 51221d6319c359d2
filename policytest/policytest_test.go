package policytest_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
	"github.com/spaceauthz/spaceauthz/policytest"
)

var (
	admin     = policytest.Predefined(membership.RoleAdmin)
	member    = policytest.Predefined(membership.RoleMember)
	annotator = policytest.Predefined(membership.RoleAnnotator)
	none      = policytest.NoRole()

	// binder may give custom roles, remover may remove members; reviewer
	// is a role they give.
	binder   = policytest.Custom("Binder", membership.PermissionRoleBindingCreate)
	remover  = policytest.Custom("Remover", membership.PermissionRoleBindingDelete)
	reviewer = policytest.Custom("Reviewer", "PROJECT_READ")
)

func deny(code membership.Code, rule string) policytest.Outcome { return policytest.Deny(code, rule) }

// TestDefaultPolicy holds the default policy to its rules, through the kit:
// each rule of decision.rego denies where it should, and the answer is the
// first violation in the check order of the operation.
func TestDefaultPolicy(t *testing.T) {
	t.Parallel()
	add, remove, list := policytest.Add(), policytest.Remove(), policytest.List()
	orgAdd, orgRemove := policytest.OrgAdd(), policytest.OrgRemove()
	policytest.Run(t, policytest.NewEngine(t), []policytest.Case{
		// add: who may.
		{Name: "add/space ADMIN gives MEMBER", Facts: add.Facts(), Want: policytest.Allow()},
		{Name: "add/account ADMIN gives MEMBER", Facts: add.ActorAccountRole(membership.AccountAdmin).ActorSpaceRole(none).Facts(), Want: policytest.Allow()},
		{Name: "add/organization ADMIN gives MEMBER in a private space", Facts: add.PrivateSpace().ActorOrganizationRole(admin).ActorSpaceRole(none).Facts(), Want: policytest.Allow()},
		{Name: "add/binder gives a custom role", Facts: add.ActorSpaceRole(binder).Requesting(reviewer).Facts(), Want: policytest.Allow()},
		{Name: "add/organization binder gives a custom role", Facts: add.ActorOrganizationRole(binder).ActorSpaceRole(none).Requesting(reviewer).Facts(), Want: policytest.Allow()},
		{Name: "add/ANNOTATOR given ANNOTATOR", Facts: add.TargetAccountRole(membership.AccountAnnotator).Requesting(annotator).Facts(), Want: policytest.Allow()},
		{Name: "add/space ADMIN changes a space ADMIN", Facts: add.TargetMembership(admin).Requesting(reviewer).Facts(), Want: policytest.Allow()},

		// add: actor_exists and space_visible.
		{Name: "add/no actor", Facts: add.WithoutActor().Facts(), Want: deny(membership.CodeUnauthenticated, "actor_exists")},
		{Name: "add/no space", Facts: add.WithoutSpace().Facts(), Want: deny(membership.CodeSpaceNotFound, "space_visible")},
		{Name: "add/private space, organization MEMBER", Facts: add.PrivateSpace().ActorSpaceRole(none).Facts(), Want: deny(membership.CodeSpaceNotFound, "space_visible")},
		{Name: "add/public space, outside the organization", Facts: add.ActorOrganizationRole(none).ActorSpaceRole(none).Facts(), Want: deny(membership.CodeSpaceNotFound, "space_visible")},
		{Name: "add/space of another account", Facts: add.SpaceInAnotherAccount().Facts(), Want: deny(membership.CodeSpaceNotFound, "space_visible")},
		{Name: "add/account ADMIN, space of another account", Facts: add.ActorAccountRole(membership.AccountAdmin).SpaceInAnotherAccount().Facts(), Want: deny(membership.CodeSpaceNotFound, "space_visible")},

		// add: space_admin, role_binding_create, admin_membership.
		{Name: "add/space MEMBER gives MEMBER", Facts: add.ActorSpaceRole(member).Facts(), Want: deny(membership.CodeForbidden, "space_admin")},
		{Name: "add/binder gives a predefined role", Facts: add.ActorSpaceRole(binder).Facts(), Want: deny(membership.CodeForbidden, "space_admin")},
		{Name: "add/space MEMBER gives a custom role", Facts: add.ActorSpaceRole(member).Requesting(reviewer).Facts(), Want: deny(membership.CodeForbidden, "role_binding_create")},
		{Name: "add/binder of another account gives a custom role", Facts: add.ActorSpaceRole(binder.InAnotherAccount()).Requesting(reviewer).Facts(), Want: deny(membership.CodeForbidden, "role_binding_create")},
		{Name: "add/binder changes a space ADMIN", Facts: add.ActorSpaceRole(binder).TargetMembership(admin).Requesting(reviewer).Facts(), Want: deny(membership.CodeForbidden, "admin_membership")},
		// Two forbidden rules fire; of one code, the rule first by name answers.
		{Name: "add/space MEMBER changes a space ADMIN", Facts: add.ActorSpaceRole(member).TargetMembership(admin).Facts(), Want: deny(membership.CodeForbidden, "admin_membership")},
		// Authority comes first: a caller without it learns nothing about the target.
		{Name: "add/space MEMBER gives MEMBER to nobody", Facts: add.ActorSpaceRole(member).WithoutTarget().Facts(), Want: deny(membership.CodeForbidden, "space_admin")},

		// add: user_exists, role_exists, user_in_organization.
		{Name: "add/no target", Facts: add.WithoutTarget().Facts(), Want: deny(membership.CodeUserNotFound, "user_exists")},
		{Name: "add/target of another account", Facts: add.TargetInAnotherAccount().Facts(), Want: deny(membership.CodeUserNotFound, "user_exists")},
		{Name: "add/custom role not found", Facts: add.Requesting(policytest.Custom("Ghost").NotFound()).Facts(), Want: deny(membership.CodeRoleNotFound, "role_exists")},
		{Name: "add/custom role of another account", Facts: add.Requesting(reviewer.InAnotherAccount()).Facts(), Want: deny(membership.CodeRoleNotFound, "role_exists")},
		{Name: "add/no role requested", Facts: add.Requesting(none).Facts(), Want: deny(membership.CodeRoleNotFound, "role_exists")},
		{Name: "add/no target and no role", Facts: add.WithoutTarget().Requesting(policytest.Custom("Ghost").NotFound()).Facts(), Want: deny(membership.CodeUserNotFound, "user_exists")},
		{Name: "add/target outside the organization", Facts: add.TargetOrganizationRole(none).Facts(), Want: deny(membership.CodeUserNotInOrganization, "user_in_organization")},

		// add: the annotator pairing.
		{Name: "add/ANNOTATOR given MEMBER", Facts: add.TargetAccountRole(membership.AccountAnnotator).Facts(), Want: deny(membership.CodeAnnotatorRoleRequired, "annotator_role_required")},
		{Name: "add/ANNOTATOR given a custom role", Facts: add.TargetAccountRole(membership.AccountAnnotator).Requesting(reviewer).Facts(), Want: deny(membership.CodeAnnotatorRoleRequired, "annotator_role_required")},
		{Name: "add/MEMBER given ANNOTATOR", Facts: add.Requesting(annotator).Facts(), Want: deny(membership.CodeAnnotatorRoleNotAllowed, "annotator_role_not_allowed")},
		{Name: "add/account ADMIN given ANNOTATOR", Facts: add.TargetAccountRole(membership.AccountAdmin).Requesting(annotator).Facts(), Want: deny(membership.CodeAnnotatorRoleNotAllowed, "annotator_role_not_allowed")},
		{Name: "add/ANNOTATOR outside the organization", Facts: add.TargetAccountRole(membership.AccountAnnotator).TargetOrganizationRole(none).Facts(), Want: deny(membership.CodeUserNotInOrganization, "user_in_organization")},

		// remove.
		{Name: "remove/space ADMIN removes a MEMBER", Facts: remove.Facts(), Want: policytest.Allow()},
		{Name: "remove/remover removes a MEMBER", Facts: remove.ActorSpaceRole(remover).Facts(), Want: policytest.Allow()},
		{Name: "remove/target who left the organization", Facts: remove.TargetOrganizationRole(none).Facts(), Want: policytest.Allow()},
		{Name: "remove/no actor", Facts: remove.WithoutActor().Facts(), Want: deny(membership.CodeUnauthenticated, "actor_exists")},
		{Name: "remove/private space, organization MEMBER", Facts: remove.PrivateSpace().ActorSpaceRole(none).Facts(), Want: deny(membership.CodeSpaceNotFound, "space_visible")},
		{Name: "remove/space MEMBER removes", Facts: remove.ActorSpaceRole(member).Facts(), Want: deny(membership.CodeForbidden, "role_binding_delete")},
		{Name: "remove/binder removes", Facts: remove.ActorSpaceRole(binder).Facts(), Want: deny(membership.CodeForbidden, "role_binding_delete")},
		{Name: "remove/remover removes a space ADMIN", Facts: remove.ActorSpaceRole(remover).TargetMembership(admin).Facts(), Want: deny(membership.CodeForbidden, "admin_membership")},
		{Name: "remove/no target", Facts: remove.WithoutTarget().Facts(), Want: deny(membership.CodeUserNotFound, "user_exists")},
		{Name: "remove/no membership", Facts: remove.TargetMembership(none).Facts(), Want: deny(membership.CodeMembershipNotFound, "membership_exists")},
		{Name: "remove/space MEMBER, no membership", Facts: remove.ActorSpaceRole(member).TargetMembership(none).Facts(), Want: deny(membership.CodeForbidden, "role_binding_delete")},

		// list.
		{Name: "list/space ADMIN", Facts: list.Facts(), Want: policytest.Allow()},
		{Name: "list/organization MEMBER, public space", Facts: list.ActorSpaceRole(none).Facts(), Want: policytest.Allow()},
		{Name: "list/space READ_ONLY, private space", Facts: list.PrivateSpace().ActorSpaceRole(policytest.Predefined(membership.RoleReadOnly)).Facts(), Want: policytest.Allow()},
		{Name: "list/no actor", Facts: list.WithoutActor().Facts(), Want: deny(membership.CodeUnauthenticated, "actor_exists")},
		{Name: "list/organization MEMBER, private space", Facts: list.PrivateSpace().ActorSpaceRole(none).Facts(), Want: deny(membership.CodeSpaceNotFound, "space_visible")},
		{Name: "list/space of another account", Facts: list.SpaceInAnotherAccount().Facts(), Want: deny(membership.CodeSpaceNotFound, "space_visible")},
		{Name: "list/no space", Facts: list.WithoutSpace().Facts(), Want: deny(membership.CodeSpaceNotFound, "space_visible")},

		// org_add: who may.
		{Name: "org_add/organization ADMIN gives MEMBER", Facts: orgAdd.Facts(), Want: policytest.Allow()},
		{Name: "org_add/account ADMIN outside the organization gives MEMBER", Facts: orgAdd.ActorAccountRole(membership.AccountAdmin).ActorOrganizationRole(none).Facts(), Want: policytest.Allow()},
		{Name: "org_add/organization ADMIN gives a custom role", Facts: orgAdd.Requesting(reviewer).Facts(), Want: policytest.Allow()},
		{Name: "org_add/organization ADMIN changes a member's role", Facts: orgAdd.TargetOrganizationRole(member).Requesting(admin).Facts(), Want: policytest.Allow()},
		{Name: "org_add/the same role again", Facts: orgAdd.TargetOrganizationRole(member).Facts(), Want: policytest.Allow()},
		{Name: "org_add/ANNOTATOR given ANNOTATOR", Facts: orgAdd.TargetAccountRole(membership.AccountAnnotator).Requesting(annotator).Facts(), Want: policytest.Allow()},

		// org_add: actor_exists and organization_visible.
		{Name: "org_add/no actor", Facts: orgAdd.WithoutActor().Facts(), Want: deny(membership.CodeUnauthenticated, "actor_exists")},
		{Name: "org_add/no organization", Facts: orgAdd.WithoutOrganization().Facts(), Want: deny(membership.CodeOrganizationNotFound, "organization_visible")},
		{Name: "org_add/outside the organization", Facts: orgAdd.ActorOrganizationRole(none).Facts(), Want: deny(membership.CodeOrganizationNotFound, "organization_visible")},
		{Name: "org_add/organization of another account", Facts: orgAdd.OrganizationInAnotherAccount().Facts(), Want: deny(membership.CodeOrganizationNotFound, "organization_visible")},
		{Name: "org_add/account ADMIN, organization of another account", Facts: orgAdd.ActorAccountRole(membership.AccountAdmin).OrganizationInAnotherAccount().Facts(), Want: deny(membership.CodeOrganizationNotFound, "organization_visible")},
		// A caller who cannot see the organization learns nothing more.
		{Name: "org_add/outside the organization, no target", Facts: orgAdd.ActorOrganizationRole(none).WithoutTarget().Facts(), Want: deny(membership.CodeOrganizationNotFound, "organization_visible")},

		// org_add: organization_admin.
		{Name: "org_add/organization MEMBER gives MEMBER", Facts: orgAdd.ActorOrganizationRole(member).Facts(), Want: deny(membership.CodeForbidden, "organization_admin")},
		{Name: "org_add/organization binder gives a custom role", Facts: orgAdd.ActorOrganizationRole(binder).Requesting(reviewer).Facts(), Want: deny(membership.CodeForbidden, "organization_admin")},
		{Name: "org_add/organization MEMBER gives MEMBER to nobody", Facts: orgAdd.ActorOrganizationRole(member).WithoutTarget().Facts(), Want: deny(membership.CodeForbidden, "organization_admin")},

		// org_add: user_exists, role_exists.
		{Name: "org_add/no target", Facts: orgAdd.WithoutTarget().Facts(), Want: deny(membership.CodeUserNotFound, "user_exists")},
		{Name: "org_add/target of another account", Facts: orgAdd.TargetInAnotherAccount().Facts(), Want: deny(membership.CodeUserNotFound, "user_exists")},
		{Name: "org_add/custom role not found", Facts: orgAdd.Requesting(policytest.Custom("Ghost").NotFound()).Facts(), Want: deny(membership.CodeRoleNotFound, "role_exists")},
		{Name: "org_add/custom role of another account", Facts: orgAdd.Requesting(reviewer.InAnotherAccount()).Facts(), Want: deny(membership.CodeRoleNotFound, "role_exists")},
		{Name: "org_add/no target and no role", Facts: orgAdd.WithoutTarget().Requesting(policytest.Custom("Ghost").NotFound()).Facts(), Want: deny(membership.CodeUserNotFound, "user_exists")},

		// org_add: the annotator pairing.
		{Name: "org_add/ANNOTATOR given MEMBER", Facts: orgAdd.TargetAccountRole(membership.AccountAnnotator).Facts(), Want: deny(membership.CodeAnnotatorRoleRequired, "annotator_role_required")},
		{Name: "org_add/MEMBER given ANNOTATOR", Facts: orgAdd.Requesting(annotator).Facts(), Want: deny(membership.CodeAnnotatorRoleNotAllowed, "annotator_role_not_allowed")},
		{Name: "org_add/ANNOTATOR given a custom role not found", Facts: orgAdd.TargetAccountRole(membership.AccountAnnotator).Requesting(policytest.Custom("Ghost").NotFound()).Facts(), Want: deny(membership.CodeRoleNotFound, "role_exists")},

		// org_remove.
		{Name: "org_remove/organization ADMIN removes a MEMBER", Facts: orgRemove.Facts(), Want: policytest.Allow()},
		{Name: "org_remove/account ADMIN removes an organization ADMIN", Facts: orgRemove.ActorAccountRole(membership.AccountAdmin).ActorOrganizationRole(none).TargetOrganizationRole(admin).Facts(), Want: policytest.Allow()},
		{Name: "org_remove/no actor", Facts: orgRemove.WithoutActor().Facts(), Want: deny(membership.CodeUnauthenticated, "actor_exists")},
		{Name: "org_remove/no organization", Facts: orgRemove.WithoutOrganization().Facts(), Want: deny(membership.CodeOrganizationNotFound, "organization_visible")},
		{Name: "org_remove/outside the organization", Facts: orgRemove.ActorOrganizationRole(none).TargetOrganizationRole(none).Facts(), Want: deny(membership.CodeOrganizationNotFound, "organization_visible")},
		{Name: "org_remove/organization MEMBER removes", Facts: orgRemove.ActorOrganizationRole(member).Facts(), Want: deny(membership.CodeForbidden, "organization_admin")},
		{Name: "org_remove/organization remover removes", Facts: orgRemove.ActorOrganizationRole(remover).Facts(), Want: deny(membership.CodeForbidden, "organization_admin")},
		{Name: "org_remove/organization MEMBER, no membership", Facts: orgRemove.ActorOrganizationRole(member).TargetOrganizationRole(none).Facts(), Want: deny(membership.CodeForbidden, "organization_admin")},
		{Name: "org_remove/no target", Facts: orgRemove.WithoutTarget().Facts(), Want: deny(membership.CodeUserNotFound, "user_exists")},
		{Name: "org_remove/target of another account", Facts: orgRemove.TargetInAnotherAccount().Facts(), Want: deny(membership.CodeUserNotFound, "user_exists")},
		{Name: "org_remove/no membership", Facts: orgRemove.TargetOrganizationRole(none).Facts(), Want: deny(membership.CodeMembershipNotFound, "membership_exists")},
	})
}

// archivedModule is a host's own rule: no new member in an archived space.
const archivedModule = `package spaceauthz

violations contains {"code": "space_archived", "rule": "no_archived_space", "status": 409, "detail": "the space is archived"} if {
	input.operation == "add"
	input.space.id in data.archived.spaces
}
`

// archivedCases hold the host's rule to account, with the default policy's
// rules around it.
func archivedCases() []policytest.Case {
	archived := policytest.Deny("space_archived", "no_archived_space").WithStatus(409)
	return []policytest.Case{
		{Name: "add to an archived space", Facts: policytest.Add().Facts(), Want: archived},
		{Name: "add to another space", Facts: policytest.Add().InSpace(policytest.ID("Space", 2)).Facts(), Want: policytest.Allow()},
		{Name: "remove from an archived space", Facts: policytest.Remove().Facts(), Want: policytest.Allow()},
		{Name: "list an archived space", Facts: policytest.List().Facts(), Want: policytest.Allow()},
		// The library's codes answer before a host's.
		{Name: "space MEMBER adds to an archived space", Facts: policytest.Add().ActorSpaceRole(member).Facts(), Want: deny(membership.CodeForbidden, "space_admin")},
		{Name: "ANNOTATOR given MEMBER in an archived space", Facts: policytest.Add().TargetAccountRole(membership.AccountAnnotator).Facts(), Want: deny(membership.CodeAnnotatorRoleRequired, "annotator_role_required")},
	}
}

func TestHostModule(t *testing.T) {
	t.Parallel()
	engine := policytest.NewEngine(t,
		policy.WithData(map[string]any{"archived": map[string]any{"spaces": []any{string(policytest.SpaceID)}}}),
		policy.WithModule("archived.rego", archivedModule))
	policytest.Run(t, engine, archivedCases())
}

// TestHostBundle runs the same cases against the same rule as a bundle,
// the way a host loads it in production; policy.New runs its Rego tests.
func TestHostBundle(t *testing.T) {
	t.Parallel()
	b, err := policy.ReadBundle("testdata/archived")
	if err != nil {
		t.Fatal(err)
	}
	policytest.Run(t, policytest.NewEngine(t, policy.WithBundle(b)), archivedCases())
}

func TestRunRegoTestsOfABundle(t *testing.T) {
	t.Parallel()
	policytest.RunRegoTests(t, "testdata/archived")
}

func TestRunRegoTestsOfFiles(t *testing.T) {
	t.Parallel()
	policytest.RunRegoTests(t,
		"testdata/archived/archived.rego",
		"testdata/archived/archived_test.rego",
		"testdata/archived/data.json")
}

func TestRunRegoTestsOfATarball(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "archived.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"archived.rego", "archived_test.rego", "data.json"} {
		src, err := os.ReadFile(filepath.Join("testdata/archived", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: "/" + name, Mode: 0o644, Size: int64(len(src))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(src); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []io.Closer{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	policytest.RunRegoTests(t, path)
}

// TestWrongExpectation: a case that expects the wrong answer fails, and
// says how: both outcomes, their diff, and every rule that fired.
func TestWrongExpectation(t *testing.T) {
	t.Parallel()
	// A space MEMBER gives a custom role to someone outside the
	// organization: role_binding_create answers, user_in_organization
	// fires too.
	c := policytest.Case{
		Name:  "outsider",
		Facts: policytest.Add().ActorSpaceRole(member).TargetOrganizationRole(none).Requesting(reviewer).Facts(),
		Want:  deny(membership.CodeUserNotInOrganization, "user_in_organization"),
	}
	results := policytest.Check(context.Background(), policytest.NewEngine(t), []policytest.Case{c})
	if len(results) != 1 {
		t.Fatalf("Check returned %d results, want 1", len(results))
	}
	r := results[0]
	if r.Passed() || r.Err != nil {
		t.Fatalf("Passed() = %v, Err = %v; want a plain failure", r.Passed(), r.Err)
	}
	if want := deny(membership.CodeForbidden, "role_binding_create"); r.Got != want {
		t.Errorf("Got = %v, want %v", r.Got, want)
	}
	wantFired := []membership.Violation{
		{Code: membership.CodeForbidden, Rule: "role_binding_create"},
		{Code: membership.CodeUserNotInOrganization, Rule: "user_in_organization"},
	}
	if diff := cmp.Diff(wantFired, r.Fired); diff != "" {
		t.Errorf("Fired (-want +got):\n%s", diff)
	}
	msg := r.String()
	for _, want := range []string{
		"outsider: want deny 400 user_not_in_organization by user_in_organization, got deny 403 forbidden by role_binding_create\n",
		"diff (-want +got):\n",
		`- 	Code:   "user_not_in_organization",`,
		`+ 	Code:   "forbidden",`,
		`- 	Rule:   "user_in_organization",`,
		`+ 	Rule:   "role_binding_create",`,
		"- 	Status: 400,",
		"+ 	Status: 403,",
		"rules that fired, in check order:\n  role_binding_create: forbidden\n  user_in_organization: user_not_in_organization",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the report lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "\u00a0") {
		t.Errorf("the report holds non-breaking spaces:\n%q", msg)
	}
}

func TestCheckReportsPassingCases(t *testing.T) {
	t.Parallel()
	results := policytest.Check(context.Background(), policytest.NewEngine(t), []policytest.Case{
		{Name: "allowed", Facts: policytest.Add().Facts(), Want: policytest.Allow()},
		{Name: "denied", Facts: policytest.Add().WithoutTarget().Facts(), Want: deny(membership.CodeUserNotFound, "user_exists")},
	})
	var got []string
	for _, r := range results {
		if !r.Passed() {
			t.Errorf("%v", r)
		}
		got = append(got, r.String())
	}
	want := []string{"allowed: ok, allow", "denied: ok, deny 404 user_not_found by user_exists"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

func TestInvalidCases(t *testing.T) {
	t.Parallel()
	results := policytest.Check(context.Background(), policytest.NewEngine(t), []policytest.Case{
		{Name: "no expectation", Facts: policytest.Add().Facts()},
		{Name: "no facts", Want: policytest.Allow()},
		{Facts: policytest.Add().Facts(), Want: policytest.Allow()},
	})
	for i, r := range results {
		if r.Passed() || !errors.Is(r.Err, policytest.ErrInvalidCase) {
			t.Errorf("case %d: Passed() = %v, Err = %v; want ErrInvalidCase", i, r.Passed(), r.Err)
		}
	}
}

// TestDecideFailure: when the policy fails, the case gets the service's
// answer, 500 internal, and the error.
func TestDecideFailure(t *testing.T) {
	t.Parallel()
	engine := policytest.NewEngine(t, policy.WithoutDefaultPolicy(),
		policy.WithModule("broken.rego", "package spaceauthz\n\ndecision := {\"allow\": \"yes\", \"violations\": []}\n"))
	r := policytest.Check(context.Background(), engine, []policytest.Case{
		{Name: "broken", Facts: policytest.Add().Facts(), Want: policytest.Allow()},
	})[0]
	if r.Passed() || r.Err == nil || r.Got != (policytest.Outcome{Code: membership.CodeInternal, Status: 500}) {
		t.Errorf("result %+v, want a failed case, 500 internal, with the error", r)
	}
	if msg := r.String(); !strings.Contains(msg, "decide: ") || !strings.Contains(msg, "no rule fired") {
		t.Errorf("the report lacks the error or the rules:\n%s", msg)
	}
}

func TestDeny(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got, want policytest.Outcome
	}{
		{policytest.Deny(membership.CodeForbidden, "space_admin"), policytest.Outcome{Code: "forbidden", Rule: "space_admin", Status: 403}},
		{policytest.Deny(membership.CodeSpaceNotFound, "space_visible"), policytest.Outcome{Code: "space_not_found", Rule: "space_visible", Status: 404}},
		{policytest.Deny(membership.CodeUserNotInOrganization, "user_in_organization"), policytest.Outcome{Code: "user_not_in_organization", Rule: "user_in_organization", Status: 400}},
		{policytest.Deny("space_archived", "no_archived_space"), policytest.Outcome{Code: "space_archived", Rule: "no_archived_space", Status: 403}},
		{policytest.Deny("space_archived", "no_archived_space").WithStatus(409), policytest.Outcome{Code: "space_archived", Rule: "no_archived_space", Status: 409}},
	} {
		if tc.got != tc.want {
			t.Errorf("got %+v, want %+v", tc.got, tc.want)
		}
	}
}

// TestIDs: every id is a valid ID, standard base64 of the text its
// comment gives.
func TestIDs(t *testing.T) {
	t.Parallel()
	for text, id := range map[string]membership.ID{
		"Account:1":    policytest.AccountID,
		"Account:2":    policytest.OtherAccountID,
		"User:1":       policytest.ActorID,
		"User:2":       policytest.TargetID,
		"Org:1":        policytest.OrganizationID,
		"Org:2":        policytest.OtherOrganizationID,
		"Space:1":      policytest.SpaceID,
		"Space:2":      policytest.ID("Space", 2),
		"Membership:1": policytest.MembershipID,
		"Role:Binder":  policytest.CustomRoleID("Binder"),
	} {
		if !id.Valid() || string(id) != base64.StdEncoding.EncodeToString([]byte(text)) {
			t.Errorf("id %q of %q: valid %v, want the base64 of the text", id, text, id.Valid())
		}
	}
}

// TestSituationFacts: the facts of each operation are what a store would
// read, with a Query that names the same request.
func TestSituationFacts(t *testing.T) {
	t.Parallel()
	org := &membership.Organization{ID: policytest.OrganizationID, AccountID: policytest.AccountID, Name: "Research"}
	space := &membership.Space{ID: policytest.SpaceID, OrganizationID: org.ID, Name: "llm-evals"}
	actor := &membership.User{ID: policytest.ActorID, AccountID: policytest.AccountID, Name: "Ada", Email: "ada@example.com", Role: membership.AccountMember}
	target := &membership.User{ID: policytest.TargetID, AccountID: policytest.AccountID, Name: "Grace", Email: "grace@example.com", Role: membership.AccountMember}
	memberGrant := membership.Grant{Role: membership.Predefined(membership.RoleMember)}
	adminGrant := membership.Grant{Role: membership.Predefined(membership.RoleAdmin)}
	reviewerRecord := &membership.CustomRole{ID: policytest.CustomRoleID("Reviewer"), AccountID: policytest.AccountID, Name: "Reviewer", Permissions: []membership.Permission{"PROJECT_READ"}}

	for _, tc := range []struct {
		name string
		got  *membership.Facts
		want *membership.Facts
	}{
		{"add", policytest.Add().Facts(), &membership.Facts{
			Query:                  membership.Query{Operation: membership.OperationAdd, Actor: policytest.ActorID, SpaceID: policytest.SpaceID, UserID: policytest.TargetID, Role: membership.Predefined(membership.RoleMember)},
			Actor:                  actor,
			Space:                  space,
			Organization:           org,
			ActorOrganizationRole:  memberGrant,
			ActorSpaceRole:         adminGrant,
			Target:                 target,
			TargetOrganizationRole: memberGrant,
		}},
		{"add of a custom role", policytest.Add().Requesting(reviewer).Facts(), &membership.Facts{
			Query:                  membership.Query{Operation: membership.OperationAdd, Actor: policytest.ActorID, SpaceID: policytest.SpaceID, UserID: policytest.TargetID, Role: membership.Custom(reviewerRecord.ID)},
			Actor:                  actor,
			Space:                  space,
			Organization:           org,
			ActorOrganizationRole:  memberGrant,
			ActorSpaceRole:         adminGrant,
			Target:                 target,
			TargetOrganizationRole: memberGrant,
			CustomRole:             reviewerRecord,
		}},
		{"remove", policytest.Remove().ActorSpaceRole(reviewer).Facts(), &membership.Facts{
			Query:                  membership.Query{Operation: membership.OperationRemove, Actor: policytest.ActorID, SpaceID: policytest.SpaceID, UserID: policytest.TargetID},
			Actor:                  actor,
			Space:                  space,
			Organization:           org,
			ActorOrganizationRole:  memberGrant,
			ActorSpaceRole:         membership.Grant{Role: membership.Custom(reviewerRecord.ID), CustomRole: reviewerRecord},
			Target:                 target,
			TargetOrganizationRole: memberGrant,
			Existing:               &membership.Membership{ID: policytest.MembershipID, UserID: policytest.TargetID, SpaceID: policytest.SpaceID, Role: membership.Predefined(membership.RoleMember)},
		}},
		{"list", policytest.List().Requesting(reviewer).Facts(), &membership.Facts{
			Query:                 membership.Query{Operation: membership.OperationList, Actor: policytest.ActorID, SpaceID: policytest.SpaceID, Page: &membership.PageQuery{Limit: membership.DefaultPageSize}},
			Actor:                 actor,
			Space:                 space,
			Organization:          org,
			ActorOrganizationRole: memberGrant,
			ActorSpaceRole:        adminGrant,
		}},
		{"org_add", policytest.OrgAdd().Facts(), &membership.Facts{
			Query:                 membership.Query{Operation: membership.OperationOrgAdd, Actor: policytest.ActorID, OrganizationID: policytest.OrganizationID, UserID: policytest.TargetID, Role: membership.Predefined(membership.RoleMember)},
			Actor:                 actor,
			Organization:          org,
			ActorOrganizationRole: adminGrant,
			Target:                target,
		}},
		{"org_remove", policytest.OrgRemove().ActorSpaceRole(admin).TargetMembership(admin).Requesting(reviewer).Facts(), &membership.Facts{
			Query:                  membership.Query{Operation: membership.OperationOrgRemove, Actor: policytest.ActorID, OrganizationID: policytest.OrganizationID, UserID: policytest.TargetID},
			Actor:                  actor,
			Organization:           org,
			ActorOrganizationRole:  adminGrant,
			Target:                 target,
			TargetOrganizationRole: memberGrant,
			TargetOrganizationMember: &membership.OrganizationMember{ID: policytest.OrganizationMembershipID, OrganizationID: policytest.OrganizationID,
				UserID: policytest.TargetID, Role: membership.Predefined(membership.RoleMember)},
		}},
		{"org_add in another account's organization", policytest.OrgAdd().OrganizationInAnotherAccount().Facts(), &membership.Facts{
			Query:                 membership.Query{Operation: membership.OperationOrgAdd, Actor: policytest.ActorID, OrganizationID: policytest.OtherOrganizationID, UserID: policytest.TargetID, Role: membership.Predefined(membership.RoleMember)},
			Actor:                 actor,
			Organization:          &membership.Organization{ID: policytest.OtherOrganizationID, AccountID: policytest.OtherAccountID, Name: "Elsewhere"},
			ActorOrganizationRole: adminGrant,
			Target:                target,
		}},
		{"add without a space", policytest.Add().WithoutSpace().TargetMembership(admin).Facts(), &membership.Facts{
			Query:  membership.Query{Operation: membership.OperationAdd, Actor: policytest.ActorID, SpaceID: policytest.SpaceID, UserID: policytest.TargetID, Role: membership.Predefined(membership.RoleMember)},
			Actor:  actor,
			Target: target,
		}},
	} {
		if diff := cmp.Diff(tc.want, tc.got); diff != "" {
			t.Errorf("%s: facts (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestSituationIsAValue: a method never changes the situation it is called
// on, and facts never share records.
func TestSituationIsAValue(t *testing.T) {
	t.Parallel()
	base := policytest.Add().ActorSpaceRole(binder)
	_ = base.ActorSpaceRole(member).PrivateSpace().WithoutTarget()
	a, b := base.Facts(), base.Facts()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("two facts of one situation differ:\n%s", diff)
	}
	if a.Space.IsPrivate || a.Target == nil || !a.ActorSpaceRole.Role.SameRole(membership.Custom(policytest.CustomRoleID("Binder"))) {
		t.Errorf("the base situation changed: %+v", a)
	}
	a.ActorSpaceRole.CustomRole.Permissions[0] = "CHANGED"
	if b.ActorSpaceRole.CustomRole.Permissions[0] != membership.PermissionRoleBindingCreate {
		t.Error("two facts share a custom role's permissions")
	}
}
