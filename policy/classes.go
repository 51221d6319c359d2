package policy

import (
	"maps"

	"github.com/open-policy-agent/opa/v1/ast"
)

// classifyIDs finds the ids of the input document whose values cannot
// change a decision of the compiled policy, only which of them are equal:
// ids that the policy uses in no other way than
//
//   - comparing them with == or != (or unifying them) with other such ids,
//   - checking that they are defined, null, or of some type.
//
// Any other use keeps an id's raw value in the key: a comparison with a
// constant or a computed value, a lookup (data.x[input.space.id]), an
// argument of a builtin (startswith, sprintf, <), a value in a rule's head
// (so in the decision or a violation's detail), a member of a composite
// that is compared or returned, a `with` on input. Values are followed
// through variables, function arguments, collections and comprehension
// bodies; wherever the analysis cannot tell, it keeps raw values.
//
// It is a flow analysis over the compiled modules: every variable of every
// rule gets the set of input nodes its value may be (or "something else"),
// iterated to a fixed point, since a function's arguments come from its
// callers. Then an id compared with a raw id becomes raw too.
//
// On the way it finds which nodes of the input each rule observes: the
// nodes its references reach (an object's presence, a leaf's value), and
// whole subtrees where a value leaves the analysis. That is finer than the
// static prefixes of references: a rule that binds input.target.organization_role
// to a variable and only checks is_object of it observes the object's
// presence, not its members.
//
// The analysis covers the given rules, which must include every rule they
// refer to (see readsOf): a function's parameters then take only what
// these rules pass, so the analysis of one violation rule is not blurred by
// what other rules pass to a function they share.
func classifyIDs(compiler *ast.Compiler, rules []*ast.Rule) *idFlow {
	fl := &flow{
		compiler: compiler,
		env:      map[*ast.Rule]map[ast.Var]*absVal{},
		raw:      map[*schemaNode]bool{},
		links:    map[[2]*schemaNode]bool{},
		observed: map[*ast.Rule]map[*schemaNode]bool{},
	}
	fl.within = make(map[*ast.Rule]bool, len(rules))
	for _, r := range rules {
		fl.within[r] = true
	}
	for {
		before := fl.size()
		for _, r := range rules {
			fl.rule(r)
		}
		if fl.size() == before {
			break
		}
	}
	classed := map[*schemaNode]bool{}
	result := &idFlow{classed: classed, observed: fl.observed, exact: !fl.off}
	if fl.off {
		return result
	}
	// An id compared with a raw id is raw: its class alone cannot tell
	// whether it equals that value.
	for changed := true; changed; {
		changed = false
		for l := range fl.links {
			if fl.raw[l[0]] != fl.raw[l[1]] {
				fl.raw[l[0]], fl.raw[l[1]] = true, true
				changed = true
			}
		}
	}
	inputSchema.each(func(n *schemaNode) {
		if n.kind == kindID && !fl.raw[n] {
			classed[n] = true
		}
	})
	return result
}

// idFlow is what classifyIDs found.
type idFlow struct {
	// classed are the ids written to keys as equality classes.
	classed map[*schemaNode]bool
	// observed are, per rule, the nodes whose state or value the rule can
	// observe; exact is false when the analysis could not follow the
	// input (a `with` replaces it), and then only static prefixes count.
	observed map[*ast.Rule]map[*schemaNode]bool
	exact    bool
}

// nodes returns the nodes that the rules can observe, or nil when that is
// not known exactly.
func (r *idFlow) nodes(rules []*ast.Rule) map[*schemaNode]bool {
	if !r.exact {
		return nil
	}
	out := map[*schemaNode]bool{}
	for _, rule := range rules {
		for n := range r.observed[rule] {
			out[n] = true
		}
	}
	return out
}

// absVal is what the analysis knows of a value: the input nodes it may be,
// whether it may be something else, and, for a collection built in the
// policy, what its elements may be.
type absVal struct {
	nodes map[*schemaNode]bool
	// other: the value may be a constant, data, or a computed value.
	other bool
	// null: the value may be the literal null.
	null  bool
	elems *absVal
}

var otherVal = &absVal{other: true}

func nodeVal(n *schemaNode) *absVal { return &absVal{nodes: map[*schemaNode]bool{n: true}} }

// merge adds what b may be to a, and says how much a grew.
func (a *absVal) merge(b *absVal) int {
	if b == nil {
		return 0
	}
	grew := 0
	for n := range b.nodes {
		if !a.nodes[n] {
			if a.nodes == nil {
				a.nodes = map[*schemaNode]bool{}
			}
			a.nodes[n] = true
			grew++
		}
	}
	if b.other && !a.other {
		a.other = true
		grew++
	}
	if b.null && !a.null {
		a.null = true
		grew++
	}
	if b.elems != nil {
		if a.elems == nil {
			a.elems = &absVal{}
			grew++
		}
		grew += a.elems.merge(b.elems)
	}
	return grew
}

func (a *absVal) size() int {
	if a == nil {
		return 0
	}
	n := len(a.nodes)
	if a.other {
		n++
	}
	if a.null {
		n++
	}
	if a.elems != nil {
		n += 1 + a.elems.size()
	}
	return n
}

// onlyNull tells whether the value can be nothing but the literal null.
func (a *absVal) onlyNull() bool {
	return a.null && !a.other && len(a.nodes) == 0 && a.elems == nil
}

type flow struct {
	compiler *ast.Compiler
	// env holds, per rule, what each variable may be.
	env map[*ast.Rule]map[ast.Var]*absVal
	// raw are the ids whose values the policy looks at.
	raw map[*schemaNode]bool
	// links are pairs of ids the policy compares.
	links map[[2]*schemaNode]bool
	// off is set by a `with` that replaces input: nothing is classed.
	off bool
	// observed are the nodes each rule observes, and cur the rule walked.
	observed map[*ast.Rule]map[*schemaNode]bool
	cur      *ast.Rule
	// within are the rules analysed.
	within map[*ast.Rule]bool
}

// observe records that the rule being walked observes n (its presence, or
// its value for a leaf); subtree adds everything below n.
func (fl *flow) observe(n *schemaNode, subtree bool) {
	seen := fl.observed[fl.cur]
	if seen == nil {
		seen = map[*schemaNode]bool{}
		fl.observed[fl.cur] = seen
	}
	if !subtree {
		seen[n] = true
		return
	}
	n.each(func(k *schemaNode) { seen[k] = true })
}

func (fl *flow) size() int {
	n := len(fl.raw) + len(fl.links)
	for _, vars := range fl.env {
		for _, v := range vars {
			n += v.size()
		}
	}
	if fl.off {
		n++
	}
	for _, seen := range fl.observed {
		n += len(seen)
	}
	return n
}

// bound is the set of variables bound so far in a body.
type bound map[ast.Var]bool

func (fl *flow) vars(r *ast.Rule) map[ast.Var]*absVal {
	vars := fl.env[r]
	if vars == nil {
		vars = map[ast.Var]*absVal{}
		fl.env[r] = vars
	}
	return vars
}

// bindVar adds val to what v of rule r may be.
func (fl *flow) bindVar(r *ast.Rule, v ast.Var, val *absVal) {
	vars := fl.vars(r)
	if vars[v] == nil {
		vars[v] = &absVal{}
	}
	vars[v].merge(val)
}

func (fl *flow) rule(r *ast.Rule) {
	fl.cur = r
	b := bound{}
	for _, a := range r.Head.Args {
		if v, ok := a.Value.(ast.Var); ok {
			b[v] = true
		}
	}
	fl.body(r, r.Body, b)
	// Whatever a rule produces leaves the analysis: its key, its value, and
	// the variables of a reference head.
	if r.Head.Key != nil {
		fl.escape(fl.term(r, r.Head.Key, b))
	}
	if r.Head.Value != nil {
		fl.escape(fl.term(r, r.Head.Value, b))
	}
	for _, t := range r.Head.Reference[1:] {
		if _, ok := t.Value.(ast.String); !ok {
			fl.escape(fl.term(r, t, b))
		}
	}
}

func (fl *flow) body(r *ast.Rule, body ast.Body, b bound) {
	for _, e := range body {
		fl.expr(r, e, b)
	}
}

func (fl *flow) expr(r *ast.Rule, e *ast.Expr, b bound) {
	for _, w := range e.With {
		if ref, ok := w.Target.Value.(ast.Ref); ok && ref[0].Equal(ast.InputRootDocument) {
			fl.off = true
		}
		fl.escape(fl.term(r, w.Value, b))
	}
	switch ts := e.Terms.(type) {
	case *ast.Term:
		// A term alone tests that its value is defined and not false: ids
		// and objects always pass, so the test reveals nothing of them.
		fl.term(r, ts, b)
	case []*ast.Term:
		fl.call(r, ts, b)
	case *ast.Every:
		dom := fl.term(r, ts.Domain, b)
		inner := maps.Clone(b)
		if ts.Key != nil {
			fl.unify(r, ts.Key, otherVal, inner)
		}
		fl.unify(r, ts.Value, fl.elements(dom), inner)
		fl.body(r, ts.Body, inner)
	default:
		// A form the compiler should have rewritten: it may touch
		// anything, so keep every value raw and observed.
		fl.escape(nodeVal(inputSchema))
		ast.WalkTerms(e, func(t *ast.Term) bool {
			if v, ok := t.Value.(ast.Var); ok {
				fl.escape(fl.vars(r)[v])
			}
			return false
		})
	}
}

// Builtins that look only at a value's type, which a key keeps.
var typeChecks = map[string]bool{
	"is_string": true, "is_null": true, "is_object": true, "is_array": true,
	"is_set": true, "is_number": true, "is_boolean": true, "type_name": true,
}

func (fl *flow) call(r *ast.Rule, terms []*ast.Term, b bound) {
	op, ok := terms[0].Value.(ast.Ref)
	args := terms[1:]
	if !ok {
		fl.escapeAll(r, args, b)
		return
	}
	name := op.String()
	switch {
	case name == ast.Equality.Name: // = and :=, unification
		fl.unifyTerms(r, args[0], args[1], b)
		return
	case name == ast.Equal.Name || name == ast.NotEqual.Name:
		fl.compare(fl.term(r, args[0], b), fl.term(r, args[1], b))
		fl.outputs(r, args[2:], b)
		return
	case name == ast.Member.Name: // x in xs
		fl.unify(r, args[0], fl.elements(fl.term(r, args[1], b)), b)
		fl.outputs(r, args[2:], b)
		return
	case name == ast.MemberWithKey.Name: // k, x in xs
		coll := fl.term(r, args[2], b)
		fl.unify(r, args[0], otherVal, b)
		fl.unify(r, args[1], fl.elements(coll), b)
		fl.outputs(r, args[3:], b)
		return
	case typeChecks[name]:
		for _, a := range args[:1] {
			fl.term(r, a, b)
		}
		fl.outputs(r, args[1:], b)
		return
	}
	if bi, ok := ast.BuiltinMap[name]; ok {
		n := min(len(bi.Decl.FuncArgs().Args), len(args))
		fl.escapeAll(r, args[:n], b)
		fl.outputs(r, args[n:], b)
		return
	}
	rules := fl.compiler.GetRulesExact(op)
	if len(rules) == 0 {
		fl.escapeAll(r, args, b)
		return
	}
	// A function of the policy: its parameters take what its callers pass.
	n := len(rules[0].Head.Args)
	vals := make([]*absVal, min(n, len(args)))
	for i := range vals {
		vals[i] = fl.term(r, args[i], b)
	}
	for _, fr := range rules {
		for ; fr != nil; fr = fr.Else {
			if !fl.within[fr] {
				// Not among the rules analysed: the closure was not
				// complete. Keep everything passed raw.
				for _, v := range vals {
					fl.escape(v)
				}
				continue
			}
			for i, param := range fr.Head.Args {
				if i >= len(vals) {
					break
				}
				if v, ok := param.Value.(ast.Var); ok {
					fl.bindVar(fr, v, vals[i])
				} else {
					fl.compare(vals[i], fl.term(fr, param, bound{}))
				}
			}
		}
	}
	fl.outputs(r, args[min(n, len(args)):], b)
}

// outputs binds the output arguments of a call to computed values.
func (fl *flow) outputs(r *ast.Rule, args []*ast.Term, b bound) {
	for _, a := range args {
		fl.unify(r, a, otherVal, b)
	}
}

func (fl *flow) escapeAll(r *ast.Rule, args []*ast.Term, b bound) {
	for _, a := range args {
		if v, ok := a.Value.(ast.Var); ok && !b[v] {
			fl.unify(r, a, otherVal, b)
			continue
		}
		fl.escape(fl.term(r, a, b))
	}
}

// unifyTerms handles x = y: a binding when one side is an unbound
// variable, a comparison otherwise.
func (fl *flow) unifyTerms(r *ast.Rule, x, y *ast.Term, b bound) {
	if v, ok := x.Value.(ast.Var); ok && !b[v] {
		fl.unify(r, x, fl.term(r, y, b), b)
		return
	}
	if v, ok := y.Value.(ast.Var); ok && !b[v] {
		fl.unify(r, y, fl.term(r, x, b), b)
		return
	}
	if hasUnbound(x, b) || hasUnbound(y, b) {
		// Destructuring: [a, b] = input.x. Keep it simple and raw.
		fl.escape(fl.term(r, x, b))
		fl.escape(fl.term(r, y, b))
		fl.bindUnbound(r, x, b)
		fl.bindUnbound(r, y, b)
		return
	}
	fl.compare(fl.term(r, x, b), fl.term(r, y, b))
}

// unify gives target (an unbound variable, or anything else to compare
// with) the value val.
func (fl *flow) unify(r *ast.Rule, target *ast.Term, val *absVal, b bound) {
	if v, ok := target.Value.(ast.Var); ok {
		if !b[v] {
			b[v] = true
			fl.bindVar(r, v, val)
			return
		}
		fl.compare(fl.vars(r)[v], val)
		return
	}
	if hasUnbound(target, b) {
		fl.escape(val)
		fl.bindUnbound(r, target, b)
		return
	}
	fl.compare(fl.term(r, target, b), val)
}

func (fl *flow) bindUnbound(r *ast.Rule, t *ast.Term, b bound) {
	ast.WalkVars(t, func(v ast.Var) bool {
		if !b[v] && !v.Equal(ast.InputRootDocument.Value) && !v.Equal(ast.DefaultRootDocument.Value) {
			b[v] = true
			fl.bindVar(r, v, otherVal)
		}
		return false
	})
}

func hasUnbound(t *ast.Term, b bound) bool {
	found := false
	ast.WalkVars(t, func(v ast.Var) bool {
		if !b[v] && !v.Equal(ast.InputRootDocument.Value) && !v.Equal(ast.DefaultRootDocument.Value) {
			found = true
		}
		return found
	})
	return found
}

// compare records that the policy compares x with y for equality.
func (fl *flow) compare(x, y *absVal) {
	if x == nil || y == nil {
		return
	}
	fl.compareSide(x, y)
	fl.compareSide(y, x)
}

func (fl *flow) compareSide(x, y *absVal) {
	onlyIDs := !y.other && y.elems == nil
	for m := range y.nodes {
		if m.kind != kindID {
			onlyIDs = false
		}
	}
	for n := range x.nodes {
		switch {
		case n.kind == kindObject:
			if !y.onlyNull() {
				fl.escape(nodeVal(n))
			}
		case n.kind != kindID:
		case !onlyIDs:
			fl.raw[n] = true
		default:
			for m := range y.nodes {
				fl.links[[2]*schemaNode{n, m}] = true
			}
		}
	}
	if x.elems != nil {
		fl.escape(x.elems)
	}
}

// escape makes raw every id that val may be or hold.
func (fl *flow) escape(val *absVal) {
	if val == nil {
		return
	}
	for n := range val.nodes {
		fl.observe(n, true)
		n.each(func(id *schemaNode) {
			if id.kind == kindID {
				fl.raw[id] = true
			}
		})
	}
	fl.escape(val.elems)
}

// elements is what iterating over val yields.
func (fl *flow) elements(val *absVal) *absVal { return fl.children(val, "") }

// member is the value of val.name.
func (fl *flow) member(val *absVal, name string) *absVal { return fl.children(val, name) }

// children is what val.name may be, or with an empty name, any member or
// element of val. Indexing an id is always undefined, but the analysis
// keeps that id raw rather than reason about it.
func (fl *flow) children(val *absVal, name string) *absVal {
	out := &absVal{other: val.other}
	for n := range val.nodes {
		switch n.kind {
		case kindObject:
			for _, k := range n.kids {
				if name == "" || k.name == name {
					fl.observe(k, false)
					out.merge(nodeVal(k))
				}
			}
		case kindID:
			fl.raw[n] = true
			out.other = true
		default:
			out.other = true
		}
	}
	out.merge(val.elems)
	return out
}

// term returns what the value of t may be, handling the uses inside it
// (the keys of references, comprehension bodies) on the way.
func (fl *flow) term(r *ast.Rule, t *ast.Term, b bound) *absVal {
	switch v := t.Value.(type) {
	case ast.Var:
		switch {
		case v.Equal(ast.InputRootDocument.Value):
			fl.observe(inputSchema, false)
			return nodeVal(inputSchema)
		case v.Equal(ast.DefaultRootDocument.Value):
			return otherVal
		}
		if val := fl.vars(r)[v]; val != nil {
			return val
		}
		return &absVal{}
	case ast.Ref:
		return fl.ref(r, v, b)
	case ast.Null:
		return &absVal{null: true}
	case *ast.Array:
		out := &absVal{elems: &absVal{}}
		v.Foreach(func(e *ast.Term) { out.elems.merge(fl.term(r, e, b)) })
		return out
	case ast.Set:
		out := &absVal{elems: &absVal{}}
		v.Foreach(func(e *ast.Term) { out.elems.merge(fl.term(r, e, b)) })
		return out
	case ast.Object:
		out := &absVal{elems: &absVal{}}
		v.Foreach(func(k, e *ast.Term) {
			fl.escape(fl.term(r, k, b))
			out.elems.merge(fl.term(r, e, b))
		})
		return out
	case *ast.ArrayComprehension:
		inner := maps.Clone(b)
		fl.body(r, v.Body, inner)
		fl.escape(fl.term(r, v.Term, inner))
		return otherVal
	case *ast.SetComprehension:
		inner := maps.Clone(b)
		fl.body(r, v.Body, inner)
		fl.escape(fl.term(r, v.Term, inner))
		return otherVal
	case *ast.ObjectComprehension:
		inner := maps.Clone(b)
		fl.body(r, v.Body, inner)
		fl.escape(fl.term(r, v.Key, inner))
		fl.escape(fl.term(r, v.Value, inner))
		return otherVal
	case ast.Call:
		fl.escapeAll(r, v[1:], b)
		return otherVal
	}
	return otherVal
}

// ref follows a reference from its head through its path.
func (fl *flow) ref(r *ast.Rule, ref ast.Ref, b bound) *absVal {
	cur := fl.term(r, ref[0], b)
	fromData := ref[0].Value.Compare(ast.DefaultRootDocument.Value) == 0
	for _, seg := range ref[1:] {
		if s, ok := seg.Value.(ast.String); ok {
			cur = fl.member(cur, string(s))
			continue
		}
		// A key that is not a constant: iteration when it is an unbound
		// variable, otherwise a lookup by a value, which looks at it.
		if v, ok := seg.Value.(ast.Var); ok && !b[v] {
			fl.unify(r, seg, otherVal, b)
		} else {
			fl.escape(fl.term(r, seg, b))
		}
		cur = fl.elements(cur)
	}
	if fromData {
		return otherVal
	}
	return cur
}
