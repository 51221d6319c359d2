package pgstore

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spaceauthz/spaceauthz/membership"
)

// A membership.Condition becomes a boolean SQL expression over the row of
// one candidate space: the actor (alias a), the space (sp), its
// organization (org), the actor's membership of the organization (om) and
// of the space (sm), and the custom roles those name (omr, smr). The
// expression is exactly Atom.Holds, never NULL: each field is described by
// the kinds of value it may hold and the SQL that says when it holds each,
// and an atom is the disjunction, over the kinds its operands may have, of
// the test on values of those kinds. A test whose outcome the kinds alone
// decide (values of different kinds, nulls, records) is decided while
// rendering; constants are bind parameters.

// fieldSQL describes one field: the SQL of its value when present (empty
// for a record) and of the tests that it is present or null. A field that
// is neither is absent.
type fieldSQL struct {
	kind    membership.ValueKind
	value   string
	present string
	null    string // empty when the field is never null
}

// grantFields describes the fields of a grant whose membership is joined as
// m and whose custom role as r.
func grantFields(m, r string) [membership.FieldOrgRoleCustomPermissions - membership.FieldOrgRole + 1]fieldSQL {
	held := m + ".user_id IS NOT NULL"
	found := r + ".id IS NOT NULL"
	return [...]fieldSQL{
		{kind: membership.KindObject, present: held, null: "a.id IS NOT NULL AND " + m + ".user_id IS NULL"},
		{kind: membership.KindString, value: "CASE WHEN " + m + ".custom_role_id IS NULL THEN 'PREDEFINED' ELSE 'CUSTOM' END", present: held},
		{kind: membership.KindString, value: m + ".predefined_role", present: m + ".predefined_role IS NOT NULL"},
		{kind: membership.KindString, value: m + ".custom_role_id", present: m + ".custom_role_id IS NOT NULL"},
		{kind: membership.KindObject, present: found, null: m + ".custom_role_id IS NOT NULL AND " + r + ".id IS NULL"},
		{kind: membership.KindString, value: r + ".id", present: found},
		{kind: membership.KindString, value: r + ".account_id", present: found},
		{kind: membership.KindString, value: r + ".name", present: found},
		{kind: membership.KindList, value: r + ".permissions", present: found},
	}
}

// fields describes every membership.Field, indexed by it.
var fields = func() map[membership.Field]fieldSQL {
	str := func(col, record string) fieldSQL {
		return fieldSQL{kind: membership.KindString, value: col, present: record + ".id IS NOT NULL"}
	}
	record := func(alias string) fieldSQL {
		return fieldSQL{kind: membership.KindObject, present: alias + ".id IS NOT NULL", null: alias + ".id IS NULL"}
	}
	m := map[membership.Field]fieldSQL{
		membership.FieldActor:                 record("a"),
		membership.FieldActorID:               str("a.id", "a"),
		membership.FieldActorAccountID:        str("a.account_id", "a"),
		membership.FieldActorName:             str("a.name", "a"),
		membership.FieldActorEmail:            str("a.email", "a"),
		membership.FieldActorRole:             str("a.role", "a"),
		membership.FieldSpace:                 record("sp"),
		membership.FieldSpaceID:               str("sp.id", "sp"),
		membership.FieldSpaceOrganizationID:   str("sp.organization_id", "sp"),
		membership.FieldSpaceName:             str("sp.name", "sp"),
		membership.FieldSpaceIsPrivate:        {kind: membership.KindBool, value: "sp.is_private", present: "sp.id IS NOT NULL"},
		membership.FieldOrganization:          record("org"),
		membership.FieldOrganizationID:        str("org.id", "org"),
		membership.FieldOrganizationAccountID: str("org.account_id", "org"),
		membership.FieldOrganizationName:      str("org.name", "org"),
	}
	for i, f := range grantFields("om", "omr") {
		m[membership.FieldOrgRole+membership.Field(i)] = f
	}
	for i, f := range grantFields("sm", "smr") {
		m[membership.FieldSpaceRole+membership.Field(i)] = f
	}
	return m
}()

// params collects the bind parameters of a statement; fields, when set,
// describes the fields in place of the package's fields.
type params struct {
	args   []any
	fields map[membership.Field]fieldSQL
}

// sourceMemberFields describes the fields for the membership condition of
// a source of the actor's organization memberships: the grant is the
// membership src (its custom role srcr) that the source walks.
var sourceMemberFields = func() map[membership.Field]fieldSQL {
	m := make(map[membership.Field]fieldSQL, len(fields))
	for f, sql := range fields {
		m[f] = sql
	}
	for i, f := range grantFields("src", "srcr") {
		m[membership.FieldOrgRole+membership.Field(i)] = f
	}
	return m
}()

// add binds v and returns its placeholder, cast to the SQL type.
func (p *params) add(v any, sqlType string) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args)) + "::" + sqlType
}

// renderCondition returns c as SQL, binding its constants to p.
func renderCondition(c membership.Condition, p *params) (string, error) {
	switch c.Op {
	case membership.OpFalse:
		return "FALSE", nil
	case membership.OpTrue:
		return "TRUE", nil
	case membership.OpAnd, membership.OpOr:
		if len(c.Of) == 0 {
			return strconv.FormatBool(c.Op == membership.OpAnd), nil
		}
		sep := " AND "
		if c.Op == membership.OpOr {
			sep = " OR "
		}
		parts := make([]string, len(c.Of))
		for i, x := range c.Of {
			s, err := renderCondition(x, p)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "(" + strings.Join(parts, sep) + ")", nil
	case membership.OpAtom:
		return renderAtom(c.Atom, p)
	}
	return "", fmt.Errorf("pgstore: condition of unknown kind %d", c.Op)
}

// renderAtom returns the SQL of a: false wherever a test of an absent value
// would be, before the negation.
func renderAtom(a membership.Atom, p *params) (string, error) {
	left, err := statesOf(a.Left, p)
	if err != nil {
		return "", err
	}
	right, err := statesOf(a.Right, p)
	if err != nil {
		return "", err
	}
	var cases []string
	if isTypeTest(a.Test) {
		// A type test (TestDefined among them) reads Left alone.
		right = []state{{kind: membership.KindNull, constant: &membership.Null}}
	}
	for _, l := range left {
		for _, r := range right {
			test, err := renderTest(a.Test, l, r, p)
			if err != nil {
				return "", err
			}
			if test == "FALSE" {
				continue
			}
			cases = append(cases, conjunction(l.when, r.when, test))
		}
	}
	holds := "FALSE"
	switch len(cases) {
	case 0:
	case 1:
		holds = "COALESCE(" + cases[0] + ", FALSE)"
	default:
		holds = "COALESCE(" + strings.Join(cases, " OR ") + ", FALSE)"
	}
	if a.Negated {
		return "NOT " + holds, nil
	}
	return holds, nil
}

// A state is one kind of value an operand may have, with the SQL of when it
// has it (empty for always) and of the value; a constant carries itself.
type state struct {
	kind     membership.ValueKind
	when     string
	value    string
	constant *membership.Value
}

// statesOf returns the states an operand may be in besides absent.
func statesOf(o membership.Operand, p *params) ([]state, error) {
	if o.Field == membership.FieldNone {
		if o.Value.Kind == membership.KindAbsent {
			return nil, nil
		}
		v := o.Value
		return []state{{kind: v.Kind, constant: &v}}, nil
	}
	described := fields
	if p.fields != nil {
		described = p.fields
	}
	f, ok := described[o.Field]
	if !ok {
		return nil, fmt.Errorf("pgstore: condition reads unknown field %d", o.Field)
	}
	out := []state{{kind: f.kind, when: f.present, value: f.value}}
	if f.null != "" {
		out = append(out, state{kind: membership.KindNull, when: f.null})
	}
	return out, nil
}

// isTypeTest reports whether t reads Left alone, and only its kind.
func isTypeTest(t membership.Test) bool {
	switch t {
	case membership.TestDefined, membership.TestIsObject, membership.TestIsString, membership.TestIsBoolean, membership.TestIsNull, membership.TestIsArray:
		return true
	}
	return false
}

// conjunction joins the non-empty conditions with AND.
func conjunction(parts ...string) string {
	var out []string
	for _, s := range parts {
		if s != "" && s != "TRUE" {
			out = append(out, s)
		}
	}
	switch len(out) {
	case 0:
		return "TRUE"
	case 1:
		return out[0]
	}
	return "(" + strings.Join(out, " AND ") + ")"
}

// decided returns the SQL constant of an outcome decided while rendering.
func decided(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// sample is a value of the state's kind: the state itself for a constant,
// any value of the kind for a field, for a test whose outcome does not
// depend on the value.
func (s state) sample() membership.Value {
	if s.constant != nil {
		return *s.constant
	}
	return membership.Value{Kind: s.kind}
}

// holdsOn evaluates the test, unnegated, as membership does, on values.
func holdsOn(t membership.Test, l, r membership.Value) bool {
	return membership.Is(membership.Atom{Test: t, Left: membership.Const(l), Right: membership.Const(r)}).Holds(&membership.Facts{})
}

// valueDependent reports whether a value of kind k compares by its value
// rather than by its kind alone.
func valueDependent(k membership.ValueKind) bool {
	return k == membership.KindBool || k == membership.KindString || k == membership.KindList
}

// renderTest returns the SQL of the test on operands in states l and r:
// "TRUE" or "FALSE" when the states decide it.
func renderTest(t membership.Test, l, r state, p *params) (string, error) {
	if isTypeTest(t) || l.constant != nil && r.constant != nil {
		return decided(holdsOn(t, l.sample(), r.sample())), nil
	}
	switch t {
	case membership.TestEqual, membership.TestNotEqual, membership.TestLess, membership.TestLessEqual, membership.TestGreater, membership.TestGreaterEqual:
		if l.kind != r.kind || !valueDependent(l.kind) {
			return decided(holdsOn(t, l.sample(), r.sample())), nil
		}
		return renderComparison(t, l, r, p), nil
	case membership.TestStartsWith, membership.TestEndsWith, membership.TestContains:
		if l.kind != membership.KindString || r.kind != membership.KindString {
			return "FALSE", nil
		}
		ls, rs := l.sql(p), r.sql(p)
		switch t {
		case membership.TestStartsWith:
			return "left(" + ls + ", char_length(" + rs + ")) COLLATE \"C\" = " + rs, nil
		case membership.TestEndsWith:
			return "right(" + ls + ", char_length(" + rs + ")) COLLATE \"C\" = " + rs, nil
		}
		return "strpos(" + ls + ", " + rs + ") > 0", nil
	case membership.TestIn:
		return renderIn(l, r, p), nil
	}
	return "", fmt.Errorf("pgstore: condition with unknown test %d", t)
}

// sql returns the SQL of the state's value, binding a constant.
func (s state) sql(p *params) string {
	if s.constant == nil {
		return s.value
	}
	v := *s.constant
	switch v.Kind {
	case membership.KindBool:
		return p.add(v.Bool, "boolean")
	case membership.KindString:
		return p.add(v.Str, "text")
	case membership.KindList:
		if strs, ok := stringList(v.List); ok {
			return p.add(strs, "text[]")
		}
	}
	panic(fmt.Sprintf("pgstore: no SQL for a constant of kind %d", v.Kind)) // the callers rule it out
}

// stringList returns the items of a list of strings.
func stringList(list []membership.Value) ([]string, bool) {
	out := make([]string, len(list))
	for i, v := range list {
		if v.Kind != membership.KindString {
			return nil, false
		}
		out[i] = v.Str
	}
	return out, true
}

var comparisonOps = map[membership.Test]string{
	membership.TestEqual: "=", membership.TestNotEqual: "<>", membership.TestLess: "<",
	membership.TestLessEqual: "<=", membership.TestGreater: ">", membership.TestGreaterEqual: ">=",
}

// renderComparison compares two values of one kind (a boolean, a string or
// a list of strings, at least one of them a field) by value; strings byte
// by byte.
func renderComparison(t membership.Test, l, r state, p *params) string {
	op := comparisonOps[t]
	if l.kind == membership.KindList {
		// A field list holds only strings; a constant list may hold
		// anything, and then orders against it at its first item that is
		// not a string.
		for _, s := range [2]state{l, r} {
			if s.constant != nil {
				if _, ok := stringList(s.constant.List); !ok {
					return renderMixedListComparison(op, l, r, p)
				}
			}
		}
	}
	collate := ""
	if l.kind != membership.KindBool {
		collate = ` COLLATE "C"`
	}
	return l.sql(p) + collate + " " + op + " " + r.sql(p)
}

// renderMixedListComparison compares a field that holds a list of strings
// with a constant list that holds something else too, as membership orders
// lists: item by item, then by length, a string before a list or a record
// and after a null or a boolean.
func renderMixedListComparison(op string, l, r state, p *params) string {
	field, constant, flip := l, r, false
	if l.constant != nil {
		field, constant, flip = r, l, true
	}
	items := constant.constant.List
	k := 0
	for k < len(items) && items[k].Kind == membership.KindString {
		k++
	}
	prefix := make([]string, k)
	for i := range k {
		prefix[i] = items[i].Str
	}
	// The sign of the field's item k against the constant's, by kind.
	after := 1
	if items[k].Kind > membership.KindString {
		after = -1
	}
	pre := p.add(prefix, "text[]")
	head := "(" + field.value + ")[1:" + strconv.Itoa(k) + `] COLLATE "C"`
	sign := "(CASE WHEN " + head + " < " + pre + " THEN -1 WHEN " + head + " > " + pre +
		" THEN 1 WHEN cardinality(" + field.value + ") = " + strconv.Itoa(k) + " THEN -1 ELSE " + strconv.Itoa(after) + " END)"
	if flip {
		sign = "-" + sign
	}
	return sign + " " + op + " 0"
}

// renderIn tests that l is one of r's items.
func renderIn(l, r state, p *params) string {
	if r.kind != membership.KindList {
		return "FALSE"
	}
	if r.constant == nil {
		// A field list holds strings only.
		if l.kind != membership.KindString {
			return "FALSE"
		}
		return l.sql(p) + ` COLLATE "C" = ANY(` + r.value + ")"
	}
	var strs []string
	var alternatives []string
	for _, item := range r.constant.List {
		switch {
		case item.Kind != l.kind:
		case !valueDependent(item.Kind):
			return "TRUE" // a null is null, a record is a record
		case item.Kind == membership.KindString:
			strs = append(strs, item.Str)
		case item.Kind == membership.KindBool:
			alternatives = append(alternatives, l.value+" = "+p.add(item.Bool, "boolean"))
		case item.Kind == membership.KindList:
			if items, ok := stringList(item.List); ok {
				alternatives = append(alternatives, l.value+` COLLATE "C" = `+p.add(items, "text[]"))
			}
		}
	}
	if strs != nil {
		alternatives = append(alternatives, l.value+` COLLATE "C" = ANY(`+p.add(strs, "text[]")+")")
	}
	switch len(alternatives) {
	case 0:
		return "FALSE"
	case 1:
		return alternatives[0]
	}
	return "(" + strings.Join(alternatives, " OR ") + ")"
}
