package policy

import (
	"context"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"

	"github.com/spaceauthz/spaceauthz/membership"
)

// ReadFilter implements membership.ReadFilterer: the read decision of the
// policy in force as a filter over the candidate spaces of a list, so that a
// store reads the spaces a caller may see and not the whole account.
//
// # How a rule becomes a filter
//
// When a policy is loaded, the engine partially evaluates its violations
// for operation read (OPA's partial evaluation, as package
// v1/rego/compile does it), with the actor, the space and the organization
// unknown and everything else known: no target, no role, no membership,
// and the policy's data. What remains is a set of conditions on the
// unknowns, each one under which a violation fires; a space is readable
// exactly when none holds. For the default policy that is
//
//	input.space.organization_id = input.organization.id
//	input.organization.account_id = input.actor.account_id
//	and one of
//	    input.actor.role = "ADMIN"
//	    input.actor.organization_role.type = "PREDEFINED" and
//	        input.actor.organization_role.name = "ADMIN"
//	    input.space.is_private = false and is_object(input.actor.organization_role)
//	    is_object(input.actor.space_role)
//
// which the engine translates into a membership.Condition. A store plans its
// reads from it (the spaces of the actor's organizations and of their space
// memberships, and the whole account only for an account ADMIN) and tests it
// on each space; pgstore renders it as SQL.
//
// # Which rules keep the fast path
//
// The filter is exact, and no space is decided one by one, when the policy
// has the standard shape (see the package doc) and every expression left
// over reads only the fields of membership.Field with the operators
// ==, =, !=, <, <=, >, >=, startswith, endswith, contains, in (of a
// constant collection, or of a custom role's permissions) and the type
// tests is_object, is_string, is_boolean, is_null and is_array, against
// constant strings, booleans and null, and bare references to those fields
// (input.space.is_private on a line of its own: present and not false). Rules that use data (a set of hidden
// ids, a table of roles) keep it, since the data is known when the policy
// loads. Anything else left over (another builtin such as regex.match or
// lower, a number, a comprehension, a function rule whose argument is
// unknown, a nondeterministic builtin) makes that part of the filter an
// approximation that lets every space through, and each space the rest of
// the filter passes is then decided by the full policy: still correct, but
// a list then costs one decision per candidate space. A policy not in the
// standard shape is decided space by space for the same reason.
func (e *Engine) ReadFilter() membership.ReadFilter {
	return e.policy.Load().readFilter
}

// The input of a read that the filter leaves unknown: what differs from one
// candidate space (or one actor) to the next.
var readUnknowns = []string{"input.actor", "input.space", "input.organization"}

// readFilterOf partially evaluates the violations of a read and translates
// what remains into a filter. standard says whether the policy has the
// standard shape; any failure gives the filter that decides every space.
func readFilterOf(compiler *ast.Compiler, store storage.Store, standard bool) membership.ReadFilter {
	fallback := membership.NewReadFilter(membership.True, false)
	if !standard {
		return fallback
	}
	known := InputDocument(&membership.Facts{Query: membership.Query{Operation: membership.OperationRead}})
	for _, u := range readUnknowns {
		delete(known, u[len("input."):])
	}
	pq, err := rego.New(
		rego.Query("data.spaceauthz.violations[_]"),
		rego.Compiler(compiler),
		rego.Store(store),
		rego.Input(known),
		rego.Unknowns(readUnknowns),
		rego.StrictBuiltinErrors(true),
	).Partial(context.Background())
	if err != nil {
		return fallback
	}
	t := translator{support: map[string][]*ast.Rule{}, exact: true}
	for _, m := range pq.Support {
		for _, r := range m.Rules {
			path := m.Package.Path.String() + "." + r.Head.Ref().String()
			t.support[path] = append(t.support[path], r)
		}
	}
	// A space is readable when no violation fires: under-approximating the
	// violations over-approximates the readable spaces, which is what a
	// filter that is not exact must do.
	violations := make([]membership.Condition, 0, len(pq.Queries))
	for _, q := range pq.Queries {
		violations = append(violations, t.body(q, under))
	}
	return membership.NewReadFilter(membership.Not(membership.Or(violations...)), t.exact)
}

// polarity says which way a part that cannot be translated is approximated:
// a condition that must not hold more often than the truth (under) becomes
// False, one that must not hold less often (over) becomes True.
type polarity bool

const (
	under polarity = false
	over  polarity = true
)

func (p polarity) flip() polarity { return !p }

func (p polarity) unknown() membership.Condition {
	if p == over {
		return membership.True
	}
	return membership.False
}

// translator turns the residue of a partial evaluation into a Condition.
type translator struct {
	// support holds the rules partial evaluation left, by path.
	support map[string][]*ast.Rule
	// depth guards against support rules that refer to each other.
	depth int
	// exact is cleared by the first part that cannot be translated.
	exact bool
}

// untranslatable notes a part that could not be translated.
func (t *translator) untranslatable(p polarity) membership.Condition {
	t.exact = false
	return p.unknown()
}

// body translates a conjunction of expressions.
func (t *translator) body(b ast.Body, p polarity) membership.Condition {
	used := varUses(b)
	parts := make([]membership.Condition, 0, len(b))
	for _, e := range b {
		parts = append(parts, t.expr(e, used, p))
	}
	return membership.And(parts...)
}

// varUses counts the uses of each variable in b.
func varUses(b ast.Body) map[ast.Var]int {
	uses := map[ast.Var]int{}
	ast.WalkVars(b, func(v ast.Var) bool {
		uses[v]++
		return false
	})
	return uses
}

func (t *translator) expr(e *ast.Expr, used map[ast.Var]int, p polarity) membership.Condition {
	if len(e.With) > 0 {
		return t.untranslatable(p)
	}
	inner := p
	if e.Negated {
		inner = p.flip()
	}
	c := t.positive(e, used, inner)
	if !e.Negated {
		return c
	}
	if !e.IsCall() || c.Op != membership.OpAtom || c.Atom.Test == membership.TestEqual {
		// not of a rule (or of an equality) is its complement.
		return membership.Not(c)
	}
	// Rego evaluates the operands of a builtin call before its not: an
	// absent operand fails the expression either way.
	parts := []membership.Condition{membership.Not(c)}
	for _, o := range [2]membership.Operand{c.Atom.Left, c.Atom.Right} {
		if o.Field != membership.FieldNone {
			parts = append(parts, membership.Is(membership.Atom{Test: membership.TestDefined, Left: o}))
		}
	}
	return membership.And(parts...)
}

// positive translates e without its negation.
func (t *translator) positive(e *ast.Expr, used map[ast.Var]int, p polarity) membership.Condition {
	if term, ok := e.Terms.(*ast.Term); ok {
		// A bare reference: a support rule, or a value of the input that
		// must be present and not false.
		if ref, ok := term.Value.(ast.Ref); ok {
			if !ref.HasPrefix(ast.InputRootRef) {
				return t.rule(ref, p)
			}
			o, ok := operand(term, false)
			if !ok {
				return t.untranslatable(p)
			}
			return membership.Is(membership.Atom{Test: membership.TestNotEqual, Left: o, Right: membership.Const(membership.Bool(false))})
		}
		if b, ok := term.Value.(ast.Boolean); ok {
			if b {
				return membership.True
			}
			return membership.False
		}
		return t.untranslatable(p)
	}
	if !e.IsCall() {
		return t.untranslatable(p)
	}
	op := e.Operator().String()
	args := e.Operands()
	// A variable bound to a constant and never read again (the violation
	// object, bound to _): always true.
	if (op == "eq") && len(args) == 2 {
		for i, a := range args {
			if v, ok := a.Value.(ast.Var); ok && used[v] == 1 && ast.IsConstant(args[1-i].Value) {
				return membership.True
			}
		}
	}
	test, ok := tests[op]
	if !ok {
		return t.untranslatable(p)
	}
	want := 2
	if isTypeTest(test) {
		want = 1
	}
	if len(args) != want {
		return t.untranslatable(p)
	}
	var ops [2]membership.Operand
	for i, a := range args {
		o, ok := operand(a, test == membership.TestIn && i == 1)
		if !ok {
			return t.untranslatable(p)
		}
		ops[i] = o
	}
	if !comparable(test, ops) {
		return t.untranslatable(p)
	}
	return membership.Is(membership.Atom{Test: test, Left: ops[0], Right: ops[1]})
}

// rule translates a reference to a support rule: true when one of its
// bodies holds.
func (t *translator) rule(ref ast.Ref, p polarity) membership.Condition {
	rules, ok := t.support[ref.String()]
	if !ok || t.depth > 32 {
		return t.untranslatable(p)
	}
	t.depth++
	defer func() { t.depth-- }()
	bodies := make([]membership.Condition, 0, len(rules))
	for _, r := range rules {
		if len(r.Head.Args) > 0 || r.Else != nil || r.Default || !r.Head.Value.Equal(ast.BooleanTerm(true)) {
			return t.untranslatable(p)
		}
		bodies = append(bodies, t.body(r.Body, p))
	}
	return membership.Or(bodies...)
}

// tests maps the builtins a filter keeps to the tests they become.
var tests = map[string]membership.Test{
	"eq":                membership.TestEqual,
	"equal":             membership.TestEqual,
	"neq":               membership.TestNotEqual,
	"lt":                membership.TestLess,
	"lte":               membership.TestLessEqual,
	"gt":                membership.TestGreater,
	"gte":               membership.TestGreaterEqual,
	"startswith":        membership.TestStartsWith,
	"endswith":          membership.TestEndsWith,
	"contains":          membership.TestContains,
	"internal.member_2": membership.TestIn,
	"is_object":         membership.TestIsObject,
	"is_string":         membership.TestIsString,
	"is_boolean":        membership.TestIsBoolean,
	"is_null":           membership.TestIsNull,
	"is_array":          membership.TestIsArray,
}

func isTypeTest(t membership.Test) bool { return t >= membership.TestDefined }

// operand translates a term: a reference to a field of the input, or a
// constant string, boolean or null (or, as the collection of an in, a
// constant array or set of those).
func operand(term *ast.Term, collection bool) (membership.Operand, bool) {
	switch v := term.Value.(type) {
	case ast.Ref:
		if !v.HasPrefix(ast.InputRootRef) {
			return membership.Operand{}, false
		}
		path := ""
		for i, part := range v[1:] {
			s, ok := part.Value.(ast.String)
			if !ok {
				return membership.Operand{}, false
			}
			if i > 0 {
				path += "."
			}
			path += string(s)
		}
		f := membership.FieldOf(path)
		return membership.Ref(f), f != membership.FieldNone
	case *ast.Array, ast.Set:
		if !collection {
			return membership.Operand{}, false
		}
		var list []membership.Value
		ok := true
		each := func(x *ast.Term) {
			s, isScalar := scalar(x.Value)
			ok = ok && isScalar
			list = append(list, s)
		}
		if a, isArray := v.(*ast.Array); isArray {
			a.Foreach(each)
		} else {
			v.(ast.Set).Foreach(each)
		}
		return membership.Const(membership.Value{Kind: membership.KindList, List: list}), ok
	}
	s, ok := scalar(term.Value)
	return membership.Const(s), ok
}

func scalar(v ast.Value) (membership.Value, bool) {
	switch v := v.(type) {
	case ast.String:
		return membership.String(string(v)), true
	case ast.Boolean:
		return membership.Bool(bool(v)), true
	case ast.Null:
		return membership.Null, true
	}
	return membership.Value{}, false
}

// records are the fields that hold a record rather than a value: a test
// compares them with null or checks their type, never their contents.
var records = map[membership.Field]bool{
	membership.FieldActor: true, membership.FieldSpace: true, membership.FieldOrganization: true,
	membership.FieldOrgRole: true, membership.FieldOrgRoleCustom: true,
	membership.FieldSpaceRole: true, membership.FieldSpaceRoleCustom: true,
}

// comparable reports whether the atom is one a Condition evaluates as Rego
// does: no record compared by its contents, and an in whose collection is
// a list.
func comparable(test membership.Test, ops [2]membership.Operand) bool {
	if isTypeTest(test) {
		return true
	}
	for _, o := range ops {
		if records[o.Field] && !(test == membership.TestEqual || test == membership.TestNotEqual) {
			return false
		}
	}
	if records[ops[0].Field] && records[ops[1].Field] {
		return false
	}
	if records[ops[0].Field] || records[ops[1].Field] {
		// A record against a constant: Rego compares by type first, and
		// no constant here is a record.
		return ops[0].Field == membership.FieldNone || ops[1].Field == membership.FieldNone
	}
	switch test {
	case membership.TestStartsWith, membership.TestEndsWith, membership.TestContains:
		// On anything but two strings these builtins fail, and the
		// decision with them: only the per-space decision says so.
		return holdsString(ops[0]) && holdsString(ops[1])
	case membership.TestIn:
		r := ops[1]
		return r.Field == membership.FieldOrgRoleCustomPermissions || r.Field == membership.FieldSpaceRoleCustomPermissions ||
			r.Field == membership.FieldNone && r.Value.Kind == membership.KindList
	}
	return true
}

// holdsString reports whether o is a string whenever it is present.
func holdsString(o membership.Operand) bool {
	if o.Field == membership.FieldNone {
		return o.Value.Kind == membership.KindString
	}
	return o.Field.IsString()
}
