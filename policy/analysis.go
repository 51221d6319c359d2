package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// readSet is what static analysis of a compiled policy finds out for the
// decision cache: the input paths the policy can read, and whether its
// decision can change between two evaluations of the same input.
type readSet struct {
	// paths are the static prefixes of every reference to input, relative
	// to input; an empty path means the whole input document.
	paths [][]string
	// nondeterministic is set when the policy calls a builtin whose result
	// may differ between calls (time, randomness, network).
	nondeterministic bool
}

// analyse walks every compiled module. A reference such as
// input.actor.organization_role[x].id counts as a read of its static prefix
// (input.actor.organization_role), so the key covers everything under it;
// a bare input counts as a read of the whole document.
func analyse(compiler *ast.Compiler) readSet {
	var rs readSet
	var vis *ast.GenericVisitor
	vis = ast.NewGenericVisitor(func(x any) bool {
		switch x := x.(type) {
		case ast.Ref:
			if x[0].Equal(ast.InputRootDocument) {
				rs.paths = append(rs.paths, staticPrefix(x[1:]))
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
	for _, m := range compiler.Modules {
		vis.Walk(m)
	}
	return rs
}

// staticPrefix returns the leading string terms of a ref's path.
func staticPrefix(path ast.Ref) []string {
	var out []string
	for _, t := range path {
		s, ok := t.Value.(ast.String)
		if !ok {
			break
		}
		out = append(out, string(s))
	}
	return out
}

// isNondeterministic tells whether op is a builtin whose result may change
// between calls. The engine registers no builtins of its own.
func isNondeterministic(op ast.Ref) bool {
	b, ok := ast.BuiltinMap[op.String()]
	return ok && b.Nondeterministic
}
