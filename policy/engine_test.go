package policy_test

import (
	"context"
	"encoding/base64"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

func id(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

// allowedFacts is an add that the default policy allows: an account ADMIN
// gives an organization member a predefined role.
func allowedFacts() *membership.Facts {
	account := id("Account:1")
	org := &membership.Organization{ID: id("Org:1"), AccountID: account, Name: "Research"}
	return &membership.Facts{
		Query:                  membership.Query{Operation: membership.OperationAdd, Actor: id("User:1"), SpaceID: id("Space:1"), UserID: id("User:2"), Role: membership.Predefined(membership.RoleMember)},
		Actor:                  &membership.User{ID: id("User:1"), AccountID: account, Role: membership.AccountAdmin},
		Space:                  &membership.Space{ID: id("Space:1"), OrganizationID: org.ID, Name: "llm-evals"},
		Organization:           org,
		Target:                 &membership.User{ID: id("User:2"), AccountID: account, Role: membership.AccountMember},
		TargetOrganizationRole: membership.Grant{Role: membership.Predefined(membership.RoleMember)},
	}
}

func newEngine(t *testing.T, opts ...policy.Option) *policy.Engine {
	t.Helper()
	e, err := policy.New(opts...)
	if err != nil {
		t.Fatalf("policy.New: %v", err)
	}
	return e
}

func TestDefaultPolicyAllowsAndDenies(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	d, err := e.Decide(context.Background(), allowedFacts())
	if err != nil || !d.Allow || len(d.Violations) != 0 {
		t.Fatalf("Decide(allowed) = %+v, %v", d, err)
	}
	denied := allowedFacts()
	denied.Target = nil
	d, err = e.Decide(context.Background(), denied)
	want := []membership.Violation{{Code: membership.CodeUserNotFound, Rule: "user_exists"}}
	if err != nil || d.Allow || !cmp.Equal(d.Violations, want) {
		t.Fatalf("Decide(no target) = %+v, %v; want the user_exists violation", d, err)
	}
}

func TestHostRuleAddsViolation(t *testing.T) {
	t.Parallel()
	e := newEngine(t,
		policy.WithData(map[string]any{"archived_spaces": []any{string(id("Space:1"))}}),
		policy.WithModule("archived.rego", `package spaceauthz

violations contains {"code": "space_archived", "rule": "no_archived_space", "status": 409, "detail": "the space is archived"} if {
	input.space.id in data.archived_spaces
}
`))
	d, err := e.Decide(context.Background(), allowedFacts())
	if err != nil {
		t.Fatal(err)
	}
	want := membership.Decision{Violations: []membership.Violation{{Code: "space_archived", Rule: "no_archived_space", Status: 409, Detail: "the space is archived"}}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReplacedPolicy(t *testing.T) {
	t.Parallel()
	e := newEngine(t, policy.WithoutDefaultPolicy(), policy.WithModule("mine.rego", `package spaceauthz

decision := {"allow": false, "violations": [{"code": "forbidden", "rule": "nobody"}]}
`))
	d, err := e.Decide(context.Background(), allowedFacts())
	if err != nil || d.Allow || len(d.Violations) != 1 || d.Violations[0].Rule != "nobody" {
		t.Errorf("Decide = %+v, %v; want the replacement's deny", d, err)
	}
}

func TestInvalidPoliciesAreRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []policy.Option
	}{
		{"syntax error", []policy.Option{policy.WithModule("bad.rego", "package spaceauthz\n\nallow if {")}},
		{"compile error", []policy.Option{policy.WithModule("bad.rego", "package spaceauthz\n\nx if undefined_function(1)\n")}},
		{"conflicting rule kinds", []policy.Option{policy.WithModule("bad.rego", "package spaceauthz\n\nviolations := []\n")}},
		{"Rego v0 syntax", []policy.Option{policy.WithModule("v0.rego", "package spaceauthz\n\nextra[x] { x := 1 }\n")}},
		{"no decision", []policy.Option{policy.WithoutDefaultPolicy(), policy.WithModule("empty.rego", "package spaceauthz\n\nallow := true\n")}},
		{"duplicate module name", []policy.Option{policy.WithModule("a.rego", "package a\n"), policy.WithModule("a.rego", "package b\n")}},
		{"data clash", []policy.Option{policy.WithData(map[string]any{"spaceauthz": 1})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := policy.New(tc.opts...)
			if !errors.Is(err, policy.ErrInvalidPolicy) || e != nil {
				t.Errorf("New = %v, %v; want ErrInvalidPolicy", e, err)
			}
		})
	}
}

// TestFailClosed: every way a decision can go wrong is a deny with an error.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		decision string
		want     error
	}{
		{"undefined", `decision := x if { x := {"allow": true, "violations": []}; input.nothing }`, policy.ErrUndefinedDecision},
		{"not an object", `decision := true`, policy.ErrMalformedDecision},
		{"allow missing", `decision := {"violations": []}`, policy.ErrMalformedDecision},
		{"allow not a boolean", `decision := {"allow": "yes", "violations": []}`, policy.ErrMalformedDecision},
		{"violations missing", `decision := {"allow": true}`, policy.ErrMalformedDecision},
		{"violations not a collection", `decision := {"allow": true, "violations": {}}`, policy.ErrMalformedDecision},
		{"allow with violations", `decision := {"allow": true, "violations": [{"code": "forbidden"}]}`, policy.ErrMalformedDecision},
		{"deny without violations", `decision := {"allow": false, "violations": []}`, policy.ErrMalformedDecision},
		{"violation without code", `decision := {"allow": false, "violations": [{"rule": "r"}]}`, policy.ErrMalformedDecision},
		{"violation with a bad status", `decision := {"allow": false, "violations": [{"code": "x", "status": 200}]}`, policy.ErrMalformedDecision},
		{"conflicting values", "decision := {\"allow\": true, \"violations\": []} if input.role\ndecision := {\"allow\": false, \"violations\": []} if input.space", nil},
		{"builtin error", `decision := {"allow": to_number("x") > 0, "violations": []}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var records []policy.DecisionRecord
			e := newEngine(t, policy.WithoutDefaultPolicy(),
				policy.WithModule("p.rego", "package spaceauthz\n\n"+tc.decision+"\n"),
				policy.WithAudit(policy.AuditFunc(func(_ context.Context, r policy.DecisionRecord) { records = append(records, r) })))
			d, err := e.Decide(context.Background(), allowedFacts())
			if err == nil || d.Allow {
				t.Fatalf("Decide = %+v, %v; want a deny with an error", d, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if len(records) != 1 || records[0].Err == nil || records[0].Allow {
				t.Errorf("audit saw %+v, want one failed deny", records)
			}
		})
	}
}

func TestCancelledContextDenies(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if d, err := e.Decide(ctx, allowedFacts()); err == nil || d.Allow {
		t.Errorf("Decide on a cancelled context = %+v, %v", d, err)
	}
}

func TestConcurrentDecide(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	denied := allowedFacts()
	denied.Actor = nil
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			f, want := allowedFacts(), true
			if i%2 == 1 {
				f, want = denied, false
			}
			for range 20 {
				d, err := e.Decide(context.Background(), f)
				if err != nil || d.Allow != want {
					t.Errorf("Decide = %+v, %v; want allow %v", d, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
