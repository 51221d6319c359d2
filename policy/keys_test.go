package policy

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/spaceauthz/spaceauthz/membership"
)

// TestKeysAgreeWithInput: with every path read, two facts have equal keys
// exactly when their input documents are equal. This ties keys.go to
// inputValue, so neither can change alone.
func TestKeysAgreeWithInput(t *testing.T) {
	t.Parallel()
	whole := newKeySpec([][]string{nil}, nil)
	rapid.Check(t, func(t *rapid.T) {
		a, b := genFacts(t), genFacts(t)
		ka, kb := whole.write(nil, a), whole.write(nil, b)
		equalDocs := cmp.Equal(InputDocument(a), InputDocument(b))
		if equalDocs != (string(ka) == string(kb)) {
			t.Fatalf("keys equal: %v, documents equal: %v\n%v\n%v", string(ka) == string(kb), equalDocs, InputDocument(a), InputDocument(b))
		}
	})
}

// TestKeysOfPartialReads: facts with equal keys for some paths have input
// documents that agree on those paths.
func TestKeysOfPartialReads(t *testing.T) {
	t.Parallel()
	for _, paths := range [][][]string{
		{{"actor", "account_id"}},
		{{"actor", "organization_role"}, {"space", "is_private"}},
		{{"target", "organization_role", "custom_role", "permissions"}},
		{{"role", "name"}, {"custom_role"}},
		{{"membership", "role", "id"}, {"organization"}},
		{{"nothing", "here"}, {"actor", "role", "deeper"}},
	} {
		c := newKeySpec(paths, nil)
		rapid.Check(t, func(t *rapid.T) {
			a, b := genFacts(t), genFacts(t)
			if string(c.write(nil, a)) != string(c.write(nil, b)) {
				return
			}
			for _, p := range paths {
				va, oka := lookup(InputDocument(a), p)
				vb, okb := lookup(InputDocument(b), p)
				if oka != okb || !cmp.Equal(va, vb) {
					t.Fatalf("equal keys for %v, but input%v differs: %v (%v) vs %v (%v)", paths, p, va, oka, vb, okb)
				}
			}
		})
	}
}

// lookup follows path in a JSON document; ok is false when it is undefined.
func lookup(doc any, path []string) (any, bool) {
	for _, seg := range path {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return doc, true
}

// TestKeysAcrossTenants: under the default policy, the requests of two
// tenants with the same shape share one key, whole and per rule; under a
// policy that looks at an id's value, they do not.
func TestKeysAcrossTenants(t *testing.T) {
	t.Parallel()
	tenantA := facts(membership.AccountMember, "a@example.com")
	tenantB := renameIDs(tenantA, func(id membership.ID) membership.ID {
		return testID(decodeTestID(id) + "-b")
	})
	if tenantA.Actor.AccountID == tenantB.Actor.AccountID {
		t.Fatal("the rename left the account alone")
	}
	keys := func(e *Engine, f *membership.Facts) []string {
		p := e.policy.Load()
		out := []string{string(p.whole.write(nil, f))}
		for i := range p.parts {
			out = append(out, string(p.partKey(i, nil, f)))
		}
		return out
	}
	standard, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if a, b := keys(standard, tenantA), keys(standard, tenantB); !cmp.Equal(a, b) {
		t.Errorf("default policy: keys differ across tenants:\n%q\n%q", a, b)
	}
	literal, err := New(WithModule("literal.rego", `package spaceauthz

violations contains {"code": "space_one", "rule": "literal"} if input.space.id == "`+string(testID("Space:1"))+`"
`))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := keys(literal, tenantA), keys(literal, tenantB); a[0] == b[0] {
		t.Errorf("a policy that reads space.id: whole keys equal across tenants: %q", a[0])
	}
	ctx := context.Background()
	da, errA := literal.Decide(ctx, tenantA)
	db, errB := literal.Decide(ctx, tenantB)
	if errA != nil || errB != nil || cmp.Equal(da, db) {
		t.Errorf("decisions %+v (%v) and %+v (%v): want them to differ on space_one", da, errA, db, errB)
	}
}
