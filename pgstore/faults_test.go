package pgstore

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/spaceauthz/spaceauthz/internal/faultstore/faulttest"
)

// TestFaults runs the fault matrix: a failure at any point of an operation
// answers 500 or 503 and leaves the database as it was, row for row.
func TestFaults(t *testing.T) {
	t.Parallel()
	faulttest.Run(t, func(t *testing.T) faulttest.Target {
		pool := newPool(t, newSchema(t))
		return faulttest.Target{
			Store: migratedStore(t, pool),
			Dump:  func(t *testing.T) any { return dumpTables(t, pool) },
		}
	})
}

// querier is what dumpTables reads through: a pool or a connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// dumpTables returns every row of every table of the schema that q works
// in, as JSON, by table and in a fixed order: what a store holds, read
// without the store, so that a row that no Read shows still counts.
func dumpTables(t *testing.T, q querier) map[string][]string {
	t.Helper()
	ctx := context.Background()
	rows, err := q.Query(ctx, `SELECT table_name FROM information_schema.tables
WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatalf("listing the tables: %v", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("listing the tables: %v", err)
	}
	if len(tables) == 0 {
		t.Fatal("the schema has no tables")
	}
	dump := make(map[string][]string, len(tables))
	for _, table := range tables {
		rows, err := q.Query(ctx, "SELECT to_jsonb(r)::text FROM "+pgx.Identifier{table}.Sanitize()+" AS r ORDER BY 1")
		if err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
		if dump[table], err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
	}
	return dump
}
