package policy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

func facts(actorRole membership.AccountRole, targetEmail string) *membership.Facts {
	account := testID("Account:1")
	org := &membership.Organization{ID: testID("Org:1"), AccountID: account}
	return &membership.Facts{
		Query:                  membership.Query{Operation: membership.OperationAdd, Actor: testID("User:1"), SpaceID: testID("Space:1"), UserID: testID("User:2"), Role: membership.Predefined(membership.RoleMember)},
		Actor:                  &membership.User{ID: testID("User:1"), AccountID: account, Role: actorRole},
		Space:                  &membership.Space{ID: testID("Space:1"), OrganizationID: org.ID},
		Organization:           org,
		Target:                 &membership.User{ID: testID("User:2"), AccountID: account, Role: membership.AccountMember, Email: targetEmail},
		TargetOrganizationRole: membership.Grant{Role: membership.Predefined(membership.RoleMember)},
	}
}

// TestDefaultPolicyReadSet: the default policy is cacheable, and its key
// leaves out what it never reads, such as the target's id and email, so that
// adds of different users share a decision.
func TestDefaultPolicyReadSet(t *testing.T) {
	t.Parallel()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if e.policy.Load().cache == nil {
		t.Fatal("the default policy is not cached")
	}
	has := func(path string) bool {
		return slices.Contains(e.policy.Load().whole.nodes, inputSchema.at(strings.Split(path, ".")))
	}
	for _, path := range []string{"actor.account_id", "actor.role", "space.is_private", "role.name", "role.id", "actor.organization_role.custom_role.permissions"} {
		if !has(path) {
			t.Errorf("key lacks %s, which the policy reads", path)
		}
	}
	for _, path := range []string{"target.id", "target.email", "actor.name", "membership.id"} {
		if has(path) {
			t.Errorf("key holds %s, which the policy never reads", path)
		}
	}
	var hits int
	e.audit = AuditFunc(func(_ context.Context, r DecisionRecord) {
		if r.Cached {
			hits++
		}
	})
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		if d, err := e.Decide(context.Background(), facts(membership.AccountAdmin, email)); err != nil || !d.Allow {
			t.Fatalf("Decide = %+v, %v", d, err)
		}
	}
	if hits != 2 {
		t.Errorf("%d of 3 decisions came from the cache, want 2", hits)
	}
}

// TestAnalyse: the key holds exactly the nodes a policy can observe: the
// nodes its references reach, and whole subtrees where a value leaves the
// analysis (a comparison of objects, a builtin, a rule's value).
func TestAnalyse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, module string
		cached       bool
		// paths are read in full; nodes only for their own state.
		paths [][]string
		nodes []string
	}{
		{"static path", "x if input.space.name == \"a\"", true, nil, []string{"", "space", "space.name"}},
		{"dynamic path", "x if { some k; input.actor[k] == 1 }", true, [][]string{{"actor"}}, nil},
		{"bare input, one member", "x if { y := input; y.space.is_private }", true, nil, []string{"", "space", "space.is_private"}},
		{"bare input, no such member", "x if { y := input; y.a }", true, nil, []string{""}},
		{"bare input to a builtin", "x if count(json.marshal(input)) > 3", true, [][]string{nil}, nil},
		{"object only tested", "x if { g := input.target.organization_role; is_object(g) }", true, nil, []string{"", "target", "target.organization_role"}},
		{"object to a builtin", "x if object.get(input.target, \"name\", \"\") == \"\"", true, [][]string{{"target"}}, nil},
		{"path in a path", "x if data.d[input.role.type]", true, nil, []string{"", "role", "role.type"}},
		{"clock", "x if time.now_ns() > 0", false, nil, nil},
		{"randomness", "x if rand.intn(\"k\", 10) > 0", false, nil, nil},
		{"network", "x if http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1:1\"})", false, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := New(WithoutDefaultPolicy(), WithModule("p.rego", "package spaceauthz\n\ndecision := {\"allow\": true, \"violations\": []}\n\n"+tc.module+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got := e.policy.Load().cache != nil; got != tc.cached {
				t.Fatalf("cached = %v, want %v", got, tc.cached)
			}
			if !tc.cached {
				return
			}
			want := newKeySpec(tc.paths, nil).nodes
			for _, path := range tc.nodes {
				n := inputSchema
				if path != "" {
					n = inputSchema.at(strings.Split(path, "."))
				}
				if !slices.Contains(want, n) {
					want = append(want, n)
				}
			}
			want = specOf(want, nil).nodes
			if got := e.policy.Load().whole.nodes; !slices.Equal(got, want) {
				t.Errorf("key nodes %v, want %v", paths(got), paths(want))
			}
		})
	}
}

func TestCacheStaysWithinItsSize(t *testing.T) {
	t.Parallel()
	e, err := New(WithDecisionCache(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []membership.AccountRole{membership.AccountAdmin, membership.AccountMember, membership.AccountAnnotator, membership.AccountAdmin} {
		if _, err := e.Decide(context.Background(), facts(role, "")); err != nil {
			t.Fatal(err)
		}
		if n := e.policy.Load().cache.len(); n > 2 {
			t.Fatalf("cache holds %d decisions, want at most 2", n)
		}
	}
	off, err := New(WithDecisionCache(0))
	if err != nil {
		t.Fatal(err)
	}
	if off.policy.Load().cache != nil {
		t.Error("WithDecisionCache(0) left the cache on")
	}
}

func TestFailuresAreNotRemembered(t *testing.T) {
	t.Parallel()
	e, err := New(WithoutDefaultPolicy(), WithModule("p.rego", `package spaceauthz

decision := {"allow": to_number(input.actor.name) > 0, "violations": []}
`))
	if err != nil {
		t.Fatal(err)
	}
	f := facts(membership.AccountAdmin, "")
	f.Actor.Name = "not a number"
	if _, err := e.Decide(context.Background(), f); err == nil {
		t.Fatal("Decide succeeded on a builtin error")
	}
	if n := e.policy.Load().cache.len(); n != 0 {
		t.Errorf("a failed evaluation left %d decisions in the cache", n)
	}
	// A cancelled context denies even where a decision is remembered.
	f.Actor.Name = "1"
	if d, err := e.Decide(context.Background(), f); err != nil || !d.Allow {
		t.Fatalf("Decide = %+v, %v", d, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if d, err := e.Decide(ctx, f); !errors.Is(err, context.Canceled) || d.Allow {
		t.Errorf("Decide on a cancelled context = %+v, %v", d, err)
	}
}

// TestCachedViolationsAreCopies: a caller that changes the violations it got
// does not change what the engine answers next.
func TestCachedViolationsAreCopies(t *testing.T) {
	t.Parallel()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	f := facts(membership.AccountMember, "")
	first, err := e.Decide(context.Background(), f)
	if err != nil || first.Allow {
		t.Fatalf("Decide = %+v, %v; want a deny", first, err)
	}
	want := slices.Clone(first.Violations)
	first.Violations[0].Code = "tampered"
	for range 2 {
		d, err := e.Decide(context.Background(), f)
		if err != nil || !slices.Equal(d.Violations, want) {
			t.Fatalf("Decide = %+v, %v; want %v", d, err, want)
		}
		d.Violations[0].Code = "tampered"
	}
}

// paths names nodes by their paths, for messages.
func paths(nodes []*schemaNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = "input." + joinPath(n.path)
	}
	return out
}
