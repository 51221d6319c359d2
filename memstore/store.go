// Package memstore is the default membership.Store: an in-memory store on
// github.com/hashicorp/go-memdb, for a single process.
//
// Reads run on lock-free snapshots. AddUserToSpace checks optimistically: it
// reads the facts from a snapshot and runs the policy without any lock; then
// it takes the write lock and writes only if no commit has changed (or
// added) a record behind the facts since: a record that was found is
// watched through go-memdb's watch channel of that record, one that was not
// is looked up again. The locked part is that check and the insert. After a
// few lost races it runs the check under the write lock, so every add
// finishes.
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
	"runtime"
	"sync"

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
	// adding is held by an add for the whole of its write transaction,
	// around go-memdb's own write lock (see writeTxn).
	adding sync.Mutex
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
		var (
			txn   *memdb.Txn
			facts *membership.Facts
			err   error
		)
		if attempt <= optimisticAttempts {
			// Check on a snapshot, without any lock; then, under the write
			// lock, write only if no commit has touched what was read.
			var watches watchSet
			if facts, err = readFacts(s.db.Txn(false), req, &watches); err != nil {
				return membership.Membership{}, err
			}
			if err := check(facts); err != nil {
				return membership.Membership{}, err
			}
			txn = s.writeTxn()
			changed, err := watches.changed(txn)
			if err != nil {
				s.abort(txn)
				return membership.Membership{}, err
			}
			if changed {
				s.abort(txn)
				continue
			}
		} else {
			// Lost too many races: check under the write lock, where
			// nothing can change.
			txn = s.writeTxn()
			if facts, err = readFacts(txn, req, nil); err == nil {
				err = check(facts)
			}
			if err != nil {
				s.abort(txn)
				return membership.Membership{}, err
			}
		}
		m, err := upsert(txn, facts)
		if err == nil {
			// A cancelled add leaves nothing behind, even this late.
			err = ctx.Err()
		}
		if err != nil {
			s.abort(txn)
			return membership.Membership{}, err
		}
		s.commit(txn)
		return m, nil
	}
}

// writeTxn opens go-memdb's write transaction for an add. Adds hold the
// write lock for a few microseconds; a waiting add spins for about as long
// before it sleeps, because on a busy machine a sleeping goroutine takes far
// longer to wake than the lock takes to come free, and parallel adds would
// then be slower than serial ones.
func (s *Store) writeTxn() *memdb.Txn {
	for range spinTries {
		if s.adding.TryLock() {
			return s.db.Txn(true)
		}
		runtime.Gosched()
	}
	s.adding.Lock()
	return s.db.Txn(true)
}

// spinTries bounds the spinning of writeTxn.
const spinTries = 64

func (s *Store) commit(txn *memdb.Txn) {
	txn.Commit()
	s.adding.Unlock()
}

func (s *Store) abort(txn *memdb.Txn) {
	txn.Abort()
	s.adding.Unlock()
}

// upsert writes the membership the facts ask for, inside txn. The table's
// primary key is (space, user), so the insert replaces the existing one.
func upsert(txn *memdb.Txn, f *membership.Facts) (membership.Membership, error) {
	role := f.Request.Role.Canonical()
	m := &membership.Membership{UserID: f.Request.UserID, SpaceID: f.Request.SpaceID, Role: role}
	if f.Existing == nil {
		m.ID = newMembershipID()
	} else {
		if f.Existing.Role == role {
			return *f.Existing, nil
		}
		m.ID = f.Existing.ID
	}
	return *m, txn.Insert(tableSpaceMembers, m)
}

// newMembershipID returns a random 128-bit ID. Randomness, not a counter,
// keeps IDs unique across stores and restarts, and unguessable.
func newMembershipID() membership.ID {
	var b [16]byte
	rand.Read(b[:])
	return membership.ID(base64.StdEncoding.EncodeToString(b[:]))
}

// SpaceMembers returns the memberships of a space, in no particular order.
func (s *Store) SpaceMembers(ctx context.Context, spaceID membership.ID) ([]membership.Membership, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The empty user ID makes the prefix end exactly after the space ID.
	it, err := s.db.Txn(false).Get(tableSpaceMembers, indexID+"_prefix", string(spaceID), "")
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
