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

const partsRule = "__spaceauthz_parts__"

func partName(i int) string { return fmt.Sprintf("__spaceauthz_part_%d__", i) }

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

// splitViolations adds the copies of the violation rules and the rule that
// collects them to parsed, and returns how many there are; ok is false,
// and nothing is added, when the policy does not have the standard shape.
func splitViolations(parsed map[string]*ast.Module, data map[string]any) (n int, ok bool) {
	if doc, isObj := data["spaceauthz"].(map[string]any); isObj {
		for _, name := range []string{"decision", "allow", "violations"} {
			if _, clash := doc[name]; clash {
				return 0, false
			}
		}
	}
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
			return 0, false
		}
		home = m
		for _, r := range m.Rules {
			switch r.Head.Reference[0].Value.(ast.Var) {
			case "decision", "allow":
				shape = append(shape, r.String())
			case "violations":
				if len(r.Head.Reference) != 1 || r.Head.RuleKind() != ast.MultiValue || r.Else != nil || len(r.Head.Args) != 0 {
					return 0, false
				}
				violations = append(violations, owned{m, r})
			}
		}
	}
	if len(shape) != len(standardRules) {
		return 0, false
	}
	for _, s := range shape {
		if !standardRules[s] {
			return 0, false
		}
	}
	refs := make([]string, len(violations))
	for i, v := range violations {
		c := v.rule.Copy()
		name := ast.Var(partName(i))
		c.Head.Name = name
		c.Head.Reference = ast.Ref{ast.VarTerm(string(name))}
		c.Module = v.module
		v.module.Rules = append(v.module.Rules, c)
		refs[i] = string(name)
	}
	src := "package spaceauthz\n" + partsRule + " := [" + strings.Join(refs, ", ") + "]\n"
	collect := ast.MustParseModuleWithOpts(src, ast.ParserOptions{RegoVersion: ast.RegoV1}).Rules[0]
	collect.Module = home
	home.Rules = append(home.Rules, collect)
	return len(violations), true
}
