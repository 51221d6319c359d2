package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The traffic add benchmarks: full AddUserToSpace calls taking the requests
// of the stream in order, denied ones included, on a memstore holding a
// traffic world of about n space memberships (TrafficAdd/memstore-<n>),
// beside the floor: the same stream on a bare go-memdb table of the same
// memberships, where an allowed add is one upsert of its (space, user) key
// and a denied one a lookup of it (TrafficFloor/<n>). The world is sized by
// accounts, about 45 space memberships each: about 220 accounts for 10k,
// 22,000 for 1m.
//
// A store lives as a service's does: it keeps what the adds write, and
// each run takes up the stream where the last one stopped, so no request
// reaches a store twice. Before the first run, the first defaultWarmup
// requests of the stream go through it untimed, so that the service's
// engine is measured warm, as the hit ratio is. About one add in four
// creates a membership, so a store grows while it is measured; once its
// allowed adds since seeding reach 5% of its memberships, it is seeded
// afresh (keeping its engine) before the next run. Within one run of the
// command (-requests/10 adds, a quarter of them allowed) the 10k stores
// still grow by up to half; the 1m ones by under 1%. The three stores of
// the 1m world (the one facts are gathered from, memstore and the floor)
// take about 5 GB together.

// reseedGrowth is the share of growth after which a store is seeded again.
const reseedGrowth = 0.05

// A liveStore is a store of the add benchmarks with its place in the
// stream. S is the store: a memstore behind a Service, or the floor.
type liveStore[S any] struct {
	stream *trafficStream
	seed   func(*trafficWorld) (S, error)

	mu          sync.Mutex
	store       S
	memberships int // seeded
	next        int // the first request no run has taken yet
	allowed     int // allowed adds since seeding
	seeding     time.Duration
}

// newLiveStore seeds a store holding a traffic world of at least the given
// number of memberships, and runs the warm-up through add.
func newLiveStore[S any](memberships int, seed func(*trafficWorld) (S, error), add func(S, []trafficCase) error) (*liveStore[S], error) {
	s, err := trafficStreamOver(accountsHolding(memberships))
	if err != nil {
		return nil, err
	}
	l := &liveStore[S]{stream: s, seed: seed}
	if err := l.reseed(); err != nil {
		return nil, err
	}
	warmup, err := s.prefix(defaultWarmup)
	if err != nil {
		return nil, err
	}
	if err := add(l.store, warmup); err != nil {
		return nil, fmt.Errorf("warming up: %w", err)
	}
	l.next = len(warmup)
	l.countAllowed(warmup)
	return l, nil
}

func (l *liveStore[S]) reseed() error {
	start := time.Now()
	store, err := l.seed(l.stream.world)
	if err != nil {
		return err
	}
	l.store, l.memberships, l.allowed, l.seeding = store, l.stream.world.spaceMemberships(), 0, time.Since(start)
	return nil
}

func (l *liveStore[S]) countAllowed(cases []trafficCase) {
	for i := range cases {
		if cases[i].allowed {
			l.allowed++
		}
	}
}

// run hands add the next n requests of the stream, as replay does, on a
// store re-seeded first if it may have grown past reseedGrowth, and returns
// the store it ran on. Runs of one store do not overlap.
func (l *liveStore[S]) run(b *testing.B, n int, add func(S, []trafficCase) error) S {
	l.mu.Lock()
	defer l.mu.Unlock()
	b.StopTimer()
	if float64(l.allowed) > reseedGrowth*float64(l.memberships) {
		if err := l.reseed(); err != nil {
			b.Fatal(err)
		}
	}
	from := l.next
	l.next += n
	b.StartTimer()
	l.stream.replayFrom(b, from, n, func(cases []trafficCase) {
		if err := add(l.store, cases); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		l.countAllowed(cases)
		b.StartTimer()
	})
	return l.store
}

// accountsHolding returns how many accounts the smallest traffic world
// holding at least n space memberships has.
func accountsHolding(n int) int {
	accounts, _ := cached(&worldSizes, n, func() (int, error) { return len(trafficWorldHolding(n).accounts), nil })
	return accounts
}

var worldSizes sync.Map // memberships → func() (int, error)

// A trafficService is a memstore holding a traffic world, behind a Service
// on the default policy.
type trafficService struct {
	store   *memstore.Store
	service *membership.Service
	engine  *policy.Engine
}

func seedTrafficService(w *trafficWorld, engine *policy.Engine) (*trafficService, error) {
	store := memstore.New()
	if err := store.Import(context.Background(), w.fixture()); err != nil {
		return nil, err
	}
	service, err := membership.NewService(store, engine)
	return &trafficService{store: store, service: service, engine: engine}, err
}

// addThroughService is the timed loop of TrafficAdd: the service call, and
// a failure (not a denial) ends the benchmark.
func addThroughService(s *trafficService, cases []trafficCase) error {
	ctx := context.Background()
	for i := range cases {
		if _, err := s.service.AddUserToSpace(ctx, addRequest(cases[i].facts.Query)); err != nil && !isDenial(err) {
			return err
		}
	}
	return nil
}

// isDenial reports whether err is the policy's answer to a request, rather
// than a failure.
func isDenial(err error) bool {
	var e *membership.Error
	return errors.As(err, &e) && e.Status < 500
}

var (
	trafficServices sync.Map // memberships → func() (*liveStore[*trafficService], error)
	trafficFloors   sync.Map // memberships → func() (*liveStore[*memdb.MemDB], error)
)

// trafficServiceHolding returns the service of the traffic world of n
// memberships. Its engine outlives re-seeding, as it would in a service
// whose data is replaced.
func trafficServiceHolding(n int) (*liveStore[*trafficService], error) {
	return cached(&trafficServices, n, func() (*liveStore[*trafficService], error) {
		engine, err := policy.New()
		if err != nil {
			return nil, err
		}
		seed := func(w *trafficWorld) (*trafficService, error) { return seedTrafficService(w, engine) }
		return newLiveStore(n, seed, addThroughService)
	})
}

func trafficFloorHolding(n int) (*liveStore[*memdb.MemDB], error) {
	return cached(&trafficFloors, n, func() (*liveStore[*memdb.MemDB], error) {
		return newLiveStore(n, seedTrafficFloor, addToFloor)
	})
}

// benchTrafficAdd returns the body of TrafficAdd/memstore-<n>. It reports
// the hit ratio of the service's engine over the run.
func benchTrafficAdd(n int) func(*testing.B) {
	return func(b *testing.B) {
		l, err := trafficServiceHolding(n)
		if err != nil {
			b.Fatalf("seeding a traffic world of %d memberships: %v", n, err)
		}
		before := l.store.engine.Stats().Evaluated
		b.ReportAllocs()
		b.ResetTimer()
		s := l.run(b, b.N, addThroughService)
		b.StopTimer()
		b.ReportMetric(1-float64(s.engine.Stats().Evaluated-before)/float64(b.N), "hit-ratio")
	}
}

// seedTrafficFloor returns a bare go-memdb table holding the space
// memberships of w, with memstore's own key (see floorSchema).
func seedTrafficFloor(w *trafficWorld) (*memdb.MemDB, error) {
	db, err := memdb.NewMemDB(floorSchema())
	if err != nil {
		return nil, err
	}
	txn := db.Txn(true)
	defer txn.Abort()
	for _, m := range w.fixture().SpaceMembers {
		if err := txn.Insert(floorTable, &membership.Membership{ID: newMembershipID(), SpaceID: m.SpaceID, UserID: m.UserID, Role: m.Role}); err != nil {
			return nil, err
		}
	}
	txn.Commit()
	return db, nil
}

// benchTrafficFloor returns the body of TrafficFloor/<n>.
func benchTrafficFloor(n int) func(*testing.B) {
	return func(b *testing.B) {
		l, err := trafficFloorHolding(n)
		if err != nil {
			b.Fatalf("building the floor of %d memberships: %v", n, err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		l.run(b, b.N, addToFloor)
	}
}

// addToFloor is the timed loop of TrafficFloor.
func addToFloor(db *memdb.MemDB, cases []trafficCase) error {
	for i := range cases {
		if err := floorAdd(db, &cases[i]); err != nil {
			return err
		}
	}
	return nil
}

// floorAdd is the least a go-memdb store can do for an add: look the
// (space, user) key up and, if the add is allowed, write the membership
// under it in one transaction.
func floorAdd(db *memdb.MemDB, c *trafficCase) error {
	req := c.facts.Query
	txn := db.Txn(c.allowed)
	defer txn.Abort()
	raw, err := txn.First(floorTable, floorID, string(req.SpaceID), string(req.UserID))
	if err != nil || !c.allowed {
		return err
	}
	m := &membership.Membership{SpaceID: req.SpaceID, UserID: req.UserID, Role: req.Role.Canonical()}
	if raw != nil {
		m.ID = raw.(*membership.Membership).ID
	} else {
		m.ID = newMembershipID()
	}
	if err := txn.Insert(floorTable, m); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	txn.Commit()
	return nil
}

// addRequest is the add request whose facts q names.
func addRequest(q membership.Query) membership.AddUserRequest {
	return membership.AddUserRequest{Actor: q.Actor, SpaceID: q.SpaceID, UserID: q.UserID, Role: q.Role}
}
