package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/pgstore"
)

// seededStore is what the server needs of a store: the service's interface and
// the seeding writes.
type seededStore interface {
	membership.Store
	membership.Seeder
}

// openStore returns the store that the -store flag names, seeded from f
// unless seed is false, and a function that releases it. "memory" is the
// in-memory go-memdb store; a postgres:// or postgresql:// URL is a
// PostgreSQL database, migrated first.
func openStore(ctx context.Context, where string, seed bool, f *fixture.Fixture) (seededStore, func(), error) {
	var (
		s       seededStore
		release = func() {}
	)
	switch {
	case where == "memory":
		s = memstore.New()
	case strings.HasPrefix(where, "postgres://"), strings.HasPrefix(where, "postgresql://"):
		pg, err := pgstore.Open(ctx, where)
		if err != nil {
			// The DSN may hold a password: the error names no part of it.
			return nil, nil, fmt.Errorf("open the PostgreSQL store: %w", err)
		}
		if err := pg.Migrate(ctx); err != nil {
			pg.Close()
			return nil, nil, fmt.Errorf("migrate the PostgreSQL store: %w", err)
		}
		s, release = pg, pg.Close
	default:
		return nil, nil, fmt.Errorf("-store must be memory or a postgres:// URL")
	}
	if seed {
		if err := fixture.Seed(ctx, s, f); err != nil {
			release()
			return nil, nil, fmt.Errorf("seed the store: %w", err)
		}
	}
	return s, release, nil
}
