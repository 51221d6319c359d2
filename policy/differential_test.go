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
			plain := plainQuery(t, rule)
			rapid.Check(t, func(t *rapid.T) {
				// Facts, then a variant that may share their cache entry.
				f, variant := genFactsPair(t)
				for _, f := range []*membership.Facts{f, variant} {
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
	modules, data, err := (&config{defaultPolicy: true}).sources()
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

func plainDecide(t *rapid.T, q rego.PreparedEvalQuery, f *membership.Facts) membership.Decision {
	rs, err := q.Eval(context.Background(), rego.EvalInput(InputDocument(f)))
	if err != nil || len(rs) != 1 {
		t.Fatalf("plain evaluation: %v, %v", rs, err)
	}
	doc := rs[0].Expressions[0].Value.(map[string]any)
	d := membership.Decision{Allow: doc["allow"].(bool)}
	for _, v := range doc["violations"].([]any) {
		obj := v.(map[string]any)
		viol := membership.Violation{Code: membership.Code(obj["code"].(string)), Rule: obj["rule"].(string)}
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
