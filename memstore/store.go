// Package memstore is the default membership.Store: an in-memory store on
// github.com/hashicorp/go-memdb, for a single process.
//
// Reads run on lock-free snapshots. AddUserToSpace checks optimistically: it
// reads the facts from a snapshot and runs the policy without any lock, then
// takes go-memdb's write lock, reads the facts again and writes only if they
// are unchanged (records are immutable once stored, so "unchanged" is
// pointer equality). After a few lost races it runs the check under the
// write lock, so every add finishes.
//
// Records are stored as given and never modified afterwards: the Facts a
// check receives point into the store and must not be modified.
package memstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// optimisticAttempts is how many times an add checks outside the write lock
// before it checks under it.
const optimisticAttempts = 3

// Store is the go-memdb store. It is safe for concurrent use.
type Store struct {
	db *memdb.MemDB
}

var (
	_ membership.Store = (*Store)(nil)
	_ fixture.Seeder   = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		// The schema is a constant of this package; a test covers it.
		panic(fmt.Sprintf("memstore: invalid schema: %v", err))
	}
	return &Store{db: db}
}

// UpsertMembership implements membership.Store.
func (s *Store) UpsertMembership(ctx context.Context, req membership.AddUserRequest, check func(*membership.Facts) error) (membership.Membership, error) {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return membership.Membership{}, err
		}
		var seen *membership.Facts
		if attempt <= optimisticAttempts {
			var err error
			if seen, err = readFacts(s.db.Txn(false), req); err != nil {
				return membership.Membership{}, err
			}
			if err := check(seen); err != nil {
				return membership.Membership{}, err
			}
		}
		txn := s.db.Txn(true)
		facts, err := readFacts(txn, req)
		if err != nil {
			txn.Abort()
			return membership.Membership{}, err
		}
		if seen == nil {
			// Last resort: check under the write lock.
			if err := check(facts); err != nil {
				txn.Abort()
				return membership.Membership{}, err
			}
		} else if *facts != *seen {
			txn.Abort()
			continue
		}
		m, err := upsert(txn, facts)
		if err == nil {
			// A cancelled add leaves nothing behind, even this late.
			err = ctx.Err()
		}
		if err != nil {
			txn.Abort()
			return membership.Membership{}, err
		}
		txn.Commit()
		return m, nil
	}
}

// upsert writes the membership the facts ask for, inside txn.
func upsert(txn *memdb.Txn, f *membership.Facts) (membership.Membership, error) {
	role := f.Request.Role.Canonical()
	if f.Existing != nil {
		if f.Existing.Role == role {
			return *f.Existing, nil
		}
		updated := *f.Existing
		updated.Role = role
		return updated, txn.Insert(tableSpaceMembers, &updated)
	}
	id, err := newMembershipID(txn)
	if err != nil {
		return membership.Membership{}, err
	}
	created := &membership.Membership{ID: id, UserID: f.Request.UserID, SpaceID: f.Request.SpaceID, Role: role}
	return *created, txn.Insert(tableSpaceMembers, created)
}

// newMembershipID returns a random 128-bit ID that no membership has.
// Randomness, not a counter, keeps IDs unique across stores and restarts and
// unguessable.
func newMembershipID(txn *memdb.Txn) (membership.ID, error) {
	var b [16]byte
	for {
		rand.Read(b[:])
		id := membership.ID(base64.StdEncoding.EncodeToString(b[:]))
		existing, err := txn.First(tableSpaceMembers, indexID, string(id))
		if err != nil {
			return "", err
		}
		if existing == nil {
			return id, nil
		}
	}
}

// SpaceMembers returns the memberships of a space, in no particular order.
func (s *Store) SpaceMembers(ctx context.Context, spaceID membership.ID) ([]membership.Membership, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The empty user ID makes the prefix end exactly after the space ID.
	it, err := s.db.Txn(false).Get(tableSpaceMembers, indexSpaceUser+"_prefix", string(spaceID), "")
	if err != nil {
		return nil, err
	}
	var out []membership.Membership
	for obj := it.Next(); obj != nil; obj = it.Next() {
		out = append(out, *obj.(*membership.Membership))
	}
	return out, nil
}

var errInvalidID = errors.New("memstore: not an ID")
