package pgstore

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/internal/pgtest"
)

// testDSN returns the test database's DSN (see pgtest.DSN).
func testDSN(t testing.TB) string { return pgtest.DSN(t) }

// newSchema creates an empty schema that is dropped when t ends, and
// returns a pool configuration whose connections work in it, so that tests
// running in parallel never see each other's tables.
func newSchema(t testing.TB) *pgxpool.Config {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.Schema(t, "pgstore_test"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// admin runs one statement on a connection of its own.
func admin(t testing.TB, dsn, sql string) { pgtest.Exec(t, dsn, sql) }

// newPool opens a pool on cfg that closes when t ends.
func newPool(t testing.TB, cfg *pgxpool.Config) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newTestStore returns a migrated Store on a new schema.
func newTestStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	return migratedStore(t, newPool(t, newSchema(t)), opts...)
}

// migratedStore returns a Store on pool, with the schema migrated.
func migratedStore(t testing.TB, pool *pgxpool.Pool, opts ...Option) *Store {
	t.Helper()
	s, err := New(pool, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}
