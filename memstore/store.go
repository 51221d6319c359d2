// Package memstore is the default membership.Store: an in-memory store on
// github.com/hashicorp/go-memdb, for a single process.
//
// Reads run on lock-free snapshots. A write decides optimistically: it
// reads the facts from a snapshot and runs the policy without any lock; then
// it takes the write lock and writes only if no commit has changed (or
// added) a record behind the facts since: a record that was found is
// watched through go-memdb's watch channel of that record, one that was not
// is looked up again. So memstore also sees records that appear while the
// policy runs, which membership.Store does not require. The locked part is
// that check and the write. After a few lost races it decides under the
// write lock, so every write finishes.
//
// Every write that changes a membership inserts its audit entry in the
// same go-memdb transaction, so the two commit together or not at all.
// Writes are serialized by the write lock, which makes the order of the
// entries' positions the commit order.
//
// Records are stored as given and never modified afterwards: the Facts a
// check receives, and the audit entries a read returns, point into the
// store and must not be modified.
package memstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
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
	// lastPosition and lastTime are those of the last audit entry
	// committed; the write lock guards them.
	lastPosition int64
	lastTime     time.Time
	// defects plants known bugs, for this package's tests alone: they show
	// that the linearizability check catches a store that has them.
	defects defects
}

var (
	_ membership.Store  = (*Store)(nil)
	_ membership.Seeder = (*Store)(nil)
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

// Read implements membership.Store: the facts and the page come from one
// lock-free snapshot.
func (s *Store) Read(ctx context.Context, q membership.Query) (*membership.Facts, membership.Page, error) {
	if err := ctx.Err(); err != nil {
		return nil, membership.Page{}, err
	}
	txn := s.db.Txn(false)
	facts, err := readFacts(txn, q, nil)
	if err != nil || q.Page == nil {
		return facts, membership.Page{}, err
	}
	page, err := readPage(txn, q.SpaceID, *q.Page)
	if err != nil {
		return nil, membership.Page{}, err
	}
	return facts, page, nil
}

// Write implements membership.Store. It decides on a snapshot, without any
// lock; then, under the write lock, it applies the change only if no commit
// has touched what the facts were read from, and otherwise starts again.
// After optimisticAttempts lost races it decides under the write lock.
func (s *Store) Write(ctx context.Context, q membership.Query, decide func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return membership.Written{}, err
		}
		var (
			txn    *memdb.Txn
			facts  *membership.Facts
			change membership.Change
			err    error
		)
		if attempt <= optimisticAttempts {
			var watches watchSet
			if facts, err = readFacts(s.db.Txn(false), q, &watches); err != nil {
				return membership.Written{}, err
			}
			if change, err = decide(facts); err != nil {
				return membership.Written{}, err
			}
			txn = s.writeTxn()
			changed, err := watches.changed(txn)
			if s.defects.skipRecheck {
				changed = false
			}
			if err != nil {
				s.abort(txn)
				return membership.Written{}, err
			}
			if changed {
				s.abort(txn)
				continue
			}
		} else {
			// Lost too many races: decide under the write lock, where
			// nothing can change.
			txn = s.writeTxn()
			if facts, err = readFacts(txn, q, nil); err == nil {
				change, err = decide(facts)
			}
			if err != nil {
				s.abort(txn)
				return membership.Written{}, err
			}
		}
		if s.defects.splitCascade && change.Kind == membership.ChangeDeleteCascade {
			if err := s.splitCascade(txn, facts); err != nil {
				return membership.Written{}, err
			}
			txn = s.writeTxn()
		}
		m, err := apply(txn, facts, change)
		if err == nil {
			// A cancelled write leaves nothing behind, even this late.
			err = ctx.Err()
		}
		if err == nil {
			err = s.record(txn, facts, change, &m)
		}
		if err != nil {
			s.abort(txn)
			return membership.Written{}, err
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

// apply makes change to the membership it names, inside txn: the facts'
// user's in their space or in their organization. The tables' primary keys
// are (space, user) and (organization, user), so an insert replaces the
// existing membership.
func apply(txn *memdb.Txn, f *membership.Facts, change membership.Change) (membership.Written, error) {
	if change.Kind == membership.ChangeNone {
		return membership.Written{}, nil
	}
	q := f.Query
	switch {
	case change.Level == membership.LevelSpace && q.Operation.Level() == membership.LevelSpace:
		return applySpace(txn, f, change)
	case change.Level == membership.LevelOrganization && q.Operation.Level() == membership.LevelOrganization:
		return applyOrganization(txn, f, change)
	}
	return membership.Written{}, fmt.Errorf("memstore: a change at level %d for a %q query", change.Level, q.Operation)
}

func applySpace(txn *memdb.Txn, f *membership.Facts, change membership.Change) (membership.Written, error) {
	switch change.Kind {
	case membership.ChangePut:
		if f.Space == nil {
			return membership.Written{}, fmt.Errorf("memstore: space %s does not exist", f.Query.SpaceID)
		}
		if f.TargetOrganizationMember == nil {
			// The invariant holds whatever the policy allows.
			return membership.Written{}, membership.ErrUserNotInOrganization
		}
		m, err := put(txn, f.Query.SpaceID, f.Query.UserID, f.Existing, change.Role)
		return membership.Written{Space: m}, err
	case membership.ChangeDelete:
		if f.Existing == nil {
			return membership.Written{}, membership.ErrMembershipNotFound
		}
		return membership.Written{Space: *f.Existing}, txn.Delete(tableSpaceMembers, f.Existing)
	}
	return membership.Written{}, fmt.Errorf("memstore: unknown change %d of a space membership", change.Kind)
}

func applyOrganization(txn *memdb.Txn, f *membership.Facts, change membership.Change) (membership.Written, error) {
	existing := f.TargetOrganizationMember
	switch change.Kind {
	case membership.ChangePut:
		if f.Organization == nil {
			return membership.Written{}, fmt.Errorf("memstore: organization %s does not exist", f.Query.OrganizationID)
		}
		m, err := putOrganizationMember(txn, f.Query.OrganizationID, f.Query.UserID, existing, change.Role)
		return membership.Written{Organization: m}, err
	case membership.ChangeDelete, membership.ChangeDeleteCascade:
		if existing == nil {
			return membership.Written{}, membership.ErrMembershipNotFound
		}
		below, err := spaceMembersOf(txn, existing.OrganizationID, existing.UserID)
		if err != nil {
			return membership.Written{}, err
		}
		if len(below) > 0 && change.Kind == membership.ChangeDelete {
			return membership.Written{}, fmt.Errorf("memstore: %d space memberships rest on the organization membership; only a cascade removes it", len(below))
		}
		w := membership.Written{Organization: *existing}
		for _, m := range below {
			if err := txn.Delete(tableSpaceMembers, m); err != nil {
				return membership.Written{}, fmt.Errorf("memstore: cascade: %w", err)
			}
			w.Cascaded = append(w.Cascaded, *m)
		}
		return w, txn.Delete(tableOrganizationMembers, existing)
	}
	return membership.Written{}, fmt.Errorf("memstore: unknown change %d of an organization membership", change.Kind)
}

// spaceMembersOf returns the memberships of userID in the spaces of orgID,
// in space id order, as txn sees them now: under the write lock, every one
// that exists when the cascade commits.
func spaceMembersOf(txn *memdb.Txn, orgID, userID membership.ID) ([]*membership.Membership, error) {
	it, err := txn.Get(tableSpaces, prefix(indexOrganization), string(orgID), "")
	if err != nil {
		return nil, fmt.Errorf("memstore: reading %s: %w", tableSpaces, err)
	}
	var out []*membership.Membership
	r := reader{txn: txn}
	for obj := it.Next(); obj != nil; obj = it.Next() {
		if m := r.spaceMember(obj.(*membership.Space).ID, userID); m != nil {
			out = append(out, m)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	// The index holds an organization's spaces in id order.
	return out, nil
}

// put gives userID the role in spaceID, existing being their membership
// now, if any.
func put(txn *memdb.Txn, spaceID, userID membership.ID, existing *membership.Membership, role membership.RoleAssignment) (membership.Membership, error) {
	role = role.Canonical()
	m := &membership.Membership{UserID: userID, SpaceID: spaceID, Role: role}
	if existing == nil {
		m.ID = newMembershipID()
	} else {
		if existing.Role == role {
			return *existing, nil
		}
		m.ID = existing.ID
	}
	return *m, txn.Insert(tableSpaceMembers, m)
}

// putOrganizationMember gives userID the role in orgID, existing being
// their membership now, if any; like put, it keeps an existing id.
func putOrganizationMember(txn *memdb.Txn, orgID, userID membership.ID, existing *membership.OrganizationMember, role membership.RoleAssignment) (membership.OrganizationMember, error) {
	role = role.Canonical()
	m := &membership.OrganizationMember{OrganizationID: orgID, UserID: userID, Role: role}
	if existing == nil {
		m.ID = newMembershipID()
	} else {
		if existing.Role == role {
			return *existing, nil
		}
		m.ID = existing.ID
	}
	return *m, txn.Insert(tableOrganizationMembers, m)
}

// newMembershipID returns a random 128-bit ID. Randomness, not a counter,
// keeps IDs unique across stores and restarts, and unguessable.
func newMembershipID() membership.ID {
	var b [16]byte
	rand.Read(b[:])
	return membership.ID(base64.StdEncoding.EncodeToString(b[:]))
}

// readPage reads the memberships of a space after a user, in user id
// order, from the (space, user) index: the next Limit of them, and whether
// more follow.
func readPage(txn *memdb.Txn, spaceID membership.ID, p membership.PageQuery) (membership.Page, error) {
	it, err := txn.LowerBound(tableSpaceMembers, indexID, string(spaceID), string(p.After))
	if err != nil {
		return membership.Page{}, fmt.Errorf("memstore: reading %s: %w", tableSpaceMembers, err)
	}
	var page membership.Page
	for obj := it.Next(); obj != nil; obj = it.Next() {
		m := obj.(*membership.Membership)
		if m.SpaceID != spaceID {
			break
		}
		if m.UserID == p.After {
			continue // the cursor's own user ended the previous page
		}
		if len(page.Members) == p.Limit {
			page.More = true
			break
		}
		page.Members = append(page.Members, *m)
	}
	return page, nil
}

var errInvalidID = errors.New("memstore: not an ID")
