package policy

import (
	"encoding/binary"
	"slices"

	"github.com/spaceauthz/spaceauthz/membership"
)

// A decision key is the part of the input document that a policy reads,
// written straight from the typed facts into a byte string: two facts with
// equal keys have input documents that agree on every path the policy can
// read, up to the renaming of ids the policy only compares, so they get the
// same decision.
//
// Every node of the key writes its state: a leaf its value, an object
// whether it is there, null, or undefined. A read of a path takes the state
// of every node on the way (so "actor is null" and "actor.id is X" are both
// captured) and of the whole subtree at its end.
//
// An id that the policy only compares with other such ids (see
// classifyIDs) is written as its equality class instead of its value: the
// first distinct id of the key is class 0, the next class 1, and so on. Two
// tenants whose requests have the same shape then share one key.

// The tags that start every node's state, so that keys cannot run together.
// undefined and null are the states of the same name.
const (
	tagUndefined = byte(undefined)
	tagNull      = byte(null)
	tagObject    = byte(iota)
	tagFalse
	tagTrue
	tagText
	tagTexts
	tagClass
)

// keySpec says how to write the keys of one read set.
type keySpec struct {
	nodes []*schemaNode // in schema order
	// classed marks the nodes (ids) written as their equality class.
	classed []bool
}

// newKeySpec returns the spec for the nodes that a read of one of the paths
// (each relative to input) can observe; the ids in classed are written as
// equality classes.
func newKeySpec(paths [][]string, classed map[*schemaNode]bool) keySpec {
	var picked []*schemaNode
	pick := func(n *schemaNode) {
		if !slices.Contains(picked, n) {
			picked = append(picked, n)
		}
	}
	for _, path := range paths {
		n := inputSchema
		pick(n)
		for _, seg := range path {
			if n = n.at([]string{seg}); n == nil {
				// Deeper than the schema goes: undefined, or inside a leaf
				// whose value is already picked.
				break
			}
			pick(n)
		}
		if n != nil {
			n.each(pick)
		}
	}
	return specOf(picked, classed)
}

// keySpecOf returns the spec for the keys of a rule set that observes
// exactly the given nodes (see classifyIDs), or, when that is not known,
// reads the given paths.
func keySpecOf(observed map[*schemaNode]bool, paths [][]string, classed map[*schemaNode]bool) keySpec {
	if observed == nil {
		return newKeySpec(paths, classed)
	}
	nodes := make([]*schemaNode, 0, len(observed))
	for n := range observed {
		nodes = append(nodes, n)
	}
	return specOf(nodes, classed)
}

func specOf(picked []*schemaNode, classed map[*schemaNode]bool) keySpec {
	slices.SortFunc(picked, func(a, b *schemaNode) int { return a.index - b.index })
	spec := keySpec{nodes: picked, classed: make([]bool, len(picked))}
	for i, n := range picked {
		spec.classed[i] = classed[n]
	}
	return spec
}

// write appends the key of f to b.
func (k *keySpec) write(b []byte, f *membership.Facts) []byte {
	var classes idClasses
	for i, n := range k.nodes {
		v := n.read(f)
		if v.state != present {
			b = append(b, byte(v.state))
			continue
		}
		switch n.kind {
		case kindObject:
			b = append(b, tagObject)
		case kindBool:
			if v.flag {
				b = append(b, tagTrue)
			} else {
				b = append(b, tagFalse)
			}
		case kindStrings:
			b = append(b, tagTexts)
			b = binary.AppendUvarint(b, uint64(len(v.list)))
			for _, s := range v.list {
				b = binary.AppendUvarint(b, uint64(len(s)))
				b = append(b, s...)
			}
		default:
			if k.classed[i] {
				b = append(b, tagClass)
				b = binary.AppendUvarint(b, uint64(classes.of(v.text)))
				continue
			}
			b = append(b, tagText)
			b = binary.AppendUvarint(b, uint64(len(v.text)))
			b = append(b, v.text...)
		}
	}
	return b
}

// idClasses numbers the distinct ids of one key in the order they are
// first seen. A key holds a few dozen ids at most, so a linear search of a
// small array beats a map and does not allocate.
type idClasses struct {
	seen [32]string
	n    int
	more []string
}

func (c *idClasses) of(id string) int {
	for i := range c.n {
		if c.seen[i] == id {
			return i
		}
	}
	for i, s := range c.more {
		if s == id {
			return len(c.seen) + i
		}
	}
	if c.n < len(c.seen) {
		c.seen[c.n] = id
		c.n++
		return c.n - 1
	}
	c.more = append(c.more, id)
	return len(c.seen) + len(c.more) - 1
}

// classedPaths names the ids written as classes, for tests and messages.
func (k *keySpec) classedPaths() []string {
	var out []string
	for i, n := range k.nodes {
		if k.classed[i] {
			out = append(out, joinPath(n.path))
		}
	}
	return out
}
