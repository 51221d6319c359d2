package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/pgstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The PostgreSQL benchmarks: AddUserToSpace/pgstore, the full
// service call on a pgstore, beside PgUpsertFloor, the bare upsert
// statement that pgstore runs, on the same table, alone in its own
// implicit transaction. Both update memberships of a world of
// pgBenchMemberships (the world of the memstore benchmarks) and run with 1
// and 8 concurrent workers: explicit goroutines that share b.N operations,
// each worker updating the membership of a user of its own, so that the
// workers contend for the database, not for one row. They need the
// database of SPACEAUTHZ_TEST_POSTGRES_DSN (.ci/postgres.sh starts one) and
// skip without it:
//
//	go test -run '^$' -bench 'AddUserToSpace/pgstore|PgUpsertFloor' ./bench

// pgBenchMemberships is the size of the world in the database.
const pgBenchMemberships = 10_000

// pgWorkerCounts are the numbers of concurrent workers.
var pgWorkerCounts = []int{1, 8}

// pgUpsertFloor is the upsert statement of pgstore, verbatim.
const pgUpsertFloor = `INSERT INTO space_members (id, space_id, user_id, account_id, predefined_role, custom_role_id)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (space_id, user_id) DO UPDATE
SET predefined_role = excluded.predefined_role, custom_role_id = excluded.custom_role_id
RETURNING id`

// benchAddUserToSpacePgstore is the body of AddUserToSpace/pgstore: the
// Service on the default policy and a pgstore, from workers-1 and workers-8.
// Worker i updates users[i] in the first space.
func benchAddUserToSpacePgstore(b *testing.B) {
	pw := newPgBenchWorld(b)
	store, err := pgstore.New(pw.pool)
	if err != nil {
		b.Fatal(err)
	}
	engine, err := policy.New()
	if err != nil {
		b.Fatal(err)
	}
	svc, err := membership.NewService(store, engine)
	if err != nil {
		b.Fatal(err)
	}
	add := func(ctx context.Context, worker int) error {
		return checkUpdate(svc.AddUserToSpace(ctx, pw.world.addRequest(worker)))
	}
	for _, workers := range pgWorkerCounts {
		b.Run("workers-"+strconv.Itoa(workers), func(b *testing.B) { runWorkers(b, workers, add) })
	}
}

// BenchmarkPgUpsertFloor is the floor of AddUserToSpace/pgstore: the same
// upsert, with the same alternating roles, and nothing else, on a world of
// its own. Worker i updates users[i] in the first space.
func BenchmarkPgUpsertFloor(b *testing.B) {
	pw := newPgBenchWorld(b)
	w := pw.world
	turns := make([]atomic.Uint32, len(w.users))
	upsert := func(ctx context.Context, worker int) error {
		role := alternateRoles[(turns[worker].Add(1)-1)%2]
		var id string
		err := pw.pool.QueryRow(ctx, pgUpsertFloor, pgMembershipID(), string(w.spaces[0]), string(w.users[worker]),
			string(w.account), role.Name.String(), nil).Scan(&id)
		if err == nil && id == "" {
			err = pgx.ErrNoRows
		}
		return err
	}
	for _, workers := range pgWorkerCounts {
		b.Run("workers-"+strconv.Itoa(workers), func(b *testing.B) { runWorkers(b, workers, upsert) })
	}
}

// runWorkers runs op b.N times in all, from workers goroutines; worker i
// passes i to op.
func runWorkers(b *testing.B, workers int, op func(ctx context.Context, worker int) error) {
	ctx := context.Background()
	for i := range workers { // warm each worker's statements and row
		if err := op(ctx, i); err != nil {
			b.Fatal(err)
		}
	}
	var (
		next int64
		wg   sync.WaitGroup
	)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range workers {
		wg.Go(func() {
			for atomic.AddInt64(&next, 1) <= int64(b.N) {
				if err := op(ctx, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// pgBenchWorld is a world of the memstore benchmarks, seeded into a schema
// of its own that is dropped when the benchmark ends.
type pgBenchWorld struct {
	world *world
	pool  *pgxpool.Pool
}

func newPgBenchWorld(b *testing.B) *pgBenchWorld {
	b.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.Schema(b, "pgstore_bench"))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	store, err := pgstore.New(pool)
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}

	w := newWorld(pgBenchMemberships)
	if err := fixture.Seed(ctx, store, w.fixture()); err != nil {
		b.Fatal(err)
	}
	rows := make([][]any, 0, w.n)
	for k := range w.n {
		space, user := w.membership(k)
		rows = append(rows, []any{pgMembershipID(), string(space), string(user), string(w.account), string(w.organization), alternateRoles[1].Name.String()})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"space_members"},
		[]string{"id", "space_id", "user_id", "account_id", "organization_id", "predefined_role"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return &pgBenchWorld{world: w, pool: pool}
}

func pgMembershipID() string {
	var r [16]byte
	rand.Read(r[:])
	return base64.StdEncoding.EncodeToString(r[:])
}
