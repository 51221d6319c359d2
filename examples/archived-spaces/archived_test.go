// The archived-spaces bundle's tests, from go test: its Rego tests, and a
// table of situations through package policytest.
package archivedspaces_test

import (
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
	"github.com/spaceauthz/spaceauthz/policytest"
)

// TestRego runs the bundle's own Rego tests against the default policy plus
// the bundle.
func TestRego(t *testing.T) {
	policytest.RunRegoTests(t, ".")
}

// TestArchivedSpace decides a few requests with the bundle as the server
// loads it, with the data it ships: llm-evals of the demo fixture is
// archived.
func TestArchivedSpace(t *testing.T) {
	b, err := policy.ReadBundle(".")
	if err != nil {
		t.Fatal(err)
	}
	engine := policytest.NewEngine(t, policy.WithBundle(b))
	llmEvals := membership.ID("U3BhY2U6MQ==")
	archived := policytest.Add().InSpace(llmEvals)
	member := policytest.Predefined(membership.RoleMember)
	policytest.Run(t, engine, []policytest.Case{
		{Name: "a new member of an archived space", Facts: archived.Facts(),
			Want: policytest.Deny("space_archived", "space_archived").WithStatus(409)},
		{Name: "a member's role change in an archived space", Facts: archived.TargetMembership(member).Requesting(policytest.Predefined(membership.RoleReadOnly)).Facts(),
			Want: policytest.Allow()},
		{Name: "a remove from an archived space", Facts: policytest.Remove().InSpace(llmEvals).Facts(), Want: policytest.Allow()},
		{Name: "a list of an archived space", Facts: policytest.List().InSpace(llmEvals).Facts(), Want: policytest.Allow()},
		{Name: "a new member of another space", Facts: policytest.Add().InSpace(policytest.ID("Space", 2)).Facts(), Want: policytest.Allow()},
		{Name: "a caller who may not add learns nothing of archiving", Facts: archived.ActorSpaceRole(member).Facts(),
			Want: policytest.Deny(membership.CodeForbidden, "space_admin")},
	})
}
