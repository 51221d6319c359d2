package main

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
	defaultpolicy "github.com/spaceauthz/spaceauthz/rego"
)

// opaQuery is the default policy as most hosts embed OPA: a prepared query
// over the .rego files and data.json, evaluated with a map as input, and
// none of the engine's own preparation.
type opaQuery struct {
	query rego.PreparedEvalQuery
}

func newOPAQuery() (*opaQuery, error) {
	modules, data, err := defaultpolicy.Policy()
	if err != nil {
		return nil, err
	}
	opts := []func(*rego.Rego){rego.Query(policy.DecisionQuery)}
	for _, m := range modules {
		opts = append(opts, rego.Module(m.Name, m.Source))
	}
	opts = append(opts, rego.Store(inmem.NewFromObject(data)))
	query, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		return nil, err
	}
	return &opaQuery{query: query}, nil
}

// eval is the timed call: one evaluation of the decision on a map input.
func (q *opaQuery) eval(ctx context.Context, input map[string]any) (rego.ResultSet, error) {
	return q.query.Eval(ctx, rego.EvalInput(input))
}

// opaDecision reads the decision document out of a result set, failing on
// anything that is not {"allow": <bool>, "violations": [{"code", "rule"}]}.
func opaDecision(rs rego.ResultSet) (membership.Decision, error) {
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return membership.Decision{}, fmt.Errorf("opa: %d results, want one decision", len(rs))
	}
	doc, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return membership.Decision{}, fmt.Errorf("opa: decision is %T", rs[0].Expressions[0].Value)
	}
	var d membership.Decision
	if d.Allow, ok = doc["allow"].(bool); !ok {
		return membership.Decision{}, fmt.Errorf("opa: allow is %T", doc["allow"])
	}
	vs, ok := doc["violations"].([]any)
	if !ok {
		return membership.Decision{}, fmt.Errorf("opa: violations is %T", doc["violations"])
	}
	for _, v := range vs {
		obj, _ := v.(map[string]any)
		code, _ := obj["code"].(string)
		rule, _ := obj["rule"].(string)
		if code == "" || rule == "" {
			return membership.Decision{}, fmt.Errorf("opa: malformed violation %v", v)
		}
		d.Violations = append(d.Violations, membership.Violation{Code: membership.Code(code), Rule: rule})
	}
	return d, nil
}
