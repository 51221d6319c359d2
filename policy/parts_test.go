package policy

import (
	"slices"
	"testing"
)

// TestGatesOfTheDefaultPolicy: the default policy's rules of an add and a
// remove start with a gate (adding, removing, changes_membership), which
// reads whether the caller may read the space; the rest of each rule is
// keyed without it, and the gate with it.
func TestGatesOfTheDefaultPolicy(t *testing.T) {
	t.Parallel()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p := e.policy.Load()
	if len(p.gates) < 3 {
		t.Fatalf("%d gates, want adding, removing and changes_membership", len(p.gates))
	}
	paths := func(spec keySpec) []string {
		var out []string
		for _, n := range spec.nodes {
			out = append(out, joinPath(n.path))
		}
		return out
	}
	gated := 0
	for i, g := range p.gateOf {
		if g < 0 {
			continue
		}
		gated++
		if slices.Contains(paths(p.parts[i]), "space.is_private") {
			t.Errorf("rule %d is keyed on space.is_private, which only its gate reads: %v", i, paths(p.parts[i]))
		}
		if !slices.Contains(paths(p.gates[g]), "space.is_private") {
			t.Errorf("gate %d is not keyed on space.is_private, which it reads: %v", g, paths(p.gates[g]))
		}
	}
	if gated < 10 {
		t.Errorf("%d of %d violation rules are gated, want every rule of an add and a remove", gated, len(p.parts))
	}
}
