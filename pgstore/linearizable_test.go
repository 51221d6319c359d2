package pgstore

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/internal/linearizable"
	"github.com/spaceauthz/spaceauthz/internal/pgtest"
)

// linearizablePoolSize leaves every client of a history a connection of
// its own, so that none waits for the pool instead of racing.
const linearizablePoolSize = 16

// linearizableStore returns a store with opts on a pool of a schema of its
// own, migrated, for every history of the test to share.
func linearizableStore(t *testing.T, opts ...Option) func(*testing.T) linearizable.Store {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.Schema(t, "linearizable"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = linearizablePoolSize
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	correct, err := New(pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := correct.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := correct
	if len(opts) > 0 {
		if s, err = New(pool, opts...); err != nil {
			t.Fatal(err)
		}
	}
	return func(*testing.T) linearizable.Store { return s }
}

// TestLinearizable checks that concurrent histories of every operation on
// the store are linearizable against the contract's sequential model.
func TestLinearizable(t *testing.T) {
	t.Parallel()
	linearizable.Run(t, linearizable.Config{
		Package: "./pgstore", Workload: linearizable.Mixed.WithOps(150), Histories: 40,
		Store: linearizableStore(t),
	})
}

// TestLinearizableCatchesNaiveStore shows that the check catches a naive
// read-then-write store: READ COMMITTED, without the row locks that check
// that nothing behind the facts changed.
func TestLinearizableCatchesNaiveStore(t *testing.T) {
	t.Parallel()
	naive := func(c *config) { c.isolation, c.lockFacts = "READ COMMITTED", false }
	linearizable.CatchDefect(t, linearizable.Defect{
		Package: "./pgstore", Workload: linearizable.Contended.WithOps(150), MaxHistories: 20,
		Defective: linearizableStore(t, naive), Correct: linearizableStore(t),
	})
}

// TestLinearizableCatchesSplitCascade shows that the check catches a store
// whose cascade commits in two transactions: a target reading spaces
// between them sees a world that no order of the operations explains.
func TestLinearizableCatchesSplitCascade(t *testing.T) {
	t.Parallel()
	split := func(c *config) { c.splitCascade = true }
	linearizable.CatchDefect(t, linearizable.Defect{
		Package: "./pgstore", Workload: linearizable.Cascade.WithOps(150), MaxHistories: 20,
		Defective: linearizableStore(t, split), Correct: linearizableStore(t),
	})
}
