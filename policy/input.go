package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
	"runtime"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The input document is built as an ast.Value straight from the typed
// facts, by a walk of inputSchema: no maps, no JSON, no reflection.

// inputValue builds the input document of f (see the package doc).
func inputValue(f *membership.Facts) ast.Value {
	return inputSchema.term(f).Value
}

// term returns the value of n in the input document of f, or nil when it is
// undefined there.
func (n *schemaNode) term(f *membership.Facts) *ast.Term {
	v := n.read(f)
	switch v.state {
	case undefined:
		return nil
	case null:
		if n.kind == kindObject {
			// A missing record costs what a present one does, so that the
			// time a decision takes does not tell whether it exists.
			runtime.KeepAlive(n.placeholder(3))
		}
		return ast.NullTerm()
	}
	switch n.kind {
	case kindObject:
		items := make([][2]*ast.Term, 0, len(n.kids))
		for _, k := range n.kids {
			if t := k.term(f); t != nil {
				items = append(items, ast.Item(ast.InternedTerm(k.name), t))
			}
		}
		return ast.ObjectTerm(items...)
	case kindEnum:
		return ast.InternedTerm(v.text)
	case kindBool:
		return ast.InternedTerm(v.flag)
	case kindStrings:
		list := make([]*ast.Term, len(v.list))
		for i, s := range v.list {
			list[i] = ast.StringTerm(string(s))
		}
		return ast.ArrayTerm(list...)
	}
	return ast.StringTerm(v.text)
}

// placeholder builds an object of n's shape, its leaves empty, down to
// depth levels of objects: about the work of building a present record
// (a target with its organization role and that role's custom role).
func (n *schemaNode) placeholder(depth int) *ast.Term {
	items := make([][2]*ast.Term, 0, len(n.kids))
	for _, k := range n.kids {
		switch {
		case k.kind != kindObject:
			items = append(items, ast.Item(ast.InternedTerm(k.name), ast.StringTerm("")))
		case depth > 1:
			items = append(items, ast.Item(ast.InternedTerm(k.name), k.placeholder(depth-1)))
		}
	}
	return ast.ObjectTerm(items...)
}

// InputDocument returns the input document the engine evaluates for f, as
// plain JSON values (map[string]any, []any, string, bool, nil). Use it to
// look at what a policy sees, to feed `opa eval`, or to build test inputs.
func InputDocument(f *membership.Facts) map[string]any {
	doc, err := ast.JSON(inputValue(f))
	if err != nil {
		// inputValue builds only objects, arrays, strings, booleans and null,
		// which ast.JSON always converts.
		panic("policy: input document: " + err.Error())
	}
	return doc.(map[string]any)
}
