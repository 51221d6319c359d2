// Package policytest is a test kit for hosts that write Rego rules of their
// own on top of the default policy (or instead of it). It checks a policy
// from `go test` in two ways.
//
// From Go, as a table of named situations. A Situation builds the facts of
// one request in a few lines: Add, Remove and List start from a request the
// default policy allows, and each case states only what differs. A Case
// pairs the facts with the Outcome it expects, Allow or Deny; Run runs a
// table as subtests and Check returns the results as values:
//
//	engine := policytest.NewEngine(t, policy.WithModule("archived.rego", src))
//	policytest.Run(t, engine, []policytest.Case{
//		{Name: "space MEMBER adds", Facts: policytest.Add().ActorSpaceRole(policytest.Predefined(membership.RoleMember)).Facts(),
//			Want: policytest.Deny(membership.CodeForbidden, "space_admin")},
//		{Name: "archived space", Facts: policytest.Add().Facts(),
//			Want: policytest.Deny("space_archived", "no_archived_space").WithStatus(409)},
//	})
//
// An expectation is about the answer, not about every rule: the service
// answers with the violation that comes first in the operation's check order
// (membership.Decision.Err), and a later rule may fire alongside it by
// design. A failing case shows a go-cmp diff of the expected and actual
// outcomes and every rule that fired, in check order.
//
// From Rego, as unit tests. RunRegoTests runs a host's *_test.rego files
// against the default policy plus the host's modules and data, one Go
// subtest per Rego test, and fails naming the file and line.
package policytest
