package policy

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A policy in the standard shape, as the default policy is,
//
//	decision := {"allow": allow, "violations": violations}
//	default allow := false
//	allow if count(violations) == 0
//	violations contains <violation> if <body>   (any number of these)
//
// decides by the union of its violation rules: each rule adds its
// violations whatever the others do, so the decision is known once every
// rule's violations are. Each rule reads only a few input paths, so the
// engine also remembers each rule's violations under a key of its own read
// set: a request whose whole key is new is still answered from memory when
// every rule has seen its own part of it before, which is what keeps the
// hit ratio high on traffic from many tenants.
//
// To evaluate the rules one by one, each violation rule is copied under a
// name of its own (partName), and one more rule (partsRule) collects the
// copies in an array, so that a miss still costs one evaluation. A policy
// of any other shape is remembered by whole decisions only.
//
// A violation rule whose body starts with a gate, a rule of the package
// that takes no arguments (as `adding` does: the operation is an add and
// the caller may read the space), is remembered in two halves: the gate's
// value under a key of the gate's own read set, and the violations of the
// rest of the body under a key of the rest's read set, learnt only when
// the gate held. Keyed whole, such a rule would key on the gate's inputs
// times its own, and see far fewer repeats. Evaluation still runs the rule
// as written, gate first, so a request the gate stops costs no more work
// for what lies behind it.

const partsRule = "__spaceauthz_parts__"

func partName(i int) string { return fmt.Sprintf("__spaceauthz_part_%d__", i) }

// restName names the copy of violation rule i without its gate: it is
// analysed for its read set, never evaluated.
func restName(i int) string { return fmt.Sprintf("__spaceauthz_rest_%d__", i) }

func gateName(g int) string { return fmt.Sprintf("__spaceauthz_gate_%d__", g) }

// split is how splitViolations split a policy: n violation rules, and for
// each the index of its gate in gates, or -1.
type split struct {
	n      int
	gateOf []int
	gates  []string
}

// The rules of the standard shape, as the parser prints them.
var standardRules = func() map[string]bool {
	m := ast.MustParseModuleWithOpts(`package spaceauthz
decision := {"allow": allow, "violations": violations}
default allow := false
allow if count(violations) == 0
`, ast.ParserOptions{RegoVersion: ast.RegoV1})
	out := map[string]bool{}
	for _, r := range m.Rules {
		out[r.String()] = true
	}
	return out
}()

var decisionPackage = ast.MustParseRef("data.spaceauthz")

// splitViolations adds the copies of the violation rules, their gates and
// the rule that collects them to parsed, and says how it split them; ok is
// false, and nothing is added, when the policy does not have the standard
// shape.
func splitViolations(parsed map[string]*ast.Module, data map[string]any) (sp split, ok bool) {
	if doc, isObj := data["spaceauthz"].(map[string]any); isObj {
		for _, name := range []string{"decision", "allow", "violations"} {
			if _, clash := doc[name]; clash {
				return split{}, false
			}
		}
	}
	// Rules of the package that take no arguments, by name: the
	// candidates for a gate.
	plain := map[ast.Var]bool{}
	taking := map[ast.Var]bool{}
	type owned struct {
		module *ast.Module
		rule   *ast.Rule
	}
	var violations []owned
	var shape []string
	var home *ast.Module
	for _, m := range parsed {
		path := m.Package.Path
		if !path.HasPrefix(decisionPackage) {
			continue
		}
		if !path.Equal(decisionPackage) {
			// A package below data.spaceauthz could define a member of
			// the decision or of its violations.
			return split{}, false
		}
		home = m
		for _, r := range m.Rules {
			name := r.Head.Reference[0].Value.(ast.Var)
			if len(r.Head.Args) == 0 && len(r.Head.Reference) == 1 && r.Head.RuleKind() == ast.SingleValue {
				plain[name] = true
			} else {
				taking[name] = true
			}
			switch name {
			case "decision", "allow":
				shape = append(shape, r.String())
			case "violations":
				if len(r.Head.Reference) != 1 || r.Head.RuleKind() != ast.MultiValue || r.Else != nil || len(r.Head.Args) != 0 {
					return split{}, false
				}
				violations = append(violations, owned{m, r})
			}
		}
	}
	if len(shape) != len(standardRules) {
		return split{}, false
	}
	for _, s := range shape {
		if !standardRules[s] {
			return split{}, false
		}
	}
	sp = split{n: len(violations), gateOf: make([]int, len(violations))}
	gateIndex := map[ast.Var]int{}
	var added []*ast.Rule
	refs := make([]string, len(violations))
	for i, v := range violations {
		c := v.rule.Copy()
		name := ast.Var(partName(i))
		c.Head.Name = name
		c.Head.Reference = ast.Ref{ast.VarTerm(string(name))}
		c.Module = v.module
		added = append(added, c)
		refs[i] = string(name)
		sp.gateOf[i] = -1
		gate, ok := gateOf(v.rule.Body)
		if !ok || !plain[gate] || taking[gate] || imports(v.module, gate) {
			continue
		}
		g, seen := gateIndex[gate]
		if !seen {
			g = len(sp.gates)
			gateIndex[gate] = g
			sp.gates = append(sp.gates, string(gate))
		}
		sp.gateOf[i] = g
		rest := v.rule.Copy()
		rest.Head.Name = ast.Var(restName(i))
		rest.Head.Reference = ast.Ref{ast.VarTerm(restName(i))}
		rest.Body = rest.Body[1:]
		if len(rest.Body) == 0 {
			rest.Body = ast.NewBody(ast.NewExpr(ast.BooleanTerm(true)))
		}
		rest.Module = v.module
		added = append(added, rest)
	}
	var src strings.Builder
	src.WriteString("package spaceauthz\n")
	gates := make([]string, len(sp.gates))
	for g, gate := range sp.gates {
		gates[g] = gateName(g)
		fmt.Fprintf(&src, "default %s := false\n%s := true if data.spaceauthz.%s\n", gateName(g), gateName(g), gate)
	}
	fmt.Fprintf(&src, "%s := [[%s], [%s]]\n", partsRule, strings.Join(refs, ", "), strings.Join(gates, ", "))
	for _, r := range ast.MustParseModuleWithOpts(src.String(), ast.ParserOptions{RegoVersion: ast.RegoV1}).Rules {
		r.Module = home
		added = append(added, r)
	}
	for _, r := range added {
		r.Module.Rules = append(r.Module.Rules, r)
	}
	return sp, true
}

// imports reports whether m imports a document under the name v, which
// would then stand for that document in m's rules rather than for the rule
// of the package that the gate copies name.
func imports(m *ast.Module, v ast.Var) bool {
	for _, imp := range m.Imports {
		if imp.Name() == v {
			return true
		}
	}
	return false
}

// gateOf returns the gate a rule body starts with: a bare reference to a
// rule of the package, not negated, with no with modifier.
func gateOf(body ast.Body) (ast.Var, bool) {
	if len(body) == 0 {
		return "", false
	}
	e := body[0]
	if e.Negated || len(e.With) > 0 || e.Generated {
		return "", false
	}
	t, ok := e.Terms.(*ast.Term)
	if !ok {
		return "", false
	}
	v, ok := t.Value.(ast.Var)
	return v, ok && !v.IsWildcard() && !v.IsGenerated()
}
