package policy

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/spaceauthz/spaceauthz/membership"
)

// decisionFromTerm reads the decision straight from the result term, so
// that no generic JSON conversion runs per request. It never fails the
// evaluation: a malformed decision comes back as an error value, which
// evaluate turns into a deny.
func decisionFromTerm(t *ast.Term, _ *rego.EvalContext) (any, error) {
	d, err := parseDecision(t.Value)
	if err != nil {
		return err, nil
	}
	return d, nil
}

// partsResult is what the parts rule of a policy in the standard shape
// returns: the violations of each violation rule, and the value of each
// gate.
type partsResult struct {
	parts [][]membership.Violation
	gates []bool
}

// partsFromTerm reads a partsResult from [[<violations>, ...], [<gate>, ...]].
func partsFromTerm(t *ast.Term, _ *rego.EvalContext) (any, error) {
	arr, ok := t.Value.(*ast.Array)
	if !ok || arr.Len() != 2 {
		return fmt.Errorf("%w: rule results are not a pair", ErrMalformedDecision), nil
	}
	parts, ok := arr.Elem(0).Value.(*ast.Array)
	gates, ok2 := arr.Elem(1).Value.(*ast.Array)
	if !ok || !ok2 {
		return fmt.Errorf("%w: rule results are not arrays", ErrMalformedDecision), nil
	}
	res := partsResult{parts: make([][]membership.Violation, parts.Len()), gates: make([]bool, gates.Len())}
	for i := range res.parts {
		vs, err := parseViolations(parts.Elem(i))
		if err != nil {
			return err, nil
		}
		res.parts[i] = vs
	}
	for g := range res.gates {
		open, ok := gates.Elem(g).Value.(ast.Boolean)
		if !ok {
			return fmt.Errorf("%w: a gate is not a boolean", ErrMalformedDecision), nil
		}
		res.gates[g] = bool(open)
	}
	return res, nil
}

func parseDecision(v ast.Value) (membership.Decision, error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return membership.Decision{}, fmt.Errorf("%w: not an object", ErrMalformedDecision)
	}
	var allow ast.Boolean
	at := obj.Get(ast.InternedTerm("allow"))
	if at != nil {
		allow, ok = at.Value.(ast.Boolean)
	}
	if at == nil || !ok {
		return membership.Decision{}, fmt.Errorf("%w: allow is not a boolean", ErrMalformedDecision)
	}
	d := membership.Decision{Allow: bool(allow)}
	vt := obj.Get(ast.InternedTerm("violations"))
	if vt == nil {
		return membership.Decision{}, fmt.Errorf("%w: no violations", ErrMalformedDecision)
	}
	var err error
	if d.Violations, err = parseViolations(vt); err != nil {
		return membership.Decision{}, err
	}
	if d.Allow != (len(d.Violations) == 0) {
		return membership.Decision{}, fmt.Errorf("%w: allow is %v with %d violations", ErrMalformedDecision, d.Allow, len(d.Violations))
	}
	return d, nil
}

// parseViolations reads a set or an array of violations.
func parseViolations(vt *ast.Term) ([]membership.Violation, error) {
	var (
		out []membership.Violation
		err error
	)
	each := func(t *ast.Term) {
		if err != nil {
			return
		}
		var viol membership.Violation
		if viol, err = parseViolation(t.Value); err == nil {
			out = append(out, viol)
		}
	}
	switch vs := vt.Value.(type) {
	case ast.Set:
		vs.Foreach(each)
	case *ast.Array:
		vs.Foreach(each)
	default:
		return nil, fmt.Errorf("%w: violations is not a set or an array", ErrMalformedDecision)
	}
	return out, err
}

func parseViolation(v ast.Value) (membership.Violation, error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return membership.Violation{}, fmt.Errorf("%w: a violation is not an object", ErrMalformedDecision)
	}
	var viol membership.Violation
	code, ok := stringAt(obj, "code")
	if !ok || code == "" {
		return membership.Violation{}, fmt.Errorf("%w: a violation has no code", ErrMalformedDecision)
	}
	viol.Code = membership.Code(code)
	viol.Rule, _ = stringAt(obj, "rule")
	viol.Detail, _ = stringAt(obj, "detail")
	if t := obj.Get(ast.InternedTerm("status")); t != nil {
		n, _ := t.Value.(ast.Number)
		status, isInt := n.Int()
		if !isInt || status < 400 || status > 499 {
			return membership.Violation{}, fmt.Errorf("%w: a violation's status is not 400 to 499", ErrMalformedDecision)
		}
		viol.Status = status
	}
	return viol, nil
}

func stringAt(obj ast.Object, key string) (string, bool) {
	t := obj.Get(ast.InternedTerm(key))
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
}
