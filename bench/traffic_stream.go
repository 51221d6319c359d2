package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/spaceauthz/spaceauthz/internal/native"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/memstore"
)

// A trafficStream is the request stream over one world together with the
// facts memstore gathers for each request. Gathering costs more than most
// decisions, so the benchmarks never do it inside a timed loop, and the
// stream keeps what it gathered for every later benchmark of the process.
//
// The store loads an account of the world when the stream first names it.
// A request's facts are records of the accounts it names (an account refers
// to nothing outside itself), so they are what a store holding the whole
// world would gather; and a popular few accounts carry most requests, so a
// world of 100,000 accounts fits in memory.
type trafficStream struct {
	world  *trafficWorld
	drawer *requestDrawer
	// store holds the accounts loaded so far; once loaded, nothing writes
	// to an account's records, so the facts of a request are the same
	// whenever they are gathered.
	store *memstore.Store

	loadMu  sync.Mutex
	loaded  []bool
	loading worldLoad

	mu    sync.Mutex
	cases []trafficCase
}

// worldLoad says how much of a world a stream's store holds.
type worldLoad struct {
	accounts, memberships int
	took                  time.Duration
}

// trafficCase is one request of the stream, ready for a decider.
type trafficCase struct {
	// facts holds the request (facts.Request) and what the store knows
	// about it.
	facts *membership.Facts
	// allowed is the hand-written check's answer.
	allowed      bool
	crossAccount bool
}

// maxKeptRequests bounds how much of a stream is kept, at a few hundred
// bytes a request. Benchmarks that run longer gather the rest as they go
// (see replay).
const maxKeptRequests = 1 << 21

var trafficStreams sync.Map // accounts → func() (*trafficStream, error)

// trafficStreamOver returns the stream over the world of the given number
// of accounts, seeded on first use and shared by every benchmark after.
func trafficStreamOver(accounts int) (*trafficStream, error) {
	return cached(&trafficStreams, accounts, func() (*trafficStream, error) {
		return newTrafficStream(newTrafficWorld(accounts))
	})
}

func newTrafficStream(w *trafficWorld) (*trafficStream, error) {
	return &trafficStream{world: w, drawer: newRequestDrawer(w), store: memstore.New(), loaded: make([]bool, len(w.accounts))}, nil
}

// load loads the accounts a request names, those not loaded yet.
func (s *trafficStream) load(accounts []int) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	for _, a := range accounts {
		if s.loaded[a] {
			continue
		}
		start := time.Now()
		if err := s.store.Import(context.Background(), s.world.accountFixture(a)); err != nil {
			return fmt.Errorf("loading account %d: %w", a, err)
		}
		s.loaded[a] = true
		s.loading.accounts++
		s.loading.memberships += s.world.accounts[a].spaceMemberships()
		s.loading.took += time.Since(start)
	}
	return nil
}

// holding returns how much of the world the store holds.
func (s *trafficStream) holding() worldLoad {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	return s.loading
}

// prefix returns the first n requests of the stream, gathering those that
// no caller asked for before.
func (s *trafficStream) prefix(n int) ([]trafficCase, error) {
	if n > maxKeptRequests {
		return nil, fmt.Errorf("%d requests are more than the %d a stream keeps; run fewer iterations (-benchtime Nx)", n, maxKeptRequests)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cases) < n {
		more, err := s.gather(len(s.cases), n)
		if err != nil {
			return nil, err
		}
		s.cases = append(s.cases, more...)
	}
	return s.cases[:n:n], nil
}

// gather draws requests from up to to and gathers their facts.
func (s *trafficStream) gather(from, to int) ([]trafficCase, error) {
	cases := make([]trafficCase, 0, to-from)
	for k := from; k < to; k++ {
		r := s.drawer.draw(k)
		if err := s.load(r.accounts); err != nil {
			return nil, err
		}
		facts, err := gatherFacts(s.store, r.req)
		if err != nil {
			return nil, fmt.Errorf("request %d: %w", k, err)
		}
		cases = append(cases, trafficCase{facts: facts, allowed: native.Decide(facts).Allow, crossAccount: r.crossAccount()})
	}
	return cases, nil
}

// gatherFacts returns the facts store gathers for req, exactly as the
// service would hand them to a decider, and writes nothing.
func gatherFacts(store membership.Store, req membership.AddUserRequest) (*membership.Facts, error) {
	facts, _, err := store.Read(context.Background(), req.Query())
	if err != nil {
		return nil, fmt.Errorf("gathering facts: %v", err)
	}
	return facts, nil
}

// replayChunk is how many requests replay gathers at a time past the kept
// prefix.
const replayChunk = 1 << 16

// replay hands run the first n requests of the stream in order, in one or
// more slices, and keeps the benchmark timer stopped while they are
// gathered: a timed loop sees every request once, and only what it does
// with them is timed.
func (s *trafficStream) replay(b *testing.B, n int, run func([]trafficCase)) {
	s.replayFrom(b, 0, n, run)
}

// replayFrom is replay from request from on.
func (s *trafficStream) replayFrom(b *testing.B, from, n int, run func([]trafficCase)) {
	b.StopTimer()
	end := from + n
	if kept := min(end, maxKeptRequests); from < kept {
		cases, err := s.prefix(kept)
		if err != nil {
			b.Fatal(err)
		}
		settle()
		b.StartTimer()
		run(cases[from:])
		b.StopTimer()
		from = kept
	}
	for ; from < end; from += replayChunk {
		chunk, err := s.gather(from, min(from+replayChunk, end))
		if err != nil {
			b.Fatal(err)
		}
		settle()
		b.StartTimer()
		run(chunk)
		b.StopTimer()
	}
	b.StartTimer()
}

// settle collects the garbage of gathering before the timer starts. The
// world's heap is gigabytes; left to run, a collection that gathering set
// off would take a core from the timed loop, and charge a decider for
// garbage it did not make. Each decider still pays for collecting its own.
func settle() { runtime.GC() }
