package linearizable

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/spaceauthz/spaceauthz/membership"
)

// A History is what the clients of one history did.
type History struct {
	Seed       uint64
	Number     int
	Workload   Workload
	World      *World
	Operations []porcupine.Operation
}

// The random streams of a history: its world's, and one per client.
const worldStream = 1 << 32

// Play draws history number of seed with workload load, seeds its world
// into store, and runs the workload's clients through svc (a service on
// store) concurrently, recording every operation. label keeps the ids of
// this history apart from those of other stores sharing a database; the
// operations depend on seed, number and load alone.
func Play(ctx context.Context, svc *membership.Service, store Store, label string, seed uint64, number int, load Workload) (*History, error) {
	world := NewWorld(label, number, load.Partitions, rand.New(rand.NewPCG(seed, worldStream|uint64(number))))
	if err := world.Seed(ctx, store); err != nil {
		return nil, err
	}
	h := &History{Seed: seed, Number: number, Workload: load, World: world}
	rec := &recorder{start: time.Now()}
	var wg sync.WaitGroup
	for id := range load.Clients {
		c := newClient(world, load, rand.New(rand.NewPCG(seed, uint64(number)<<16|uint64(id))))
		ops := load.Ops / load.Clients
		if id < load.Ops%load.Clients {
			ops++
		}
		wg.Go(func() {
			for range ops {
				in := c.next()
				rec.do(id, in, func() Output { return execute(ctx, svc, in) })
			}
		})
	}
	wg.Wait()
	h.Operations = rec.ops
	return h, nil
}

// recorder collects the operations of concurrent clients, with call and
// return times on one monotonic clock.
type recorder struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

// do runs op for client and records it: called when do starts, returned
// when op has answered.
func (r *recorder) do(client int, in Input, op func() Output) {
	call := time.Since(r.start).Nanoseconds()
	out := op()
	ret := time.Since(r.start).Nanoseconds()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
}
