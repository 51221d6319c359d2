// Package memdbkey is a go-memdb indexer for records keyed by one ID or a
// pair of IDs, read by a plain function. go-memdb's own StringFieldIndex and
// CompoundIndex find the fields by reflection and build each key in several
// allocations, on every lookup; memstore looks up a dozen records per add.
// The benchmarks' bare go-memdb floor uses the same indexer, so that the
// floor is the same table.
package memdbkey

import (
	"fmt"

	"github.com/spaceauthz/spaceauthz/membership"
)

// Index is a go-memdb indexer (memdb.SingleIndexer and memdb.PrefixIndexer).
// A key is each ID followed by a zero byte, as go-memdb's string indexes
// write them; IDs are base64 and never hold one.
type Index struct {
	// fields is 1 or 2; key returns the second ID as "" when it is 1.
	fields int
	key    func(obj any) (membership.ID, membership.ID)
}

// ByID indexes records of type *T by one ID.
func ByID[T any](id func(*T) membership.ID) *Index {
	return &Index{fields: 1, key: func(obj any) (membership.ID, membership.ID) {
		return id(obj.(*T)), ""
	}}
}

// ByPair indexes records of type *T by a pair of IDs; a prefix lookup with
// the first ID and "" lists the records of that first ID.
func ByPair[T any](pair func(*T) (membership.ID, membership.ID)) *Index {
	return &Index{fields: 2, key: func(obj any) (membership.ID, membership.ID) {
		return pair(obj.(*T))
	}}
}

// FromObject implements memdb.SingleIndexer.
func (k *Index) FromObject(obj any) (bool, []byte, error) {
	a, b := k.key(obj)
	if a == "" || (k.fields == 2 && b == "") {
		return false, nil, nil
	}
	key := make([]byte, 0, len(a)+len(b)+2)
	key = append(append(key, a...), 0)
	if k.fields == 2 {
		key = append(append(key, b...), 0)
	}
	return true, key, nil
}

// FromArgs implements memdb.Indexer: one string argument per field.
func (k *Index) FromArgs(args ...any) ([]byte, error) {
	if len(args) != k.fields {
		return nil, fmt.Errorf("memstore: index takes %d arguments, not %d", k.fields, len(args))
	}
	return k.build(args, true)
}

// PrefixFromArgs implements memdb.PrefixIndexer: the last argument is a
// prefix, without its zero byte.
func (k *Index) PrefixFromArgs(args ...any) ([]byte, error) {
	if len(args) == 0 || len(args) > k.fields {
		return nil, fmt.Errorf("memstore: index takes 1 to %d arguments, not %d", k.fields, len(args))
	}
	return k.build(args, false)
}

func (k *Index) build(args []any, terminated bool) ([]byte, error) {
	n := len(args)
	for _, arg := range args {
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("memstore: index argument %#v is not a string", arg)
		}
		n += len(s)
	}
	key := make([]byte, 0, n)
	for i, arg := range args {
		key = append(key, arg.(string)...)
		if terminated || i < len(args)-1 {
			key = append(key, 0)
		}
	}
	return key, nil
}
