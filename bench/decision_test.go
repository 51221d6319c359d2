package main

import (
	"context"
	"math/rand/v2"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spaceauthz/spaceauthz/internal/native"
	"github.com/spaceauthz/spaceauthz/internal/native/nativetest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

// TestFactCases pins the two fact sets: the allowed one passes every
// check, the denied one is refused for want of a space admin only.
func TestFactCases(t *testing.T) {
	t.Parallel()
	want := map[string]membership.Decision{
		"allowed": {Allow: true},
		"denied":  {Violations: []membership.Violation{{Code: membership.CodeForbidden, Rule: "space_admin"}}},
	}
	for _, name := range factCaseNames {
		_, c := decisionCase(t, name)
		if diff := gocmp.Diff(want[name], c.want, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: the hand-written check decides (-want +got):\n%s", name, diff)
		}
	}
}

// TestDeciders runs the measured call of every decider once on every fact
// set, as the benchmarks do before they time it.
func TestDeciders(t *testing.T) {
	t.Parallel()
	for _, d := range deciders {
		for _, name := range factCaseNames {
			t.Run(d.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				k, c := decisionCase(t, name)
				if err := checkDecision(d, k, c); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// TestCedarAgreesOnRandomFacts holds the Cedar policy to the hand-written
// check on random facts, adds and every other operation, so that the
// comparison compares the same policy. (The engine is held to the
// hand-written check by the tests of package native, and to plain OPA by
// those of package policy.)
func TestCedarAgreesOnRandomFacts(t *testing.T) {
	t.Parallel()
	n := 2_000
	if testing.Short() {
		n = 300
	}
	for _, tt := range []struct {
		name string
		draw func(*rand.Rand) *membership.Facts
	}{
		{"adds", nativetest.Random},
		{"every operation", nativetest.RandomOperation},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cp, err := newCedarPolicy()
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(4, 4))
			for i := range n {
				f := tt.draw(r)
				got, err := cp.decide(cedarRequest(f))
				if err != nil {
					t.Fatalf("fact set %d: %v", i, err)
				}
				got.Violations = sortedViolations(got.Violations)
				if diff := gocmp.Diff(native.Decide(f), got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("fact set %d: Cedar decides otherwise than the hand-written check (-native +cedar):\n%s\ninput: %v", i, diff, policy.InputDocument(f))
				}
			}
		})
	}
}

func TestCedarPolicyNamesEveryRule(t *testing.T) {
	t.Parallel()
	cp, err := newCedarPolicy()
	if err != nil {
		t.Fatal(err)
	}
	rules := map[membership.Violation]bool{}
	for _, v := range cp.violations {
		rules[v] = true
	}
	// One forbid per violation of decision.rego and per level at which it
	// applies (role_exists has two at each).
	if len(rules) != 16 || len(cp.violations) != 23 {
		t.Errorf("the Cedar policy has %d forbids for %d violations, want 23 for 16: %v", len(cp.violations), len(rules), rules)
	}
	d, err := cp.decide(cedarRequest(nativetest.Allowed()))
	if err != nil || !d.Allow {
		t.Errorf("decide(allowed) = %+v, %v", d, err)
	}
}

func TestOPADecisionRefusesMalformedResults(t *testing.T) {
	t.Parallel()
	k, err := decisionSetup()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := k.opa.eval(context.Background(), map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := opaDecision(rs); err != nil || d.Allow {
		t.Errorf("opaDecision on an empty input = %+v, %v; want a deny", d, err)
	}
	if _, err := opaDecision(nil); err == nil {
		t.Error("opaDecision(nil) did not fail")
	}
}
