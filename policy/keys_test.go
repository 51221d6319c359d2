package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// TestKeysAgreeWithInput: with every path read, two facts have equal keys
// exactly when their input documents are equal. This ties keys.go to
// inputValue, so neither can change alone.
func TestKeysAgreeWithInput(t *testing.T) {
	t.Parallel()
	whole := &decisionCache{nodes: keyNodes([][]string{nil})}
	rapid.Check(t, func(t *rapid.T) {
		a, b := genFacts(t), genFacts(t)
		ka, kb := whole.key(nil, a), whole.key(nil, b)
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
		c := &decisionCache{nodes: keyNodes(paths)}
		rapid.Check(t, func(t *rapid.T) {
			a, b := genFacts(t), genFacts(t)
			if string(c.key(nil, a)) != string(c.key(nil, b)) {
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
