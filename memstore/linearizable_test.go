package memstore

import (
	"testing"

	"github.com/spaceauthz/spaceauthz/internal/linearizable"
)

// TestLinearizable checks that concurrent histories of every operation on
// the store are linearizable against the contract's sequential model.
func TestLinearizable(t *testing.T) {
	t.Parallel()
	linearizable.Run(t, linearizable.Config{
		Package: "./memstore", Workload: linearizable.Mixed, Histories: 200,
		Store: func(*testing.T) linearizable.Store { return New() },
	})
}

// TestLinearizableCatchesSkippedRecheck shows that the check catches a
// store that writes on the facts its decision was made on without checking
// that nothing behind them changed meanwhile.
func TestLinearizableCatchesSkippedRecheck(t *testing.T) {
	t.Parallel()
	linearizable.CatchDefect(t, linearizable.Defect{
		Package: "./memstore", Workload: linearizable.Contended, MaxHistories: 20,
		Defective: func(*testing.T) linearizable.Store {
			s := New()
			s.defects.skipRecheck = true
			return s
		},
		Correct: func(*testing.T) linearizable.Store { return New() },
	})
}

// TestLinearizableCatchesSplitCascade shows that the check catches a store
// whose cascade commits in two steps: a target reading spaces between them
// sees a world that no order of the operations explains.
func TestLinearizableCatchesSplitCascade(t *testing.T) {
	t.Parallel()
	linearizable.CatchDefect(t, linearizable.Defect{
		Package: "./memstore", Workload: linearizable.Cascade, MaxHistories: 20,
		Defective: func(*testing.T) linearizable.Store {
			s := New()
			s.defects.splitCascade = true
			return s
		},
		Correct: func(*testing.T) linearizable.Store { return New() },
	})
}
