package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cedar-policy/cedar-go"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spaceauthz/spaceauthz/internal/native"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The best-case decision benchmarks time one request repeated: the same
// facts, gathered beforehand, decided again and again by each decider
// below, for two fact sets. Everything a decider needs (its prepared
// policy, its form of the input) is built once, outside the timed loop, so
// they measure decisions alone, and a decider that remembers answers
// answers every one from memory. The traffic benchmarks (traffic.go)
// measure what real traffic costs.

// A factCase is one fact set in every form a decider takes it.
type factCase struct {
	name  string
	facts *membership.Facts
	// want is the decision of the hand-written check, which every decider
	// must reproduce.
	want membership.Decision
	// input is the facts as policy.InputDocument builds them, for OPA.
	input map[string]any
	// request is the facts as a Cedar request with a context record.
	request cedar.Request
}

// The fact sets, taken from the demo fixture (see fixture.Demo).
var factCaseRequests = []struct {
	name string
	req  membership.AddUserRequest
}{
	// Ada, an account ADMIN, gives Linus, a MEMBER of the organization, the
	// predefined MEMBER role in the private space red-team: every check
	// passes.
	{"allowed", membership.AddUserRequest{
		Actor: "VXNlcjox", SpaceID: "U3BhY2U6Mg==", UserID: "VXNlcjoz",
		Role: membership.Predefined(membership.RoleMember),
	}},
	// Barbara, a MEMBER of the organization, tries to give Alan the
	// predefined MEMBER role in the public space llm-evals: she can read
	// the space but is no space admin, so the answer is forbidden.
	{"denied", membership.AddUserRequest{
		Actor: "VXNlcjo0", SpaceID: "U3BhY2U6MQ==", UserID: "VXNlcjo1",
		Role: membership.Predefined(membership.RoleMember),
	}},
}

// decisionKit holds the prepared deciders and the fact sets.
type decisionKit struct {
	cases  []*factCase
	engine *policy.Engine
	// uncached is the engine with its decision cache turned off: what a
	// decision costs the first time the engine sees its facts.
	uncached *policy.Engine
	opa      *opaQuery
	cedar    *cedarPolicy
}

// decisionSetup builds the kit once per process.
var decisionSetup = sync.OnceValues(newDecisionKit)

func newDecisionKit() (*decisionKit, error) {
	engine, err := policy.New()
	if err != nil {
		return nil, err
	}
	uncached, err := policy.New(policy.WithDecisionCache(0))
	if err != nil {
		return nil, err
	}
	opa, err := newOPAQuery()
	if err != nil {
		return nil, err
	}
	cp, err := newCedarPolicy()
	if err != nil {
		return nil, err
	}
	k := &decisionKit{engine: engine, uncached: uncached, opa: opa, cedar: cp}
	for _, fc := range factCaseRequests {
		facts, err := demoFacts(fc.req)
		if err != nil {
			return nil, fmt.Errorf("fact set %s: %w", fc.name, err)
		}
		k.cases = append(k.cases, &factCase{
			name:    fc.name,
			facts:   facts,
			want:    native.Decide(facts),
			input:   policy.InputDocument(facts),
			request: cedarRequest(facts),
		})
	}
	return k, nil
}

func (k *decisionKit) factCase(name string) (*factCase, error) {
	for _, c := range k.cases {
		if c.name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no fact set %q", name)
}

// demoFacts returns the facts memstore gathers for req from the demo
// fixture, exactly as the service would hand them to a decider.
func demoFacts(req membership.AddUserRequest) (*membership.Facts, error) {
	ctx := context.Background()
	store := memstore.New()
	if err := fixture.Seed(ctx, store, fixture.Demo()); err != nil {
		return nil, err
	}
	facts, _, err := store.Read(ctx, req.Query())
	if err != nil {
		return nil, fmt.Errorf("gathering facts: %v", err)
	}
	return facts, nil
}

// A decider is one way to decide. decide runs once, for checks and tests;
// loop is the timed loop, which runs the decider's own call and nothing
// else.
type decider struct {
	name   string
	decide func(*decisionKit, *factCase) (membership.Decision, error)
	loop   func(*testing.B, *decisionKit, *factCase)
}

// deciders are the deciders in the order of the table; native is the
// baseline of the others. engine is the engine as policy.New builds it,
// which remembers decisions: the loop, deciding the same facts again and
// again, measures a remembered decision, and engine-uncached a fresh one.
var deciders = []decider{
	{"native", decideNative, loopNative},
	{"opa-prepared", decideOPA, loopOPA},
	{"engine", decideEngine, loopEngine},
	{"engine-uncached", decideUncached, loopUncached},
	{"cedar", decideCedar, loopCedar},
}

// factCaseNames are the fact sets every decider runs on.
var factCaseNames = []string{"allowed", "denied"}

// benchDecision returns the body of Decision/<d>/<fact set>: it checks the
// decider's answer once, then times it.
func benchDecision(d decider, caseName string) func(*testing.B) {
	return func(b *testing.B) {
		k, c := decisionCase(b, caseName)
		if err := checkDecision(d, k, c); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		d.loop(b, k, c)
	}
}

func decisionCase(tb testing.TB, name string) (*decisionKit, *factCase) {
	k, err := decisionSetup()
	if err != nil {
		tb.Fatalf("preparing the deciders: %v", err)
	}
	c, err := k.factCase(name)
	if err != nil {
		tb.Fatal(err)
	}
	return k, c
}

// checkDecision reports how d's decision of c differs from the hand-written
// check, if it does.
func checkDecision(d decider, k *decisionKit, c *factCase) error {
	got, err := d.decide(k, c)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", d.name, c.name, err)
	}
	got.Violations = sortedViolations(got.Violations)
	if diff := gocmp.Diff(c.want, got, cmpopts.EquateEmpty()); diff != "" {
		return fmt.Errorf("%s on %s decides otherwise than the hand-written check (-native +%s):\n%s", d.name, c.name, d.name, diff)
	}
	return nil
}

func sortedViolations(vs []membership.Violation) []membership.Violation {
	vs = slices.Clone(vs)
	slices.SortFunc(vs, func(a, b membership.Violation) int {
		return cmp.Or(cmp.Compare(a.Code, b.Code), cmp.Compare(a.Rule, b.Rule))
	})
	return slices.Compact(vs)
}

func decideNative(_ *decisionKit, c *factCase) (membership.Decision, error) {
	return native.Decide(c.facts), nil
}

func loopNative(b *testing.B, _ *decisionKit, c *factCase) {
	for b.Loop() {
		native.Decide(c.facts)
	}
}

func decideEngine(k *decisionKit, c *factCase) (membership.Decision, error) {
	return k.engine.Decide(context.Background(), c.facts)
}

func loopEngine(b *testing.B, k *decisionKit, c *factCase) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := k.engine.Decide(ctx, c.facts); err != nil {
			b.Fatal(err)
		}
	}
}

func decideUncached(k *decisionKit, c *factCase) (membership.Decision, error) {
	return k.uncached.Decide(context.Background(), c.facts)
}

func loopUncached(b *testing.B, k *decisionKit, c *factCase) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := k.uncached.Decide(ctx, c.facts); err != nil {
			b.Fatal(err)
		}
	}
}

func decideOPA(k *decisionKit, c *factCase) (membership.Decision, error) {
	rs, err := k.opa.eval(context.Background(), c.input)
	if err != nil {
		return membership.Decision{}, err
	}
	return opaDecision(rs)
}

func loopOPA(b *testing.B, k *decisionKit, c *factCase) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := k.opa.eval(ctx, c.input); err != nil {
			b.Fatal(err)
		}
	}
}

func decideCedar(k *decisionKit, c *factCase) (membership.Decision, error) {
	return k.cedar.decide(c.request)
}

func loopCedar(b *testing.B, k *decisionKit, c *factCase) {
	for b.Loop() {
		cedar.Authorize(k.cedar.policies, nil, c.request)
	}
}
