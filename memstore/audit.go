package memstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The audit log: one table of entries, indexed by (account, position) and,
// for the filter by actor, by (account, actor, position). Writes are
// serialized by the write lock, so an entry's position, taken from a
// counter under that lock, is its commit order, and a snapshot holds every
// entry up to the last one it holds.
const (
	tableAuditEntries = "audit_entries"
	indexAuditActor   = "actor"
)

// auditIndex is the go-memdb indexer of the audit log: the account id, a
// zero byte, with byActor the actor id and a zero byte, then the position
// as 8 big-endian bytes, so that an account's entries come out in commit
// order.
type auditIndex struct{ byActor bool }

func (x auditIndex) FromObject(obj any) (bool, []byte, error) {
	e := obj.(*membership.AuditEntry)
	if x.byActor {
		return true, auditKey(e.AccountID, e.Actor, e.Position, true), nil
	}
	return true, auditKey(e.AccountID, "", e.Position, false), nil
}

// FromArgs takes the account id, with byActor the actor id, and a position.
func (x auditIndex) FromArgs(args ...any) ([]byte, error) {
	want := 2
	if x.byActor {
		want = 3
	}
	if len(args) != want {
		return nil, fmt.Errorf("memstore: the audit index takes %d arguments, not %d", want, len(args))
	}
	account, ok1 := args[0].(membership.ID)
	position, ok2 := args[want-1].(int64)
	actor, ok3 := membership.ID(""), true
	if x.byActor {
		actor, ok3 = args[1].(membership.ID)
	}
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("memstore: the audit index takes IDs and an int64 position, not %#v", args)
	}
	return auditKey(account, actor, position, x.byActor), nil
}

func auditKey(account, actor membership.ID, position int64, byActor bool) []byte {
	key := make([]byte, 0, len(account)+len(actor)+10)
	key = append(append(key, account...), 0)
	if byActor {
		key = append(append(key, actor...), 0)
	}
	return binary.BigEndian.AppendUint64(key, uint64(position))
}

func auditTable() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableAuditEntries,
		Indexes: map[string]*memdb.IndexSchema{
			indexID:         {Name: indexID, Unique: true, Indexer: auditIndex{}},
			indexAuditActor: {Name: indexAuditActor, Unique: true, Indexer: auditIndex{byActor: true}},
		},
	}
}

// record inserts, in the write transaction txn, the audit entry of change
// made on f, if the change changed anything, and sets it in w. It runs
// under the write lock, just before the commit, which cannot fail: so the
// counters move on here.
func (s *Store) record(txn *memdb.Txn, f *membership.Facts, change membership.Change, w *membership.Written) error {
	e, changed := membership.NewAuditEntry(f, change, change.Origin)
	if !changed {
		return nil
	}
	if e.AccountID == "" {
		return errors.New("memstore: a change outside any account")
	}
	e.ID = newMembershipID()
	e.Position = s.lastPosition + 1
	e.Time = time.Now().UTC()
	if e.Time.Before(s.lastTime) {
		// Commit order and time order agree, even if the clock steps back.
		e.Time = s.lastTime
	}
	e.Removed = w.Cascaded
	if err := txn.Insert(tableAuditEntries, &e); err != nil {
		return fmt.Errorf("memstore: writing the audit entry: %w", err)
	}
	w.Entry = e
	s.lastPosition, s.lastTime = e.Position, e.Time
	return nil
}

// AuditLog implements membership.Store, on one lock-free snapshot.
func (s *Store) AuditLog(ctx context.Context, q membership.AuditQuery) (membership.AuditPage, error) {
	if err := ctx.Err(); err != nil {
		return membership.AuditPage{}, err
	}
	txn := s.db.Txn(false)
	r := reader{txn: txn}
	actor := get[membership.User](&r, tableUsers, q.Actor)
	if r.err != nil || actor == nil {
		return membership.AuditPage{}, r.err
	}
	page := membership.AuditPage{Actor: actor}
	account := actor.AccountID
	index, args := indexID, []any{account}
	if q.ActorID != "" && !q.Ascending {
		index, args = indexAuditActor, []any{account, q.ActorID}
	}
	var (
		it  memdb.ResultIterator
		err error
	)
	if q.Ascending {
		it, err = txn.LowerBound(tableAuditEntries, index, append(args, q.After+1)...)
	} else {
		before := q.Before
		if before <= 0 {
			before = 1<<63 - 1
		}
		it, err = txn.ReverseLowerBound(tableAuditEntries, index, append(args, before-1)...)
	}
	if err != nil {
		return membership.AuditPage{}, fmt.Errorf("memstore: reading %s: %w", tableAuditEntries, err)
	}
	for obj := it.Next(); obj != nil; obj = it.Next() {
		e := obj.(*membership.AuditEntry)
		if e.AccountID != account || (index == indexAuditActor && e.Actor != q.ActorID) {
			break // past the account's (or the actor's) entries
		}
		if !q.Ascending {
			if !q.Until.IsZero() && e.Time.After(q.Until) {
				continue
			}
			if !q.Since.IsZero() && e.Time.Before(q.Since) {
				break // times follow commit order: every older entry is older still
			}
		}
		if len(page.Entries) == q.Limit {
			page.More = true
			break
		}
		page.Entries = append(page.Entries, *e)
	}
	return page, nil
}
