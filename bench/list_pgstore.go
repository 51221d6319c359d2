package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/pgstore"
)

// The list worlds in PostgreSQL, for ListSpaces/pgstore: each world in a
// schema of its own (the worlds share ids), in the database of
// SPACEAUTHZ_TEST_POSTGRES_DSN (.ci/postgres.sh starts one), seeded through
// pgstore's Seeder and dropped when the command or the benchmark ends.
// Without the variable the command leaves them out and go test skips them.

// listPostgresDSN returns the database of the list benchmarks' pgstore,
// or "" for none.
func listPostgresDSN() string { return os.Getenv(pgtest.DSNVariable) }

// pgListSeedWorkers is how many connections write the spaces at once.
const pgListSeedWorkers = 8

// pgListWorld is a pgstore holding a list world in a schema of its own.
type pgListWorld struct {
	*listService
	drop func()
}

// newPgListWorld creates a schema in the database of dsn, migrates it with
// pgstore, seeds the list world of n spaces and checks what it lists.
// Close drops the schema.
func newPgListWorld(ctx context.Context, dsn string, n int) (_ *pgListWorld, err error) {
	w, err := listWorldOf(n)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	rand.Read(b[:])
	schema := fmt.Sprintf("bench_list_%s_%s", sizeName(n), hex.EncodeToString(b[:]))
	if err := execOnce(ctx, dsn, "CREATE SCHEMA "+schema); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pw := &pgListWorld{drop: func() {
		pool.Close()
		execOnce(context.Background(), dsn, "DROP SCHEMA "+schema+" CASCADE")
	}}
	defer func() {
		if err != nil {
			pw.drop()
		}
	}()
	store, err := pgstore.New(pool)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := seedPgList(ctx, store, w.data); err != nil {
		return nil, fmt.Errorf("seeding the list world of %d into pgstore: %w", n, err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		return nil, err
	}
	pw.listService, err = newListService(w, store, time.Since(start))
	return pw, err
}

// Close drops the world's schema.
func (pw *pgListWorld) Close() { pw.drop() }

// seedPgList writes f through the Seeder: everything but the spaces and
// their members in order (fixture.Seed), then the spaces from
// pgListSeedWorkers connections at once, then the space members.
func seedPgList(ctx context.Context, store *pgstore.Store, f *fixture.Fixture) error {
	if err := f.Validate(); err != nil {
		return err
	}
	head := *f
	head.Spaces, head.SpaceMembers = nil, nil
	if err := fixture.Seed(ctx, store, &head); err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	next := make(chan membership.Space)
	for range pgListSeedWorkers {
		wg.Go(func() {
			for sp := range next {
				if err := store.PutSpace(ctx, sp); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, sp := range f.Spaces {
		next <- sp
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, m := range f.SpaceMembers {
		if _, err := store.PutSpaceMember(ctx, m.SpaceID, m.UserID, m.Role); err != nil {
			return err
		}
	}
	return nil
}

// execOnce runs one statement on a connection of its own.
func execOnce(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connecting to the database of the list benchmarks: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

var (
	pgListMu     sync.Mutex
	pgListWorlds = map[string]*pgListWorld{}
)

// pgListServiceOf returns the pgstore of the list world of n spaces in the
// database of dsn, seeded on first use and kept until closePgListWorlds.
func pgListServiceOf(dsn string, n int) (*listService, error) {
	pgListMu.Lock()
	defer pgListMu.Unlock()
	key := fmt.Sprintf("%d %s", n, dsn)
	if pw, ok := pgListWorlds[key]; ok {
		return pw.listService, nil
	}
	pw, err := newPgListWorld(context.Background(), dsn, n)
	if err != nil {
		return nil, err
	}
	pgListWorlds[key] = pw
	return pw.listService, nil
}

// closePgListWorlds drops every schema pgListServiceOf created.
func closePgListWorlds() {
	pgListMu.Lock()
	defer pgListMu.Unlock()
	for key, pw := range pgListWorlds {
		pw.Close()
		delete(pgListWorlds, key)
	}
}
