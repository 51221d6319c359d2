// Package native is the default policy of package rego written by hand in
// Go: the raw baseline that the benchmarks measure the Rego engine against,
// and an oracle for differential tests of the engine.
//
// Decide reads membership.Facts exactly as the Rego rules read the input
// document that package policy builds from them: a record of another
// account counts as absent, the predefined-role table is the one of
// rego/data.json, and a role the policy does not know is refused. It names
// the same violations (code and rule) as data.spaceauthz.decision.
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
	roleBindingCreate
	spaceAdmin
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
	{Code: membership.CodeForbidden, Rule: "role_binding_create"},
	{Code: membership.CodeForbidden, Rule: "space_admin"},
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

// violated returns the set of broken rules as bits.
func violated(f *membership.Facts) int {
	var broken int
	requestedCustom := f.Request.Role.Kind == membership.RoleKindCustom
	targetInAccount := f.Target != nil && inActorAccount(f, f.Target.AccountID)

	if f.Actor == nil {
		broken |= actorExists
	}
	if !canReadSpace(f) {
		broken |= spaceVisible
	}
	if !requestedCustom && !isSpaceAdmin(f) {
		broken |= spaceAdmin
	}
	if requestedCustom && !hasPermission(f, membership.PermissionRoleBindingCreate) {
		broken |= roleBindingCreate
	}
	if !targetInAccount {
		broken |= userExists
	}
	if requestedCustom && !customRoleInAccount(f) || !requestedCustom && !predefinedRoleExists(f.Request.Role) {
		broken |= roleExists
	}
	if targetInAccount && !targetInOrganization(f) {
		broken |= userInOrganization
	}
	requestedAnnotator := f.Request.Role.Is(membership.RoleAnnotator)
	if f.Target != nil && f.Target.Role == membership.AccountAnnotator && !requestedAnnotator {
		broken |= annotatorRoleRequired
	}
	if f.Target != nil && f.Target.Role != membership.AccountAnnotator && requestedAnnotator {
		broken |= annotatorRoleNotAllowed
	}
	return broken
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

func customRoleInAccount(f *membership.Facts) bool {
	r := f.CustomRole
	return r != nil && r.ID == f.Request.Role.ID && inActorAccount(f, r.AccountID)
}

func targetInOrganization(f *membership.Facts) bool {
	return spaceInAccount(f) && f.TargetOrganizationRole.Held()
}
