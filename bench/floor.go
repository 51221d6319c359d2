package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/internal/memdbkey"
	"github.com/spaceauthz/spaceauthz/membership"
)

// The floor of the store benchmarks: a bare go-memdb holding nothing but a
// space members table, in which an upsert is one write transaction that
// looks the (space, user) pair up, inserts the updated record and commits.
// No store can write a membership with go-memdb for less.

const (
	floorTable = "space_members"
	floorID    = "id"
)

// floorSchema indexes memberships by (space, user), their primary key, with
// the indexer memstore uses: the floor is memstore's own table.
func floorSchema() *memdb.DBSchema {
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		floorTable: {
			Name: floorTable,
			Indexes: map[string]*memdb.IndexSchema{
				floorID: {Name: floorID, Unique: true, Indexer: memdbkey.ByPair(func(m *membership.Membership) (membership.ID, membership.ID) {
					return m.SpaceID, m.UserID
				})},
			},
		},
	}}
}

// floorDB is a bare go-memdb holding the memberships of a world.
type floorDB struct {
	world   *world
	db      *memdb.MemDB
	seeding time.Duration
}

// newFloorDB returns a floor holding the n memberships of w, inserted in
// one transaction, with IDs drawn like memstore's.
func newFloorDB(w *world) (*floorDB, error) {
	db, err := memdb.NewMemDB(floorSchema())
	if err != nil {
		return nil, err
	}
	txn := db.Txn(true)
	defer txn.Abort()
	for k := range w.n {
		space, user := w.membership(k)
		m := &membership.Membership{ID: newMembershipID(), SpaceID: fresh(space), UserID: fresh(user), Role: alternateRoles[1]}
		if err := txn.Insert(floorTable, m); err != nil {
			return nil, err
		}
	}
	txn.Commit()
	return &floorDB{world: w, db: db}, nil
}

// newMembershipID returns a random 128-bit ID, as memstore draws them.
func newMembershipID() membership.ID {
	var b [16]byte
	rand.Read(b[:])
	return membership.ID(base64.StdEncoding.EncodeToString(b[:]))
}

var errNoMembership = errors.New("no such membership")

// upsert writes the next add for user u, the same write an add through
// memstore makes: look the membership up, insert it with the new role,
// commit.
func (f *floorDB) upsert(u int) (membership.Membership, error) {
	req := f.world.addRequest(u)
	txn := f.db.Txn(true)
	defer txn.Abort()
	raw, err := txn.First(floorTable, floorID, string(req.SpaceID), string(req.UserID))
	if err != nil {
		return membership.Membership{}, err
	}
	if raw == nil {
		return membership.Membership{}, fmt.Errorf("%w: %s in %s", errNoMembership, req.UserID, req.SpaceID)
	}
	updated := *raw.(*membership.Membership)
	updated.Role = req.Role
	if err := txn.Insert(floorTable, &updated); err != nil {
		return membership.Membership{}, err
	}
	txn.Commit()
	return updated, nil
}

var floorDBs sync.Map // n → func() (*floorDB, error)

// floorWorld returns the floor holding a world of n memberships, built on
// first use and shared after.
func floorWorld(n int) (*floorDB, error) {
	return cached(&floorDBs, n, func() (*floorDB, error) {
		start := time.Now()
		f, err := newFloorDB(newWorld(n))
		if err == nil {
			f.seeding = time.Since(start)
		}
		return f, err
	})
}
