package membership_test

import (
	"testing"

	m "github.com/spaceauthz/spaceauthz/membership"
)

func atom(test m.Test, l, r m.Operand) m.Condition {
	return m.Is(m.Atom{Test: test, Left: l, Right: r})
}

func str(s string) m.Operand { return m.Const(m.String(s)) }

// candidateFacts: a MEMBER of the organization, with a custom role that
// does not exist in the space, reading a public space.
func candidateFacts() *m.Facts {
	return &m.Facts{
		Actor:                 &m.User{ID: "VQ==", AccountID: "QQ==", Name: "Ada", Role: m.AccountMember},
		Space:                 &m.Space{ID: "Uw==", OrganizationID: "Tw==", Name: "llm-evals"},
		Organization:          &m.Organization{ID: "Tw==", AccountID: "QQ==", Name: "Research"},
		ActorOrganizationRole: m.Grant{Role: m.Predefined(m.RoleMember)},
		ActorSpaceRole:        m.Grant{Role: m.Custom("Ug==")},
	}
}

// TestConditionHolds pins the semantics a store must reproduce: Rego's, on
// the policy input of the facts.
func TestConditionHolds(t *testing.T) {
	t.Parallel()
	f := candidateFacts()
	for _, tc := range []struct {
		name string
		c    m.Condition
		want bool
	}{
		{"equal", atom(m.TestEqual, m.Ref(m.FieldSpaceName), str("llm-evals")), true},
		{"equal, two fields", atom(m.TestEqual, m.Ref(m.FieldSpaceOrganizationID), m.Ref(m.FieldOrganizationID)), true},
		{"different kinds are never equal", atom(m.TestEqual, m.Ref(m.FieldSpaceIsPrivate), str("false")), false},
		{"different kinds are unequal", atom(m.TestNotEqual, m.Ref(m.FieldSpaceIsPrivate), str("false")), true},
		{"ordered by kind", atom(m.TestLess, m.Ref(m.FieldSpaceIsPrivate), str("")), true},
		{"strings in byte order", atom(m.TestGreater, m.Ref(m.FieldSpaceName), str("llm")), true},
		{"absent does not equal", atom(m.TestEqual, m.Ref(m.FieldOrgRoleID), str("x")), false},
		{"absent is not unequal either", atom(m.TestNotEqual, m.Ref(m.FieldOrgRoleID), str("x")), false},
		{"the complement of a test of an absent value holds", m.Not(atom(m.TestNotEqual, m.Ref(m.FieldOrgRoleID), str("x"))), true},
		{"a custom role that does not exist is null", atom(m.TestIsNull, m.Ref(m.FieldSpaceRoleCustom), m.Operand{}), true},
		{"its fields are absent", atom(m.TestDefined, m.Ref(m.FieldSpaceRoleCustomName), m.Operand{}), false},
		{"a held grant is an object", atom(m.TestIsObject, m.Ref(m.FieldOrgRole), m.Operand{}), true},
		{"a predefined grant has no id", atom(m.TestDefined, m.Ref(m.FieldOrgRoleID), m.Operand{}), false},
		{"startswith", atom(m.TestStartsWith, m.Ref(m.FieldSpaceName), str("llm")), true},
		{"endswith", atom(m.TestEndsWith, m.Ref(m.FieldSpaceName), str("evals")), true},
		{"contains", atom(m.TestContains, m.Ref(m.FieldOrganizationName), str("sea")), true},
		{"in a constant list", atom(m.TestIn, m.Ref(m.FieldActorRole), m.Const(m.Value{Kind: m.KindList, List: []m.Value{m.String("ADMIN"), m.String("MEMBER")}})), true},
		{"in the permissions of a missing custom role", atom(m.TestIn, str("PROJECT_READ"), m.Ref(m.FieldSpaceRoleCustomPermissions)), false},
		{"and", m.And(atom(m.TestEqual, m.Ref(m.FieldActorRole), str("MEMBER")), atom(m.TestEqual, m.Ref(m.FieldSpaceIsPrivate), m.Const(m.Bool(true)))), false},
		{"or", m.Or(atom(m.TestEqual, m.Ref(m.FieldActorRole), str("ADMIN")), atom(m.TestEqual, m.Ref(m.FieldSpaceIsPrivate), m.Const(m.Bool(false)))), true},
		{"not of an and", m.Not(m.And(atom(m.TestEqual, m.Ref(m.FieldActorRole), str("MEMBER")), atom(m.TestEqual, m.Ref(m.FieldSpaceIsPrivate), m.Const(m.Bool(true))))), true},
		{"true", m.True, true},
		{"false", m.False, false},
	} {
		if got := tc.c.Holds(f); got != tc.want {
			t.Errorf("%s: %s = %v, want %v", tc.name, tc.c, got, tc.want)
		}
		if got := m.Not(tc.c).Holds(f); got == tc.want {
			t.Errorf("%s: the complement %s = %v, want %v", tc.name, m.Not(tc.c), got, !tc.want)
		}
	}
}

// TestConditionSimplifies: a condition built from a policy's residue
// repeats itself; And and Or keep it small.
func TestConditionSimplifies(t *testing.T) {
	t.Parallel()
	a := atom(m.TestEqual, m.Ref(m.FieldSpaceOrganizationID), m.Ref(m.FieldOrganizationID))
	b := atom(m.TestIsObject, m.Ref(m.FieldOrgRole), m.Operand{})
	c := atom(m.TestIsObject, m.Ref(m.FieldSpaceRole), m.Operand{})
	for _, tc := range []struct {
		got  m.Condition
		want string
	}{
		{m.And(a, m.True, a), a.String()},
		{m.And(a, m.False), "false"},
		{m.Or(m.And(a, b), m.And(a, c)), "(input.space.organization_id == input.organization.id and (is_object(input.actor.organization_role) or is_object(input.actor.space_role)))"},
		{m.Or(b, m.True), "true"},
		{m.Not(m.Not(b)), b.String()},
	} {
		if tc.got.String() != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

// TestPlan checks which sources a condition reads.
func TestPlan(t *testing.T) {
	t.Parallel()
	org := atom(m.TestIsObject, m.Ref(m.FieldOrgRole), m.Operand{})
	spaceRole := atom(m.TestEqual, m.Ref(m.FieldSpaceRoleType), str("CUSTOM"))
	admin := atom(m.TestEqual, m.Ref(m.FieldActorRole), str("ADMIN"))
	public := atom(m.TestEqual, m.Ref(m.FieldSpaceIsPrivate), m.Const(m.Bool(false)))
	oneSpace := atom(m.TestEqual, m.Ref(m.FieldSpaceID), str("Uw=="))
	type plan []m.SourceKind
	for _, tc := range []struct {
		name string
		c    m.Condition
		want plan
	}{
		{"nothing", m.False, nil},
		{"anything", m.True, plan{m.SourceAccount}},
		{"a test of the space alone reads the account", public, plan{m.SourceAccount}},
		{"a grant reads the actor's memberships", m.And(public, org), plan{m.SourceOrganizationMemberships}},
		{"an or reads both", m.Or(org, spaceRole), plan{m.SourceOrganizationMemberships, m.SourceSpaceMemberships}},
		{"the actor alone guards the account", m.Or(org, admin), plan{m.SourceOrganizationMemberships, m.SourceAccount}},
		{"one space", m.And(public, oneSpace), plan{m.SourceSpace}},
		{"a negated grant says nothing", m.Not(org), plan{m.SourceAccount}},
		{"a grant that may be null says nothing", atom(m.TestIsNull, m.Ref(m.FieldOrgRole), m.Operand{}), plan{m.SourceAccount}},
	} {
		var got plan
		for _, s := range tc.c.Plan() {
			got = append(got, s.Kind)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: plan %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: plan %v, want %v", tc.name, got, tc.want)
			}
		}
	}
	// The guard of the account source is the actor's own test.
	for _, s := range m.Or(org, admin).Plan() {
		if s.Kind == m.SourceAccount && s.Guard.String() != admin.String() {
			t.Errorf("guard of the account: %s, want %s", s.Guard, admin)
		}
	}
}

// TestBind: a condition bound to the actor, and then to the organization,
// holds on a candidate exactly when the whole condition does, and reads
// none of the fields bound.
func TestBind(t *testing.T) {
	t.Parallel()
	cond := m.And(
		atom(m.TestEqual, m.Ref(m.FieldOrganizationAccountID), m.Ref(m.FieldActorAccountID)),
		m.Or(
			atom(m.TestEqual, m.Ref(m.FieldActorRole), str("ADMIN")),
			m.And(atom(m.TestEqual, m.Ref(m.FieldSpaceIsPrivate), m.Const(m.Bool(false))), atom(m.TestIsObject, m.Ref(m.FieldOrgRole), m.Operand{})),
			m.Not(atom(m.TestStartsWith, m.Ref(m.FieldActorName), str("A"))),
		),
	)
	for _, variant := range []func(*m.Facts){
		func(*m.Facts) {},
		func(f *m.Facts) { f.Space.IsPrivate = true },
		func(f *m.Facts) { f.Actor.Role = m.AccountAdmin; f.Space.IsPrivate = true },
		func(f *m.Facts) { f.ActorOrganizationRole = m.Grant{} },
		func(f *m.Facts) { f.Actor.Name = "Bob"; f.Space.IsPrivate = true },
		func(f *m.Facts) { f.Organization.AccountID = "Qg==" },
	} {
		f := candidateFacts()
		variant(f)
		bound := cond.Bind(f.Actor)
		both := bound.BindOn(f, m.Field.OfOrganization)
		for _, c := range []m.Condition{bound, both} {
			if c.Holds(f) != cond.Holds(f) {
				t.Errorf("bound %s holds %v, the condition %s holds %v", c, c.Holds(f), cond, cond.Holds(f))
			}
		}
		for _, fd := range bound.Fields() {
			if fd.OfActor() {
				t.Errorf("bound to the actor, %s still reads %s", bound, fd.Path())
			}
		}
		for _, fd := range both.Fields() {
			if fd.OfActor() || fd.OfOrganization() {
				t.Errorf("bound to the organization, %s still reads %s", both, fd.Path())
			}
		}
	}
}
