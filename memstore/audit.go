package memstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/internal/memdbkey"
	"github.com/spaceauthz/spaceauthz/membership"
)

// The audit log. An account's entries, in commit order, are an
// append-only slice; a row of tableAuditLogs holds the slice of one account
// (actor allActors) or of one actor's entries in it, and a write that
// commits an entry replaces those two rows with rows whose slices are one
// longer. Older rows, which snapshots may still hold, keep their shorter
// slices: the elements below a slice's length are never written again, so
// a snapshot reads its entries without a lock while a writer appends past
// them. Writes are serialized by the write lock, so an entry's position,
// taken from a counter under that lock, is its commit order; and since the
// rows change in the change's own go-memdb transaction, a snapshot holds
// every change together with its entry or neither.
//
// Indexing every entry in go-memdb instead would copy the path of two
// radix trees that grow with the log on every write (it made an add about
// twice as slow); a row per account and per actor keeps the trees as small
// as the number of actors.
const tableAuditLogs = "audit_logs"

// allActors is the actor key of the row that holds every entry of an
// account. IDs are base64 and never spell it.
const allActors membership.ID = "*"

// auditLog is one row of tableAuditLogs.
type auditLog struct {
	AccountID, Actor membership.ID
	// entries are in position order, and never modified below their
	// length.
	entries []*membership.AuditEntry
}

func auditTable() *memdb.TableSchema {
	return table(tableAuditLogs, memdbkey.ByPair(func(l *auditLog) (membership.ID, membership.ID) { return l.AccountID, l.Actor }))
}

// appendEntry replaces, in txn, the row of account and actor with one whose
// entries end with e.
func appendEntry(txn *memdb.Txn, account, actor membership.ID, e *membership.AuditEntry) error {
	var entries []*membership.AuditEntry
	if obj, err := txn.First(tableAuditLogs, indexID, string(account), string(actor)); err != nil {
		return err
	} else if obj != nil {
		entries = obj.(*auditLog).entries
	}
	return txn.Insert(tableAuditLogs, &auditLog{AccountID: account, Actor: actor, entries: append(entries, e)})
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
	for _, actor := range []membership.ID{allActors, e.Actor} {
		if err := appendEntry(txn, e.AccountID, actor, &e); err != nil {
			return fmt.Errorf("memstore: writing the audit entry: %w", err)
		}
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
	key := allActors
	if q.ActorID != "" && !q.Ascending {
		if !q.ActorID.Valid() {
			return page, nil // no user has it: no entry is theirs
		}
		key = q.ActorID
	}
	obj, err := txn.First(tableAuditLogs, indexID, string(actor.AccountID), string(key))
	if err != nil {
		return membership.AuditPage{}, fmt.Errorf("memstore: reading %s: %w", tableAuditLogs, err)
	}
	if obj == nil {
		return page, nil
	}
	entries := obj.(*auditLog).entries
	if q.Ascending {
		from := sort.Search(len(entries), func(i int) bool { return entries[i].Position > q.After })
		for _, e := range entries[from:] {
			if len(page.Entries) == q.Limit {
				page.More = true
				break
			}
			page.Entries = append(page.Entries, *e)
		}
		return page, nil
	}
	below := len(entries)
	if q.Before > 0 {
		below = sort.Search(len(entries), func(i int) bool { return entries[i].Position >= q.Before })
	}
	for i := below - 1; i >= 0; i-- {
		e := entries[i]
		if !q.Until.IsZero() && e.Time.After(q.Until) {
			continue
		}
		if !q.Since.IsZero() && e.Time.Before(q.Since) {
			break // times follow commit order: every older entry is older still
		}
		if len(page.Entries) == q.Limit {
			page.More = true
			break
		}
		page.Entries = append(page.Entries, *e)
	}
	return page, nil
}
