package policytest_test

import (
	"context"
	"fmt"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
	"github.com/spaceauthz/spaceauthz/policytest"
)

// A host refuses new members in archived spaces with a rule of its own, and
// checks it, with the default policy around it, against a small table. The
// last case expects the wrong answer: the add is refused, but with the
// default policy's 403, which ranks before every host code.
func ExampleCheck() {
	engine, err := policy.New(
		policy.WithData(map[string]any{"archived": map[string]any{"spaces": []any{string(policytest.SpaceID)}}}),
		policy.WithModule("archived.rego", `package spaceauthz

violations contains {"code": "space_archived", "rule": "no_archived_space", "status": 409} if {
	input.operation == "add"
	input.space.id in data.archived.spaces
}
`))
	if err != nil {
		panic(err)
	}

	archived := policytest.Deny("space_archived", "no_archived_space").WithStatus(409)
	member := policytest.Predefined(membership.RoleMember)
	cases := []policytest.Case{
		{Name: "add to an archived space", Facts: policytest.Add().Facts(), Want: archived},
		{Name: "add to another space", Facts: policytest.Add().InSpace(policytest.ID("Space", 2)).Facts(), Want: policytest.Allow()},
		{Name: "remove from an archived space", Facts: policytest.Remove().Facts(), Want: policytest.Allow()},
		{Name: "space MEMBER adds to an archived space", Facts: policytest.Add().ActorSpaceRole(member).Facts(), Want: archived},
	}
	for _, r := range policytest.Check(context.Background(), engine, cases) {
		fmt.Println(r)
	}
	// Output:
	// add to an archived space: ok, deny 409 space_archived by no_archived_space
	// add to another space: ok, allow
	// remove from an archived space: ok, allow
	// space MEMBER adds to an archived space: want deny 409 space_archived by no_archived_space, got deny 403 forbidden by space_admin
	// diff (-want +got):
	//   policytest.Outcome{
	//   	Allow:  false,
	// - 	Code:   "space_archived",
	// + 	Code:   "forbidden",
	// - 	Rule:   "no_archived_space",
	// + 	Rule:   "space_admin",
	// - 	Status: 409,
	// + 	Status: 403,
	//   }
	// rules that fired, in check order:
	//   space_admin: forbidden
	//   no_archived_space: space_archived (status 409)
}
