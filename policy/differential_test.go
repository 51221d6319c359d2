package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"pgregory.net/rapid"

	"github.com/spaceauthz/spaceauthz/internal/native"
	"github.com/spaceauthz/spaceauthz/membership"
)

// extraRule is a member of the family of policies the differential test
// draws from: the default policy plus one rule that reads something else.
type extraRule struct {
	name   string
	module string
	data   map[string]any
	// cached says whether the engine may remember decisions.
	cached bool
	// rawPaths are ids whose values the rule looks at: the analysis must
	// keep them raw.
	rawPaths []string
}

var extraRules = []extraRule{
	{name: "default", cached: true},
	{name: "other input path", cached: true, module: `package spaceauthz

violations contains {"code": "blocked_domain", "rule": "email"} if endswith(input.target.email, "@blocked.example")
`},
	{name: "data", cached: true, data: map[string]any{"archived": []any{string(testID("Space:2"))}}, module: `package spaceauthz

violations contains {"code": "space_archived", "rule": "archived", "status": 409} if input.space.id in data.archived
`},
	{name: "dynamic path", cached: true, module: `package spaceauthz

violations contains {"code": "nameless", "rule": "dynamic"} if {
	some key
	input.actor[key] == ""
}
`},
	{name: "whole input", cached: true, module: `package spaceauthz

violations contains {"code": "unlucky", "rule": "digest"} if count(json.marshal(input)) % 3 == 0
`},
	{name: "nondeterministic builtin", cached: false, module: `package spaceauthz

violations contains {"code": "before_epoch", "rule": "clock"} if time.now_ns() < 0
`},
	// A rule behind a gate of the host's own (see parts.go): the gate and
	// the rest of the rule are remembered apart.
	{name: "gate", cached: true, module: `package spaceauthz

private_add if {
	input.operation == "add"
	input.space.is_private
}

violations contains {"code": "private_member", "rule": "gated"} if {
	private_add
	input.target.role == "MEMBER"
}
`},
	// An import that takes the name of a rule of the package: the rule's
	// first literal is the imported document, not a gate.
	{name: "import named like a gate", cached: true, data: map[string]any{"flags": map[string]any{"on": true}}, module: `package spaceauthz

import data.flags.on as adding

violations contains {"code": "flagged", "rule": "imported"} if {
	adding
	input.target.role == "MEMBER"
}
`},
	// Each of these looks at an id's value, so that id's raw value must
	// stay in the key: renaming it may change the decision.
	{name: "id compared with a literal in a gate", cached: true, rawPaths: []string{"space.id"}, module: `package spaceauthz

second_space if input.space.id == "` + string(testID("Space:2")) + `"

violations contains {"code": "second_space", "rule": "gated_literal"} if {
	second_space
	input.target.role != "ADMIN"
}
`},
	{name: "id compared with a literal", cached: true, rawPaths: []string{"space.id"}, module: `package spaceauthz

violations contains {"code": "space_two", "rule": "literal"} if input.space.id == "` + string(testID("Space:2")) + `"
`},
	{name: "id looked up in data", cached: true, rawPaths: []string{"actor.account_id"},
		data: map[string]any{"blocked": map[string]any{string(testID("Account:2")): true}}, module: `package spaceauthz

violations contains {"code": "blocked", "rule": "lookup"} if data.blocked[input.actor.account_id]
`},
	{name: "id passed to a builtin", cached: true, rawPaths: []string{"actor.id"}, module: `package spaceauthz

violations contains {"code": "first_user", "rule": "prefix"} if startswith(input.actor.id, "` + string(testID("User:1")) + `")
`},
	{name: "id in a detail", cached: true, rawPaths: []string{"target.account_id"}, module: `package spaceauthz

violations contains {"code": "annotator", "rule": "detail", "detail": input.target.account_id} if input.target.role == "ANNOTATOR"
`},
	{name: "ids ordered", cached: true, rawPaths: []string{"actor.account_id", "organization.account_id"}, module: `package spaceauthz

violations contains {"code": "ordered", "rule": "less"} if input.actor.account_id < input.organization.account_id
`},
	{name: "id through a function argument", cached: true, rawPaths: []string{"custom_role.account_id"}, module: `package spaceauthz

second_account(a) if a == "` + string(testID("Account:2")) + `"

violations contains {"code": "second", "rule": "function"} if second_account(input.custom_role.account_id)
`},
	{name: "id through a comprehension", cached: true, rawPaths: []string{"actor.id", "target.id"}, module: `package spaceauthz

violations contains {"code": "first_user", "rule": "comprehension"} if {
	count([u | some u in [input.actor.id, input.target.id]; u == "` + string(testID("User:1")) + `"]) > 0
}
`},
	{name: "ids compared with each other only", cached: true, module: `package spaceauthz

same(a, b) if a == b

violations contains {"code": "self", "rule": "self"} if {
	ids := [id | some id in [input.target.id]]
	same(input.actor.id, ids[0])
}
`},
}

// TestDifferential: on random facts, the engine (with its decision cache,
// over many calls) decides exactly as a plain, uncached OPA evaluation of
// the same policy with the input as a Go map, and, on the default policy,
// as the hand-written Go check of internal/native.
func TestDifferential(t *testing.T) {
	t.Parallel()
	for _, rule := range extraRules {
		t.Run(rule.name, func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if rule.module != "" {
				opts = append(opts, WithModule("extra.rego", rule.module))
			}
			if rule.data != nil {
				opts = append(opts, WithData(rule.data))
			}
			engine, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := engine.policy.Load().cache != nil; got != rule.cached {
				t.Fatalf("decision cache on: %v, want %v", got, rule.cached)
			}
			classed := engine.policy.Load().whole.classedPaths()
			for _, p := range rule.rawPaths {
				if slices.Contains(classed, p) {
					t.Errorf("%s is keyed by its equality class, but the rule looks at its value", p)
				}
			}
			plain := plainQuery(t, rule)
			rapid.Check(t, func(t *rapid.T) {
				// Facts, a variant that may share their cache entry, and
				// the facts of another tenant with the same shape.
				f, variant := genFactsPair(t)
				for _, f := range []*membership.Facts{f, variant, renameIDs(f, genRename(t))} {
					got, err := engine.Decide(context.Background(), f)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(plainDecide(t, plain, f), sorted(got)); diff != "" {
						t.Fatalf("engine and plain OPA disagree (-plain +engine):\n%s\ninput: %v", diff, InputDocument(f))
					}
					if rule.module != "" {
						continue
					}
					if diff := cmp.Diff(sorted(native.Decide(f)), sorted(got)); diff != "" {
						t.Fatalf("engine and the hand-written check disagree (-native +engine):\n%s\ninput: %v", diff, InputDocument(f))
					}
				}
			})
		})
	}
}

// plainQuery prepares the policy the way most hosts embed OPA, with nothing
// of the engine's own machinery.
func plainQuery(t *testing.T, rule extraRule) rego.PreparedEvalQuery {
	t.Helper()
	modules, data, err := (&sources{}).gather()
	if err != nil {
		t.Fatal(err)
	}
	opts := []func(*rego.Rego){rego.Query(DecisionQuery), rego.StrictBuiltinErrors(true)}
	for _, m := range modules {
		opts = append(opts, rego.Module(m.Name, m.Source))
	}
	if rule.module != "" {
		opts = append(opts, rego.Module("extra.rego", rule.module))
	}
	for k, v := range rule.data {
		data[k] = v
	}
	opts = append(opts, rego.Store(inmem.NewFromObject(data)))
	q, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func plainDecide(t interface{ Fatalf(string, ...any) }, q rego.PreparedEvalQuery, f *membership.Facts) membership.Decision {
	rs, err := q.Eval(context.Background(), rego.EvalInput(InputDocument(f)))
	if err != nil || len(rs) != 1 {
		t.Fatalf("plain evaluation: %v, %v", rs, err)
	}
	doc := rs[0].Expressions[0].Value.(map[string]any)
	d := membership.Decision{Allow: doc["allow"].(bool)}
	for _, v := range doc["violations"].([]any) {
		obj := v.(map[string]any)
		viol := membership.Violation{Code: membership.Code(obj["code"].(string)), Rule: obj["rule"].(string)}
		viol.Detail, _ = obj["detail"].(string)
		if s, ok := obj["status"]; ok {
			fmt.Sscan(fmt.Sprint(s), &viol.Status)
		}
		d.Violations = append(d.Violations, viol)
	}
	return sorted(d)
}

func sorted(d membership.Decision) membership.Decision {
	d.Violations = slices.Clone(d.Violations)
	slices.SortFunc(d.Violations, func(a, b membership.Violation) int {
		return strings.Compare(string(a.Code)+"/"+a.Rule, string(b.Code)+"/"+b.Rule)
	})
	return d
}

// TestDifferentialCatchesUnsoundClasses: the differential test can fail.
// For each rule above that looks at an id's value, an engine that wrongly
// keys that id by its equality class (as if the analysis had passed it)
// decides otherwise than plain OPA on some facts the test draws.
func TestDifferentialCatchesUnsoundClasses(t *testing.T) {
	t.Parallel()
	draw := rapid.Custom(func(t *rapid.T) [3]*membership.Facts {
		f, variant := genFactsPair(t)
		return [3]*membership.Facts{f, variant, renameIDs(f, genRename(t))}
	})
	for _, rule := range extraRules {
		if len(rule.rawPaths) == 0 {
			continue
		}
		t.Run(rule.name, func(t *testing.T) {
			t.Parallel()
			opts := []Option{WithModule("extra.rego", rule.module)}
			if rule.data != nil {
				opts = append(opts, WithData(rule.data))
			}
			engine, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			p := engine.policy.Load()
			for _, spec := range slices.Concat([]keySpec{p.whole}, p.parts, p.gates) {
				for i, n := range spec.nodes {
					if slices.Contains(rule.rawPaths, joinPath(n.path)) {
						spec.classed[i] = true
					}
				}
			}
			plain := plainQuery(t, rule)
			for seed := range 3000 {
				for _, f := range draw.Example(seed) {
					got, err := engine.Decide(context.Background(), f)
					if err != nil {
						t.Fatal(err)
					}
					if !cmp.Equal(plainDecide(t, plain, f), sorted(got)) {
						return // caught
					}
				}
			}
			t.Errorf("with %v keyed by class, the engine still agreed with plain OPA on every draw", rule.rawPaths)
		})
	}
}
