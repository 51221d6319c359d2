// Package native is the default policy of package rego written by hand in
// Go: the raw baseline that the benchmarks measure the Rego engine against,
// and an oracle for differential tests of the engine.
//
// Decide reads membership.Facts exactly as the Rego rules read the input
// document that package policy builds from them: a record of another
// account counts as absent, the predefined-role table is the one of
// rego/data.json, and a role the policy does not know is refused. It names
// the same violations (code and rule) as data.spaceauthz.decision, for
// every operation the policy decides:
//
//   - every operation: the actor exists (actor_exists); an operation other
//     than add, remove, list, org_add and org_remove, the zero Operation
//     among them, is refused (known_operation);
//   - every operation but org_add and org_remove: the actor can read the
//     space (space_visible);
//   - add and remove: only a space admin changes the membership of a space
//     ADMIN (admin_membership), and the target is a user of the actor's
//     account (user_exists);
//   - add: the authority to give the requested role (space_admin for a
//     predefined role, role_binding_create for a custom one), the role
//     exists (role_exists), the target is in the space's organization
//     (user_in_organization), and the annotator pairing
//     (annotator_role_required, annotator_role_not_allowed);
//   - remove: a space admin or ROLE_BINDING_DELETE on the space
//     (role_binding_delete), and the target is a member of the space
//     (membership_exists);
//   - list: nothing more than reading the space;
//   - org_add and org_remove: the actor can see the organization
//     (organization_visible) and, if so, administers it
//     (organization_admin), and the target is a user of the actor's account
//     (user_exists);
//   - org_add: the role exists (role_exists) and the annotator pairing
//     (annotator_role_required, annotator_role_not_allowed);
//   - org_remove: the target is a member of the organization
//     (membership_exists).
//
// This package is for measurement and tests only; the library decides with
// Rego. A change to the default policy must be mirrored here, and the
// differential tests fail until it is.
package native

import (
	"math/bits"
	"slices"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The rules of decision.rego, one bit each, in the order of violations:
// sorted by code, then by rule.
const (
	annotatorRoleNotAllowed = 1 << iota
	annotatorRoleRequired
	accountAdmin
	adminMembership
	knownOperation
	organizationAdmin
	roleBindingCreate
	roleBindingDelete
	spaceAdmin
	membershipExists
	organizationVisible
	roleExists
	spaceVisible
	actorExists
	userExists
	userInOrganization
)

// violations lists the violation of each bit above, in bit order.
var violations = [...]membership.Violation{
	{Code: membership.CodeAnnotatorRoleNotAllowed, Rule: "annotator_role_not_allowed"},
	{Code: membership.CodeAnnotatorRoleRequired, Rule: "annotator_role_required"},
	{Code: membership.CodeForbidden, Rule: "account_admin"},
	{Code: membership.CodeForbidden, Rule: "admin_membership"},
	{Code: membership.CodeForbidden, Rule: "known_operation"},
	{Code: membership.CodeForbidden, Rule: "organization_admin"},
	{Code: membership.CodeForbidden, Rule: "role_binding_create"},
	{Code: membership.CodeForbidden, Rule: "role_binding_delete"},
	{Code: membership.CodeForbidden, Rule: "space_admin"},
	{Code: membership.CodeMembershipNotFound, Rule: "membership_exists"},
	{Code: membership.CodeOrganizationNotFound, Rule: "organization_visible"},
	{Code: membership.CodeRoleNotFound, Rule: "role_exists"},
	{Code: membership.CodeSpaceNotFound, Rule: "space_visible"},
	{Code: membership.CodeUnauthenticated, Rule: "actor_exists"},
	{Code: membership.CodeUserNotFound, Rule: "user_exists"},
	{Code: membership.CodeUserNotInOrganization, Rule: "user_in_organization"},
}

// Decide returns the decision of the default policy for f: an allow with no
// violations (and no allocation), or a deny with every violated rule, sorted
// by code and then by rule. It is safe for concurrent use and does not
// modify f.
func Decide(f *membership.Facts) membership.Decision {
	broken := violated(f)
	if broken == 0 {
		return membership.Decision{Allow: true}
	}
	out := make([]membership.Violation, 0, bits.OnesCount(uint(broken)))
	for i, v := range violations {
		if broken&(1<<i) != 0 {
			out = append(out, v)
		}
	}
	return membership.Decision{Violations: out}
}

// requestedRole is the role the request asks for: the one place that knows
// where the facts keep the request, for add's rules. A remove and a list ask
// for no role (the zero RoleAssignment), and their rules never read it.
func requestedRole(f *membership.Facts) membership.RoleAssignment { return f.Query.Role }

// violated returns the set of broken rules as bits. Every rule is judged on
// its own, as in Rego: the Go side picks the winner by the check order.
func violated(f *membership.Facts) int {
	var broken int
	if f.Actor == nil {
		broken |= actorExists
	}
	// An organization operation has no space to read, nor has a read of
	// the account's audit log; every other operation, an unknown one
	// included, needs one.
	onOrganization := f.Query.Operation == membership.OperationOrgAdd || f.Query.Operation == membership.OperationOrgRemove
	onAccount := f.Query.Operation == membership.OperationAudit
	readable := canReadSpace(f)
	if !readable && !onOrganization && !onAccount {
		broken |= spaceVisible
	}
	// The rules of an add and a remove apply only to a caller who may read
	// the space: anyone else learns nothing more, not even by the time a
	// decision takes.
	switch f.Query.Operation {
	case membership.OperationAdd:
		if readable {
			broken |= membershipChange(f) | addition(f)
		}
	case membership.OperationRemove:
		if readable {
			broken |= membershipChange(f) | removal(f)
		}
	case membership.OperationList, membership.OperationRead:
		// Reading the space is all a list, or a read, needs.
	case membership.OperationAudit:
		// The audit log is the account's: its admins read it.
		if !isAccountAdmin(f) {
			broken |= accountAdmin
		}
	case membership.OperationOrgAdd, membership.OperationOrgRemove:
		// Likewise, the rules of an organization operation apply only to a
		// caller who may see the organization.
		if !canSeeOrganization(f) {
			broken |= organizationVisible
			break
		}
		broken |= organizationChange(f)
		if f.Query.Operation == membership.OperationOrgAdd {
			broken |= organizationAddition(f)
		} else if f.Target == nil || !f.TargetOrganizationRole.Held() {
			broken |= membershipExists
		}
	default:
		// Fail closed: no rule applies to an operation the policy does not
		// know.
		broken |= knownOperation
	}
	return broken
}

// membershipChange returns the broken rules of an add and a remove alike,
// both of which change the target's membership of the space.
func membershipChange(f *membership.Facts) int {
	var broken int
	// Only a space admin changes a space admin's membership, so that no
	// ROLE_BINDING_* holder can strip the space of its admin.
	if f.Existing != nil && f.Existing.Role.Is(membership.RoleAdmin) && !isSpaceAdmin(f) {
		broken |= adminMembership
	}
	if !targetInAccount(f) {
		broken |= userExists
	}
	return broken
}

// addition returns the broken rules of an add only.
func addition(f *membership.Facts) int {
	var broken int
	role := requestedRole(f)
	requestedCustom := role.Kind == membership.RoleKindCustom
	if !requestedCustom && !isSpaceAdmin(f) {
		broken |= spaceAdmin
	}
	if requestedCustom && !hasPermission(f, membership.PermissionRoleBindingCreate) {
		broken |= roleBindingCreate
	}
	if requestedCustom && !customRoleInAccount(f, role) || !requestedCustom && !predefinedRoleExists(role) {
		broken |= roleExists
	}
	if targetInAccount(f) && !targetInOrganization(f) {
		broken |= userInOrganization
	}
	return broken | annotatorPairing(f, role)
}

// removal returns the broken rules of a remove only.
func removal(f *membership.Facts) int {
	var broken int
	if !isSpaceAdmin(f) && !hasPermission(f, membership.PermissionRoleBindingDelete) {
		broken |= roleBindingDelete
	}
	if f.Existing == nil {
		broken |= membershipExists
	}
	return broken
}

// organizationChange returns the broken rules of an org_add and an
// org_remove alike.
func organizationChange(f *membership.Facts) int {
	var broken int
	if !isOrganizationAdmin(f) {
		broken |= organizationAdmin
	}
	if !targetInAccount(f) {
		broken |= userExists
	}
	return broken
}

// organizationAddition returns the broken rules of an org_add only: those
// of an add about the role, without the organization membership an add
// needs (an org_add is what creates it).
func organizationAddition(f *membership.Facts) int {
	var broken int
	role := requestedRole(f)
	requestedCustom := role.Kind == membership.RoleKindCustom
	if requestedCustom && !customRoleInAccount(f, role) || !requestedCustom && !predefinedRoleExists(role) {
		broken |= roleExists
	}
	return broken | annotatorPairing(f, role)
}

// annotatorPairing returns the broken rules of the annotator pairing, the
// same for a space and an organization.
func annotatorPairing(f *membership.Facts, role membership.RoleAssignment) int {
	var broken int
	requestedAnnotator := role.Is(membership.RoleAnnotator)
	if f.Target != nil && f.Target.Role == membership.AccountAnnotator && !requestedAnnotator {
		broken |= annotatorRoleRequired
	}
	if f.Target != nil && f.Target.Role != membership.AccountAnnotator && requestedAnnotator {
		broken |= annotatorRoleNotAllowed
	}
	return broken
}

// organizationInAccount: the organization of an organization operation lies
// in the actor's account.
func organizationInAccount(f *membership.Facts) bool {
	return f.Organization != nil && inActorAccount(f, f.Organization.AccountID)
}

// canSeeOrganization: an account ADMIN, or any member of the organization.
func canSeeOrganization(f *membership.Facts) bool {
	return organizationInAccount(f) && (isAccountAdmin(f) || f.ActorOrganizationRole.Held())
}

// isOrganizationAdmin: an account ADMIN, or a predefined ADMIN member of the
// organization.
func isOrganizationAdmin(f *membership.Facts) bool {
	return organizationInAccount(f) && (isAccountAdmin(f) || f.ActorOrganizationRole.Role.Is(membership.RoleAdmin))
}

// inActorAccount: there is an actor, and accountID is their account.
func inActorAccount(f *membership.Facts, accountID membership.ID) bool {
	return f.Actor != nil && accountID == f.Actor.AccountID
}

func isAccountAdmin(f *membership.Facts) bool {
	return f.Actor != nil && f.Actor.Role == membership.AccountAdmin
}

// spaceInAccount: the space and its parent organization lie in the actor's
// account.
func spaceInAccount(f *membership.Facts) bool {
	return f.Space != nil && f.Organization != nil &&
		f.Space.OrganizationID == f.Organization.ID &&
		inActorAccount(f, f.Organization.AccountID)
}

func canReadSpace(f *membership.Facts) bool {
	if !spaceInAccount(f) {
		return false
	}
	return isAccountAdmin(f) ||
		!f.Space.IsPrivate && f.ActorOrganizationRole.Held() ||
		f.ActorOrganizationRole.Role.Is(membership.RoleAdmin) ||
		f.ActorSpaceRole.Held()
}

func isSpaceAdmin(f *membership.Facts) bool {
	return spaceInAccount(f) && (isAccountAdmin(f) ||
		f.ActorOrganizationRole.Role.Is(membership.RoleAdmin) ||
		f.ActorSpaceRole.Role.Is(membership.RoleAdmin))
}

// hasPermission: the actor holds p on the space through a role on the
// space or its organization, or as an account ADMIN.
func hasPermission(f *membership.Facts, p membership.Permission) bool {
	return spaceInAccount(f) && (isAccountAdmin(f) ||
		grantAllows(f, f.ActorOrganizationRole, p) ||
		grantAllows(f, f.ActorSpaceRole, p))
}

func grantAllows(f *membership.Facts, g membership.Grant, p membership.Permission) bool {
	switch g.Role.Kind {
	case membership.RoleKindPredefined:
		return predefinedAllows(g.Role.Name, p)
	case membership.RoleKindCustom:
		// A custom role counts only when it exists in the actor's account.
		r := g.CustomRole
		return r != nil && r.ID == g.Role.ID && inActorAccount(f, r.AccountID) && slices.Contains(r.Permissions, p)
	}
	return false
}

// predefinedAllows is the table of rego/data.json: ADMIN holds every
// permission, the other predefined roles none.
func predefinedAllows(name membership.PredefinedRole, _ membership.Permission) bool {
	return name == membership.RoleAdmin
}

// predefinedRoleExists: the requested role is predefined, with a name the
// table knows.
func predefinedRoleExists(r membership.RoleAssignment) bool {
	if r.Kind != membership.RoleKindPredefined {
		return false
	}
	switch r.Name {
	case membership.RoleAdmin, membership.RoleMember, membership.RoleReadOnly, membership.RoleAnnotator:
		return true
	}
	return false
}

// customRoleInAccount: the custom role record found for the requested role
// is that role, and lies in the actor's account.
func customRoleInAccount(f *membership.Facts, requested membership.RoleAssignment) bool {
	r := f.CustomRole
	return r != nil && r.ID == requested.ID && inActorAccount(f, r.AccountID)
}

// targetInAccount: the target exists, in the actor's account.
func targetInAccount(f *membership.Facts) bool {
	return f.Target != nil && inActorAccount(f, f.Target.AccountID)
}

func targetInOrganization(f *membership.Facts) bool {
	return spaceInAccount(f) && f.TargetOrganizationRole.Held()
}
