package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// readSet is what static analysis of a compiled policy finds out for the
// decision cache: the input paths some rules can read, and whether their
// result can change between two evaluations of the same input.
type readSet struct {
	// paths are the static prefixes of every reference to input, relative
	// to input; an empty path means the whole input document.
	paths [][]string
	// nondeterministic is set when a rule calls a builtin whose result may
	// differ between calls (time, randomness, network).
	nondeterministic bool
	// rules are the rules read, with every rule they refer to.
	rules []*ast.Rule
}

// analyse returns the read set of every rule of the compiled policy.
func analyse(compiler *ast.Compiler) readSet {
	var rules []*ast.Rule
	for _, m := range compiler.Modules {
		rules = append(rules, m.Rules...)
	}
	return readsOf(compiler, rules)
}

// readsOf returns the read set of the given rules and of every rule they
// refer to, transitively. A reference such as
// input.actor.organization_role[x].id counts as a read of its static prefix
// (input.actor.organization_role), so the key covers everything under it; a
// bare input counts as a read of the whole document. A reference into data
// brings in every rule under its static prefix.
func readsOf(compiler *ast.Compiler, roots []*ast.Rule) readSet {
	var rs readSet
	seen := map[*ast.Rule]bool{}
	queue := append([]*ast.Rule(nil), roots...)
	var vis *ast.GenericVisitor
	vis = ast.NewGenericVisitor(func(x any) bool {
		switch x := x.(type) {
		case ast.Ref:
			switch {
			case x[0].Equal(ast.InputRootDocument):
				rs.paths = append(rs.paths, staticPrefix(x[1:]))
			case x[0].Equal(ast.DefaultRootDocument):
				prefix := append(ast.Ref{x[0]}, stringTerms(x[1:])...)
				queue = append(queue, compiler.GetRules(prefix)...)
			}
			// Walk the rest of the ref (it may hold refs of its own), not
			// its head, which would count as a bare input.
			for _, t := range x[1:] {
				vis.Walk(t)
			}
			return true
		case ast.Var:
			if x.Equal(ast.InputRootDocument.Value) {
				rs.paths = append(rs.paths, nil)
			}
		case *ast.Expr:
			if x.IsCall() && isNondeterministic(x.Operator()) {
				rs.nondeterministic = true
			}
		case ast.Call:
			if isNondeterministic(x[0].Value.(ast.Ref)) {
				rs.nondeterministic = true
			}
		}
		return false
	})
	for len(queue) > 0 {
		r := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for ; r != nil && !seen[r]; r = r.Else {
			seen[r] = true
			rs.rules = append(rs.rules, r)
			vis.Walk(r)
		}
	}
	return rs
}

// staticPrefix returns the leading string terms of a ref's path.
func staticPrefix(path ast.Ref) []string {
	var out []string
	for _, t := range stringTerms(path) {
		out = append(out, string(t.Value.(ast.String)))
	}
	return out
}

func stringTerms(path ast.Ref) ast.Ref {
	for i, t := range path {
		if _, ok := t.Value.(ast.String); !ok {
			return path[:i]
		}
	}
	return path
}

// isNondeterministic tells whether op is a builtin whose result may change
// between calls. The engine registers no builtins of its own.
func isNondeterministic(op ast.Ref) bool {
	b, ok := ast.BuiltinMap[op.String()]
	return ok && b.Nondeterministic
}
