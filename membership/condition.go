package membership

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// A Condition is a test of one candidate space, on the facts a read of that
// space would gather for the actor: the actor, the space, its organization,
// and the actor's roles in both. It is how a policy's read rule reaches a
// Store as a filter (see ReadFilter): a Store tests every space it might
// list with it, and reads the fewest records that can pass it (Plan).
//
// A Condition is a tree of And and Or over Atoms, with negation only on
// atoms; the zero Condition is False.
type Condition struct {
	Op CondOp
	// Of holds the operands of And and Or.
	Of []Condition
	// Atom is the test of an OpAtom.
	Atom Atom
}

// CondOp says what kind of node a Condition is.
type CondOp uint8

// The kinds of Condition.
const (
	OpFalse CondOp = iota
	OpTrue
	OpAnd
	OpOr
	OpAtom
)

// The constant conditions.
var (
	True  = Condition{Op: OpTrue}
	False = Condition{}
)

// And is the conjunction of cs, simplified: true operands and repeated
// atoms vanish, a false one makes the whole false, nested Ands are
// flattened.
func And(cs ...Condition) Condition { return join(OpAnd, cs, false) }

// Or is the disjunction of cs, simplified as And is; the atoms every
// operand requires are taken out in front, so that
// (a and b) or (a and c) becomes a and (b or c).
func Or(cs ...Condition) Condition {
	return or(cs, false)
}

func or(cs []Condition, owned bool) Condition {
	c := join(OpOr, cs, owned)
	if c.Op == OpOr {
		return factor(c)
	}
	return c
}

// join builds the And or the Or (op) of cs. For an And, True is the
// operand that vanishes and False the one that decides; for an Or the
// reverse. When owned is set, cs belongs to join, which may build the
// result in its place.
func join(op CondOp, cs []Condition, owned bool) Condition {
	neutral, decisive := Condition{Op: OpTrue}, False
	if op == OpOr {
		neutral, decisive = False, Condition{Op: OpTrue}
	}
	out := Condition{Op: op}
	// In place only when nothing is flattened: the result then never
	// outgrows what has been read of cs.
	if owned && !slices.ContainsFunc(cs, func(c Condition) bool { return c.Op == op }) {
		out.Of = cs[:0]
	} else {
		out.Of = make([]Condition, 0, len(cs))
	}
	for _, c := range cs {
		switch c.Op {
		case neutral.Op:
		case decisive.Op:
			return decisive
		case op:
			for _, x := range c.Of {
				out.Of = appendNew(out.Of, x)
			}
		default:
			out.Of = appendNew(out.Of, c)
		}
	}
	switch len(out.Of) {
	case 0:
		return neutral
	case 1:
		return out.Of[0]
	}
	return out
}

// factor takes the atoms common to every operand of the Or c out in front.
func factor(c Condition) Condition {
	var common []Condition
	var buf, buf2 [1]Condition
	for _, a := range conjuncts(&c.Of[0], &buf) {
		if a.Op != OpAtom {
			continue
		}
		everywhere := true
		for i := range c.Of[1:] {
			if !slices.ContainsFunc(conjuncts(&c.Of[i+1], &buf2), func(y Condition) bool { return sameAtom(a, y) }) {
				everywhere = false
				break
			}
		}
		if everywhere {
			common = append(common, a)
		}
	}
	if len(common) == 0 {
		return c
	}
	rest := make([]Condition, len(c.Of))
	for i := range c.Of {
		var left []Condition
		for _, y := range conjuncts(&c.Of[i], &buf) {
			if !slices.ContainsFunc(common, func(a Condition) bool { return sameAtom(a, y) }) {
				left = append(left, y)
			}
		}
		rest[i] = And(left...)
	}
	return And(append(common, Or(rest...))...)
}

// conjuncts returns the operands of an And, or any other condition as a
// list of one, in buf, so that looking costs no allocation.
func conjuncts(x *Condition, buf *[1]Condition) []Condition {
	if x.Op == OpAnd {
		return x.Of
	}
	buf[0] = *x
	return buf[:]
}

// appendNew appends c unless it is an atom already in cs.
func appendNew(cs []Condition, c Condition) []Condition {
	if slices.ContainsFunc(cs, func(x Condition) bool { return sameAtom(x, c) }) {
		return cs
	}
	return append(cs, c)
}

// sameAtom reports whether a and b are the same atom.
func sameAtom(a, b Condition) bool {
	if a.Op != OpAtom || b.Op != OpAtom {
		return false
	}
	x, y := a.Atom, b.Atom
	return x.Test == y.Test && x.Negated == y.Negated && sameOperand(x.Left, y.Left) && sameOperand(x.Right, y.Right)
}

func sameOperand(a, b Operand) bool {
	return a.Field == b.Field && compareValues(a.Value, b.Value) == 0 && a.Value.Kind == b.Value.Kind
}

// Not is the negation of c, with the negation pushed down to the atoms.
func Not(c Condition) Condition {
	switch c.Op {
	case OpTrue:
		return False
	case OpFalse:
		return True
	case OpAnd, OpOr:
		of := make([]Condition, len(c.Of))
		for i, x := range c.Of {
			of[i] = Not(x)
		}
		if c.Op == OpAnd {
			return Or(of...)
		}
		return And(of...)
	}
	a := c.Atom
	a.Negated = !a.Negated
	return Condition{Op: OpAtom, Atom: a}
}

// Is returns the condition that a holds.
func Is(a Atom) Condition { return Condition{Op: OpAtom, Atom: a} }

// Atom is one test of a candidate's facts. As in Rego, a test of a value
// that is absent (a field of a record that was not found, or of a null) does
// not hold, and its negation, the complement, does. (Rego's own not on a
// builtin call other than equality fails on an absent operand; package
// policy writes such an expression as the operands' TestDefined and the
// negated test.)
type Atom struct {
	Test Test
	// Left and Right are the operands; a type test reads only Left. For
	// TestIn, Right is a set (a constant Values list, or a field that holds
	// a list).
	Left, Right Operand
	Negated     bool
}

// Test is what an Atom checks.
type Test uint8

// The tests. Comparisons follow Rego: values of different types are equal
// never, and order by type (null, boolean, string, list).
const (
	TestEqual Test = iota + 1
	TestNotEqual
	TestLess
	TestLessEqual
	TestGreater
	TestGreaterEqual
	// TestStartsWith, TestEndsWith and TestContains hold for strings only.
	TestStartsWith
	TestEndsWith
	TestContains
	// TestIn holds when Left is one of Right's values.
	TestIn
	// TestDefined holds when Left is present (null included).
	TestDefined
	// TestIsObject and the others test Left's type.
	TestIsObject
	TestIsString
	TestIsBoolean
	TestIsNull
	TestIsArray
)

// Operand is a field of the candidate's facts, or a constant.
type Operand struct {
	// Field is the field read; FieldNone for a constant.
	Field Field
	// Value is the constant when Field is FieldNone.
	Value Value
}

// Const is the constant operand v.
func Const(v Value) Operand { return Operand{Value: v} }

// Ref is the operand that reads f.
func Ref(f Field) Operand { return Operand{Field: f} }

// Value is a value of the facts, as the policy input holds it.
type Value struct {
	Kind ValueKind
	Str  string
	Bool bool
	// List holds a list's items.
	List []Value
}

// ValueKind is the type of a Value.
type ValueKind uint8

// The kinds of Value, in Rego's order of types. An absent value is none:
// no test of it holds.
const (
	KindAbsent ValueKind = iota
	KindNull
	KindBool
	KindString
	KindList
	// KindObject is a record; a Condition never compares one by value.
	KindObject
)

// The values a Condition uses.
func String(s string) Value { return Value{Kind: KindString, Str: s} }
func Bool(b bool) Value     { return Value{Kind: KindBool, Bool: b} }

// Null is the JSON null.
var Null = Value{Kind: KindNull}

// Field names one value of a candidate's facts, by its path in the policy
// input (see package policy for the input document).
type Field uint8

// The fields. A grant field reads the actor's role in the space's
// organization (FieldOrgRole...) or in the space (FieldSpaceRole...): the
// grant itself (null when none is held), its type, name and id, and the
// custom role it names with that role's id, account, name and permissions.
const (
	FieldNone Field = iota
	FieldActor
	FieldActorID
	FieldActorAccountID
	FieldActorName
	FieldActorEmail
	FieldActorRole
	FieldSpace
	FieldSpaceID
	FieldSpaceOrganizationID
	FieldSpaceName
	FieldSpaceIsPrivate
	FieldOrganization
	FieldOrganizationID
	FieldOrganizationAccountID
	FieldOrganizationName
	FieldOrgRole
	FieldOrgRoleType
	FieldOrgRoleName
	FieldOrgRoleID
	FieldOrgRoleCustom
	FieldOrgRoleCustomID
	FieldOrgRoleCustomAccountID
	FieldOrgRoleCustomName
	FieldOrgRoleCustomPermissions
	FieldSpaceRole
	FieldSpaceRoleType
	FieldSpaceRoleName
	FieldSpaceRoleID
	FieldSpaceRoleCustom
	FieldSpaceRoleCustomID
	FieldSpaceRoleCustomAccountID
	FieldSpaceRoleCustomName
	FieldSpaceRoleCustomPermissions
	fieldCount
)

var fieldPaths = [...]string{
	FieldActor:                      "actor",
	FieldActorID:                    "actor.id",
	FieldActorAccountID:             "actor.account_id",
	FieldActorName:                  "actor.name",
	FieldActorEmail:                 "actor.email",
	FieldActorRole:                  "actor.role",
	FieldSpace:                      "space",
	FieldSpaceID:                    "space.id",
	FieldSpaceOrganizationID:        "space.organization_id",
	FieldSpaceName:                  "space.name",
	FieldSpaceIsPrivate:             "space.is_private",
	FieldOrganization:               "organization",
	FieldOrganizationID:             "organization.id",
	FieldOrganizationAccountID:      "organization.account_id",
	FieldOrganizationName:           "organization.name",
	FieldOrgRole:                    "actor.organization_role",
	FieldOrgRoleType:                "actor.organization_role.type",
	FieldOrgRoleName:                "actor.organization_role.name",
	FieldOrgRoleID:                  "actor.organization_role.id",
	FieldOrgRoleCustom:              "actor.organization_role.custom_role",
	FieldOrgRoleCustomID:            "actor.organization_role.custom_role.id",
	FieldOrgRoleCustomAccountID:     "actor.organization_role.custom_role.account_id",
	FieldOrgRoleCustomName:          "actor.organization_role.custom_role.name",
	FieldOrgRoleCustomPermissions:   "actor.organization_role.custom_role.permissions",
	FieldSpaceRole:                  "actor.space_role",
	FieldSpaceRoleType:              "actor.space_role.type",
	FieldSpaceRoleName:              "actor.space_role.name",
	FieldSpaceRoleID:                "actor.space_role.id",
	FieldSpaceRoleCustom:            "actor.space_role.custom_role",
	FieldSpaceRoleCustomID:          "actor.space_role.custom_role.id",
	FieldSpaceRoleCustomAccountID:   "actor.space_role.custom_role.account_id",
	FieldSpaceRoleCustomName:        "actor.space_role.custom_role.name",
	FieldSpaceRoleCustomPermissions: "actor.space_role.custom_role.permissions",
}

// Path is the field's path in the policy input, as "actor.space_role.type".
func (f Field) Path() string {
	if f < fieldCount {
		return fieldPaths[f]
	}
	return ""
}

// FieldOf returns the field at path ("space.name"), or FieldNone.
func FieldOf(path string) Field {
	for f := FieldActor; f < fieldCount; f++ {
		if fieldPaths[f] == path {
			return f
		}
	}
	return FieldNone
}

// IsString reports whether the field holds a string whenever it is
// present: every field but the records, space.is_private and the
// permissions.
func (f Field) IsString() bool {
	switch f {
	case FieldNone, FieldActor, FieldSpace, FieldOrganization, FieldOrgRole, FieldOrgRoleCustom, FieldSpaceRole, FieldSpaceRoleCustom,
		FieldSpaceIsPrivate, FieldOrgRoleCustomPermissions, FieldSpaceRoleCustomPermissions:
		return false
	}
	return f < fieldCount
}

// OfActor reports whether the field reads the actor's own record, which is
// the same for every candidate.
func (f Field) OfActor() bool { return f >= FieldActor && f <= FieldActorRole }

// Grant returns the grant a grant field reads (FieldOrgRole or
// FieldSpaceRole), or FieldNone.
func (f Field) Grant() Field {
	switch {
	case f >= FieldOrgRole && f < FieldSpaceRole:
		return FieldOrgRole
	case f >= FieldSpaceRole && f < fieldCount:
		return FieldSpaceRole
	}
	return FieldNone
}

// Of returns the field's value in f, as the policy input holds it.
func (fd Field) Of(f *Facts) Value {
	switch fd {
	case FieldActor, FieldActorID, FieldActorAccountID, FieldActorName, FieldActorEmail, FieldActorRole:
		u := f.Actor
		if u == nil {
			return nullOr(fd == FieldActor)
		}
		switch fd {
		case FieldActorID:
			return String(string(u.ID))
		case FieldActorAccountID:
			return String(string(u.AccountID))
		case FieldActorName:
			return String(u.Name)
		case FieldActorEmail:
			return String(u.Email)
		case FieldActorRole:
			return String(u.Role.String())
		}
		return Value{Kind: KindObject}
	case FieldSpace, FieldSpaceID, FieldSpaceOrganizationID, FieldSpaceName, FieldSpaceIsPrivate:
		s := f.Space
		if s == nil {
			return nullOr(fd == FieldSpace)
		}
		switch fd {
		case FieldSpaceID:
			return String(string(s.ID))
		case FieldSpaceOrganizationID:
			return String(string(s.OrganizationID))
		case FieldSpaceName:
			return String(s.Name)
		case FieldSpaceIsPrivate:
			return Bool(s.IsPrivate)
		}
		return Value{Kind: KindObject}
	case FieldOrganization, FieldOrganizationID, FieldOrganizationAccountID, FieldOrganizationName:
		o := f.Organization
		if o == nil {
			return nullOr(fd == FieldOrganization)
		}
		switch fd {
		case FieldOrganizationID:
			return String(string(o.ID))
		case FieldOrganizationAccountID:
			return String(string(o.AccountID))
		case FieldOrganizationName:
			return String(o.Name)
		}
		return Value{Kind: KindObject}
	}
	g := fd.Grant()
	if g == FieldNone || f.Actor == nil {
		return Value{}
	}
	grant := f.ActorOrganizationRole
	if g == FieldSpaceRole {
		grant = f.ActorSpaceRole
	}
	return grantValue(fd-g, grant)
}

// nullOr is the value of a record that was not found: null for the record
// itself, absent for its fields.
func nullOr(record bool) Value {
	if record {
		return Null
	}
	return Value{}
}

// grantValue returns the field at offset off of a grant.
func grantValue(off Field, g Grant) Value {
	if !g.Held() {
		return nullOr(off == 0)
	}
	r := g.Role
	custom := r.Kind == RoleKindCustom
	switch off {
	case 0:
		return Value{Kind: KindObject}
	case FieldOrgRoleType - FieldOrgRole:
		return String(r.Kind.String())
	case FieldOrgRoleName - FieldOrgRole:
		if custom {
			return Value{}
		}
		return String(r.Name.String())
	case FieldOrgRoleID - FieldOrgRole:
		if !custom {
			return Value{}
		}
		return String(string(r.ID))
	}
	if !custom {
		return Value{}
	}
	c := g.CustomRole
	if c == nil {
		return nullOr(off == FieldOrgRoleCustom-FieldOrgRole)
	}
	switch off {
	case FieldOrgRoleCustomID - FieldOrgRole:
		return String(string(c.ID))
	case FieldOrgRoleCustomAccountID - FieldOrgRole:
		return String(string(c.AccountID))
	case FieldOrgRoleCustomName - FieldOrgRole:
		return String(c.Name)
	case FieldOrgRoleCustomPermissions - FieldOrgRole:
		list := make([]Value, len(c.Permissions))
		for i, p := range c.Permissions {
			list[i] = String(string(p))
		}
		return Value{Kind: KindList, List: list}
	}
	return Value{Kind: KindObject}
}

// A Candidate gives a Condition the values of one candidate's fields. The
// Facts of a read of the space are one; a Store may offer its own, that
// looks records up only when the condition reads them.
type Candidate interface {
	Value(Field) Value
}

// Value implements Candidate: the field's value in f.
func (f *Facts) Value(fd Field) Value { return fd.Of(f) }

// Holds reports whether c holds on the facts f of one candidate.
func (c Condition) Holds(f *Facts) bool { return c.HoldsOn(f) }

// HoldsOn reports whether c holds on the candidate v. And and Or stop at the
// first operand that decides them, so a lazy Candidate reads no more than
// it must.
func (c Condition) HoldsOn(v Candidate) bool { return c.holdsOn(v) }

// holdsOn walks the tree by pointer: a store tests one condition on every
// space it reads, and a Condition is too large to copy at each node.
func (c *Condition) holdsOn(v Candidate) bool {
	switch c.Op {
	case OpTrue:
		return true
	case OpAnd:
		for i := range c.Of {
			if !c.Of[i].holdsOn(v) {
				return false
			}
		}
		return true
	case OpOr:
		for i := range c.Of {
			if c.Of[i].holdsOn(v) {
				return true
			}
		}
		return false
	case OpAtom:
		return c.Atom.holdsOn(v)
	}
	return false
}

// HoldsOn reports whether a holds on the candidate v.
func (a Atom) HoldsOn(v Candidate) bool { return a.holdsOn(v) }

func (a *Atom) holdsOn(v Candidate) bool {
	return a.holds(a.Left.of(v), a.Right.of(v)) != a.Negated
}

func (o *Operand) of(v Candidate) Value {
	if o.Field == FieldNone {
		return o.Value
	}
	return v.Value(o.Field)
}

// holds evaluates the test, before negation, on its operands' values.
func (a *Atom) holds(l, r Value) bool {
	if l.Kind == KindAbsent {
		return false
	}
	switch a.Test {
	case TestDefined:
		return true
	case TestIsObject:
		return l.Kind == KindObject
	case TestIsString:
		return l.Kind == KindString
	case TestIsBoolean:
		return l.Kind == KindBool
	case TestIsNull:
		return l.Kind == KindNull
	case TestIsArray:
		return l.Kind == KindList
	}
	if r.Kind == KindAbsent {
		return false
	}
	switch a.Test {
	case TestEqual:
		return compareValues(l, r) == 0
	case TestNotEqual:
		return compareValues(l, r) != 0
	case TestLess:
		return compareValues(l, r) < 0
	case TestLessEqual:
		return compareValues(l, r) <= 0
	case TestGreater:
		return compareValues(l, r) > 0
	case TestGreaterEqual:
		return compareValues(l, r) >= 0
	case TestStartsWith, TestEndsWith, TestContains:
		if l.Kind != KindString || r.Kind != KindString {
			return false
		}
		switch a.Test {
		case TestStartsWith:
			return strings.HasPrefix(l.Str, r.Str)
		case TestEndsWith:
			return strings.HasSuffix(l.Str, r.Str)
		}
		return strings.Contains(l.Str, r.Str)
	case TestIn:
		if r.Kind != KindList {
			return false
		}
		return slices.ContainsFunc(r.List, func(v Value) bool { return compareValues(l, v) == 0 })
	}
	return false
}

// compareValues orders scalars and lists as Rego does. Records compare by
// kind alone: a Condition never compares two of them.
func compareValues(a, b Value) int {
	if a.Kind != b.Kind {
		return cmp.Compare(a.Kind, b.Kind)
	}
	switch a.Kind {
	case KindBool:
		switch {
		case a.Bool == b.Bool:
			return 0
		case !a.Bool:
			return -1
		}
		return 1
	case KindString:
		return strings.Compare(a.Str, b.Str)
	case KindList:
		return slices.CompareFunc(a.List, b.List, compareValues)
	}
	return 0
}

// Bind returns c with the actor's record put in: every field of the actor
// becomes its value in actor, and an atom left with no field is decided.
// A store tests the bound condition on each space of one list, so that what
// depends on the actor alone is worked out once.
func (c Condition) Bind(actor *User) Condition {
	return c.BindOn(&Facts{Actor: actor}, Field.OfActor)
}

// BindOn returns c with every field for which known holds replaced by its
// value in v, and an atom left with no field decided: the same partial
// evaluation as Bind, for what a store knows at some other point, such as
// the organization of the spaces it reads next.
func (c Condition) BindOn(v Candidate, known func(Field) bool) Condition {
	bound, _ := c.bind(v, known)
	return bound
}

// bind binds c, and reports whether that changed c: an unchanged part is
// kept as it is, without a copy.
func (c Condition) bind(v Candidate, known func(Field) bool) (Condition, bool) {
	switch c.Op {
	case OpAnd, OpOr:
		var of []Condition
		for i, x := range c.Of {
			b, changed := x.bind(v, known)
			if changed && of == nil {
				of = append(make([]Condition, 0, len(c.Of)), c.Of[:i]...)
			}
			if of != nil {
				of = append(of, b)
			}
		}
		if of == nil {
			return c, false
		}
		if c.Op == OpAnd {
			return join(OpAnd, of, true), true
		}
		return or(of, true), true
	case OpAtom:
		a := c.Atom
		fields, bound := 0, false
		for _, o := range [2]*Operand{&a.Left, &a.Right} {
			switch {
			case o.Field != FieldNone && known(o.Field):
				*o, bound = Const(v.Value(o.Field)), true
			case o.Field != FieldNone:
				fields++
			}
		}
		switch {
		case !bound:
			return c, false
		case fields > 0:
			return Is(a), true
		case a.holdsOn(v):
			return True, true
		}
		return False, true
	}
	return c, false
}

// OfOrganization reports whether the field reads the space's organization
// or the actor's role in it: what every space of one organization shares.
func (f Field) OfOrganization() bool {
	return f >= FieldOrganization && f <= FieldOrganizationName || f.Grant() == FieldOrgRole
}

// Fields returns the fields c reads, each once, in order.
func (c Condition) Fields() []Field {
	var seen [fieldCount]bool
	c.each(func(a Atom) {
		seen[a.Left.Field] = true
		seen[a.Right.Field] = true
	})
	var out []Field
	for f := FieldActor; f < fieldCount; f++ {
		if seen[f] {
			out = append(out, f)
		}
	}
	return out
}

func (c Condition) each(fn func(Atom)) {
	switch c.Op {
	case OpAnd, OpOr:
		for _, x := range c.Of {
			x.each(fn)
		}
	case OpAtom:
		fn(c.Atom)
	}
}

// onActor reports whether c reads the actor's record and nothing else.
func (c Condition) onActor() bool {
	only := true
	c.each(func(a Atom) {
		for _, o := range [2]Operand{a.Left, a.Right} {
			if o.Field != FieldNone && !o.Field.OfActor() {
				only = false
			}
		}
	})
	return only
}

// String renders c in a Rego-like syntax, for logs and tests.
func (c Condition) String() string {
	var b strings.Builder
	c.write(&b)
	return b.String()
}

func (c Condition) write(b *strings.Builder) {
	switch c.Op {
	case OpFalse:
		b.WriteString("false")
	case OpTrue:
		b.WriteString("true")
	case OpAnd, OpOr:
		sep := " and "
		if c.Op == OpOr {
			sep = " or "
		}
		b.WriteByte('(')
		for i, x := range c.Of {
			if i > 0 {
				b.WriteString(sep)
			}
			x.write(b)
		}
		b.WriteByte(')')
	case OpAtom:
		c.Atom.write(b)
	}
}

var testNames = [...]string{
	TestEqual: "==", TestNotEqual: "!=", TestLess: "<", TestLessEqual: "<=",
	TestGreater: ">", TestGreaterEqual: ">=", TestStartsWith: "startswith",
	TestEndsWith: "endswith", TestContains: "contains", TestIn: "in", TestDefined: "defined",
	TestIsObject: "is_object", TestIsString: "is_string", TestIsBoolean: "is_boolean",
	TestIsNull: "is_null", TestIsArray: "is_array",
}

func (a Atom) write(b *strings.Builder) {
	if a.Negated {
		b.WriteString("not ")
	}
	name := ""
	if int(a.Test) < len(testNames) {
		name = testNames[a.Test]
	}
	switch a.Test {
	case TestEqual, TestNotEqual, TestLess, TestLessEqual, TestGreater, TestGreaterEqual, TestIn:
		a.Left.write(b)
		b.WriteString(" " + name + " ")
		a.Right.write(b)
	case TestStartsWith, TestEndsWith, TestContains:
		b.WriteString(name + "(")
		a.Left.write(b)
		b.WriteString(", ")
		a.Right.write(b)
		b.WriteByte(')')
	default:
		b.WriteString(name + "(")
		a.Left.write(b)
		b.WriteByte(')')
	}
}

func (o Operand) write(b *strings.Builder) {
	if o.Field != FieldNone {
		b.WriteString("input." + o.Field.Path())
		return
	}
	o.Value.write(b)
}

func (v Value) write(b *strings.Builder) {
	switch v.Kind {
	case KindAbsent:
		b.WriteString("<absent>")
	case KindNull:
		b.WriteString("null")
	case KindBool:
		if v.Bool {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case KindString:
		b.WriteString(strconv.Quote(v.Str))
	case KindList:
		b.WriteByte('[')
		for i, x := range v.List {
			if i > 0 {
				b.WriteString(", ")
			}
			x.write(b)
		}
		b.WriteByte(']')
	case KindObject:
		b.WriteString("{...}")
	}
}
