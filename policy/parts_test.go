package policy

import (
	"slices"
	"strings"
	"testing"
)

// TestGatesOfTheDefaultPolicy: the default policy's rules of an add and a
// remove start with a gate (adding, removing, changes_membership), which
// reads whether the caller may read the space; the rest of each rule is
// keyed without it, and the gate with it. The rules of an organization
// operation start with gates of their own (on_organization, org_adding,
// org_removing, changes_organization_membership), which read whether the
// caller may see the organization and nothing of a space.
func TestGatesOfTheDefaultPolicy(t *testing.T) {
	t.Parallel()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p := e.policy.Load()
	if len(p.gates) < 7 {
		t.Fatalf("%d gates, want adding, removing, changes_membership and the four of organization operations", len(p.gates))
	}
	paths := func(spec keySpec) []string {
		var out []string
		for _, n := range spec.nodes {
			out = append(out, joinPath(n.path))
		}
		return out
	}
	gated, spaceGates, organizationGates := 0, map[int]bool{}, map[int]bool{}
	for i, g := range p.gateOf {
		if g < 0 {
			continue
		}
		gated++
		if slices.Contains(paths(p.parts[i]), "space.is_private") {
			t.Errorf("rule %d is keyed on space.is_private, which only its gate reads: %v", i, paths(p.parts[i]))
		}
		gatePaths := paths(p.gates[g])
		if slices.Contains(gatePaths, "space.is_private") {
			spaceGates[g] = true
			continue
		}
		// A gate of an organization operation.
		organizationGates[g] = true
		if !slices.Contains(gatePaths, "operation") {
			t.Errorf("gate %d is keyed neither on space.is_private nor on the operation: %v", g, gatePaths)
		}
		for _, path := range gatePaths {
			if path == "space" || strings.HasPrefix(path, "space.") {
				t.Errorf("gate %d of an organization operation is keyed on %s: %v", g, path, gatePaths)
			}
		}
	}
	if gated < 19 {
		t.Errorf("%d of %d violation rules are gated, want every rule of an add, a remove and an organization operation", gated, len(p.parts))
	}
	if len(spaceGates) < 3 || len(organizationGates) < 4 {
		t.Errorf("%d gates of space operations and %d of organization operations, want 3 and 4", len(spaceGates), len(organizationGates))
	}
}
