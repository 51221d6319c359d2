package pgstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
)

// TestUnavailable covers the failures that must answer 503: each writes
// nothing and returns an error that wraps membership.ErrUnavailable.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	member := membership.Predefined(membership.RoleMember)

	t.Run("unreachable database", func(t *testing.T) {
		t.Parallel()
		_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/spaceauthz?sslmode=disable&connect_timeout=5")
		if !errors.Is(err, membership.ErrUnavailable) {
			t.Errorf("Open of an unreachable database returned %v, want ErrUnavailable", err)
		}
	})

	t.Run("pool exhausted", func(t *testing.T) {
		t.Parallel()
		cfg := newSchema(t)
		cfg.MaxConns = 1
		pool := newPool(t, cfg)
		// Seed without the short timeout: on a loaded machine, dialing the
		// pool's one connection may take longer than it.
		w := seedWorld(t, migratedStore(t, pool))
		s, err := New(pool, WithAcquireTimeout(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		held, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Release()
		if _, err := upsert(ctx, s, w.request(w.members[0], member), allow); !errors.Is(err, membership.ErrUnavailable) {
			t.Errorf("a write on an exhausted pool returned %v, want ErrUnavailable", err)
		}
		if err := s.PutAccount(ctx, membership.Account{ID: id("Account:2")}); !errors.Is(err, membership.ErrUnavailable) {
			t.Errorf("PutAccount on an exhausted pool returned %v, want ErrUnavailable", err)
		}
		held.Release()
		assertNoMembership(t, s, w, w.members[0])
	})

	t.Run("connection lost during the check", func(t *testing.T) {
		t.Parallel()
		cfg := newSchema(t)
		victim := "pgstore-test-" + string(newMembershipID())[:8]
		cfg.ConnConfig.RuntimeParams["application_name"] = victim
		s := migratedStore(t, newPool(t, cfg))
		w := seedWorld(t, s)
		_, err := upsert(ctx, s, w.request(w.members[0], member), func(*membership.Facts) error {
			admin(t, testDSN(t), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"+victim+"'")
			return nil
		})
		if !errors.Is(err, membership.ErrUnavailable) {
			t.Errorf("a write whose connection was lost returned %v, want ErrUnavailable", err)
		}
		assertNoMembership(t, s, w, w.members[0])
	})

	t.Run("retries spent", func(t *testing.T) {
		t.Parallel()
		const retries = 2
		s := newTestStore(t, WithMaxRetries(retries), WithRetryBackoff(time.Microsecond, time.Millisecond))
		w := seedWorld(t, s)
		calls := 0
		_, err := upsert(ctx, s, w.request(w.members[0], member), func(*membership.Facts) error {
			calls++
			changeActor(t, s, w, calls)
			return nil
		})
		if !errors.Is(err, membership.ErrUnavailable) {
			t.Errorf("a write that always lost returned %v, want ErrUnavailable", err)
		}
		if calls != retries+1 {
			t.Errorf("check ran %d times, want %d", calls, retries+1)
		}
		assertNoMembership(t, s, w, w.members[0])
	})
}

// TestLostRacesAreRetriedOnFreshFacts changes the facts during the first
// checks: the add retries, and its last check sees the last change.
func TestLostRacesAreRetriedOnFreshFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedWorld(t, s)
	const changes = 3
	calls := 0
	var last *membership.Facts
	m, err := upsert(ctx, s, w.request(w.members[0], membership.Predefined(membership.RoleMember)), func(f *membership.Facts) error {
		calls++
		last = f
		if calls <= changes {
			changeActor(t, s, w, calls)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != changes+1 {
		t.Errorf("check ran %d times, want %d", calls, changes+1)
	}
	if got, want := last.Actor.Name, actorName(changes); got != want {
		t.Errorf("the last check saw the actor named %q, want the last change, %q", got, want)
	}
	if got := memberIDs(t, s, w.space.ID)[w.members[0]]; got != m.ID {
		t.Errorf("stored membership %q, returned %q", got, m.ID)
	}
}

// TestCancelledDuringBackoff cancels an add while it waits to retry.
func TestCancelledDuringBackoff(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, WithRetryBackoff(time.Hour, time.Hour))
	w := seedWorld(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := upsert(ctx, s, w.request(w.members[0], membership.Predefined(membership.RoleMember)), func(*membership.Facts) error {
		changeActor(t, s, w, 1)
		time.AfterFunc(10*time.Millisecond, cancel)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a write cancelled during its backoff returned %v, want context.Canceled", err)
	}
	assertNoMembership(t, s, w, w.members[0])
}

// changeActor renames the actor: a change to a record behind the facts.
func changeActor(t *testing.T, s *Store, w *world, n int) {
	t.Helper()
	a := w.actor
	a.Name = actorName(n)
	if err := s.PutUser(context.Background(), a); err != nil {
		t.Errorf("changing the actor: %v", err)
	}
}

func actorName(n int) string { return "Ada " + string(rune('A'+n)) }

func assertNoMembership(t *testing.T, s *Store, w *world, user membership.ID) {
	t.Helper()
	if mid, ok := memberIDs(t, s, w.space.ID)[user]; ok {
		t.Errorf("a failed add wrote membership %s", mid)
	}
}
