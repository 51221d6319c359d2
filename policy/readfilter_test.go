package policy

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/spaceauthz/spaceauthz/membership"
)

// readRule is a host rule of the family the read filter is tested on, and
// whether the filter should stay exact (the fast path) with it.
type readRule struct {
	name   string
	module string
	data   map[string]any
	exact  bool
}

// hidden is the head of a host rule that denies a read.
const hidden = `package spaceauthz
violations contains {"code": "space_not_found", "rule": "hidden"} if {
	input.operation == "read"
`

var readRules = []readRule{
	{name: "default policy", exact: true},
	{name: "by data", exact: true, data: map[string]any{"hidden": []any{string(testID("Space:2"))}},
		module: hidden + `	input.space.id in data.hidden
}`},
	{name: "by an id's value", exact: true, module: hidden + `	input.organization.id != "` + string(testID("Org:1")) + `"
}`},
	{name: "by a builtin that translates", exact: true, module: hidden + `	startswith(input.space.name, "A")
}`},
	{name: "by a bare boolean", exact: true, module: hidden + `	input.space.is_private
	input.actor.role != "ADMIN"
}`},
	{name: "by a bare record", exact: true, module: hidden + `	not input.actor.space_role
	input.actor.role == "MEMBER"
}`},
	{name: "by a grant", exact: true, module: hidden + `	input.actor.space_role.type == "CUSTOM"
}`},
	{name: "by a permission", exact: true, module: hidden + `	input.actor.role != "ADMIN"
	not "PROJECT_READ" in input.actor.organization_role.custom_role.permissions
}`},
	{name: "by a negated builtin", exact: true, module: hidden + `	input.actor.role != "ADMIN"
	not startswith(input.actor.space_role.name, "A")
}`},
	{name: "by a negated comparison", exact: true, module: hidden + `	not input.actor.organization_role.name != "MEMBER"
}`},
	{name: "by a function", exact: true, module: hidden + `	secret(input.space.name)
}

secret(name) if name == "Bob"`},
	{name: "for another operation only", exact: true, module: `package spaceauthz
violations contains {"code": "forbidden", "rule": "no_adds"} if {
	input.operation == "add"
	input.space.is_private
}`},
	{name: "by a regular expression", exact: false, module: hidden + `	regex.match("^B", input.space.name)
}`},
	{name: "by a builtin that does not translate", exact: false, module: hidden + `	lower(input.space.name) == "ada"
}`},
	{name: "by a number", exact: false, module: hidden + `	count(input.actor.email) > 14
}`},
	{name: "whatever the facts", exact: true, module: hidden + `	data.spaceauthz.maintenance
}

maintenance := true`},
}

// genReadFacts draws the facts of a read of one space.
func genReadFacts(t *rapid.T) *membership.Facts {
	f := genFacts(t)
	for f.Query.Operation.Level() != membership.LevelSpace {
		f = genFacts(t)
	}
	f.Query.Operation, f.Query.UserID, f.Query.Role = membership.OperationRead, "", membership.RoleAssignment{}
	f.Target, f.TargetOrganizationRole, f.Existing, f.CustomRole = nil, membership.Grant{}, nil, nil
	return f
}

// TestReadFilterAgreesWithDecide holds the read filter to the decision it
// stands for, on random facts: an exact filter holds exactly when the
// policy allows the read, any other at least then.
func TestReadFilterAgreesWithDecide(t *testing.T) {
	t.Parallel()
	for _, rule := range readRules {
		t.Run(rule.name, func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if rule.module != "" {
				opts = append(opts, WithModule("host.rego", rule.module))
			}
			if rule.data != nil {
				opts = append(opts, WithData(rule.data))
			}
			engine, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			filter := engine.ReadFilter()
			if filter.Exact != rule.exact {
				t.Fatalf("Exact = %v, want %v; filter: %s", filter.Exact, rule.exact, filter.Condition)
			}
			allowed, denied := 0, 0
			rapid.Check(t, func(t *rapid.T) {
				f := genReadFacts(t)
				d, err := engine.Decide(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				holds := filter.Condition.Holds(f)
				if d.Allow {
					allowed++
				} else {
					denied++
				}
				switch {
				case d.Allow && !holds:
					t.Fatalf("the filter drops a space the policy lets the actor read\nfilter: %s\ninput: %v", filter.Condition, InputDocument(f))
				case !d.Allow && holds && filter.Exact:
					t.Fatalf("the exact filter keeps a space the policy denies (%v)\nfilter: %s\ninput: %v", d.Violations, filter.Condition, InputDocument(f))
				}
			})
			if rule.name != "whatever the facts" && (allowed == 0 || denied == 0) {
				t.Errorf("the facts drawn never tested both ways: %d allowed, %d denied", allowed, denied)
			}
		})
	}
}

// TestReadFilterOfTheDefaultPolicy pins the filter the default policy
// becomes, and the sources a store reads for it: an account ADMIN reads the
// account, anyone else only the spaces of their own memberships.
func TestReadFilterOfTheDefaultPolicy(t *testing.T) {
	t.Parallel()
	engine, err := New()
	if err != nil {
		t.Fatal(err)
	}
	filter := engine.ReadFilter()
	const want = `(is_string(input.actor.account_id) and input.space.organization_id == input.organization.id and ` +
		`input.organization.account_id == input.actor.account_id and ` +
		`((input.actor.organization_role.type == "PREDEFINED" and input.actor.organization_role.name == "ADMIN") or ` +
		`(input.space.is_private == false and is_object(input.actor.organization_role)) or ` +
		`is_object(input.actor.space_role) or input.actor.role == "ADMIN"))`
	if got := filter.Condition.String(); !filter.Exact || got != want {
		t.Fatalf("filter (exact %v):\n%s\nwant (exact):\n%s", filter.Exact, got, want)
	}
	// Each source as kind, "public" when it reads public spaces only, and
	// the test of the actor's membership it reads.
	describe := func(s membership.Source) string {
		d := fmt.Sprint(s.Kind)
		if s.Public {
			d += " public"
		}
		if s.Kind == membership.SourceOrganizationMemberships || s.Kind == membership.SourceSpaceMemberships {
			d += " " + s.Membership.String()
		}
		return d
	}
	orgAdmin := fmt.Sprint(membership.SourceOrganizationMemberships) + ` (input.actor.organization_role.type == "PREDEFINED" and input.actor.organization_role.name == "ADMIN")`
	orgMember := fmt.Sprint(membership.SourceOrganizationMemberships) + " public is_object(input.actor.organization_role)"
	spaceMember := fmt.Sprint(membership.SourceSpaceMemberships) + " true"
	account := fmt.Sprint(membership.SourceAccount)
	for _, tc := range []struct {
		role membership.AccountRole
		want []string
	}{
		{membership.AccountMember, []string{orgAdmin, orgMember, spaceMember}},
		{membership.AccountAnnotator, []string{orgAdmin, orgMember, spaceMember}},
		{membership.AccountAdmin, []string{orgAdmin, orgMember, spaceMember, account}},
	} {
		actor := &membership.Facts{Actor: &membership.User{ID: testID("User:1"), AccountID: testID("Account:1"), Role: tc.role}}
		var got []string
		for _, s := range filter.Condition.Plan() {
			if s.Guard.Holds(actor) {
				got = append(got, describe(s))
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s reads\n%q\nwant\n%q", tc.role, got, tc.want)
		}
	}
}

// TestReadFilterOfAnotherShape: a policy that does not decide by its
// violations is decided space by space.
func TestReadFilterOfAnotherShape(t *testing.T) {
	t.Parallel()
	engine, err := New(WithoutDefaultPolicy(), WithModule("own.rego", `package spaceauthz
decision := {"allow": input.space.name == "Ada", "violations": []}`))
	if err != nil {
		t.Fatal(err)
	}
	if f := engine.ReadFilter(); f.Exact || f.Condition.Op != membership.OpTrue {
		t.Fatalf("filter of a policy of another shape: exact %v, %s; want the inexact true", f.Exact, f.Condition)
	}
}
