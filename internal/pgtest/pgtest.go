// Package pgtest gives tests and benchmarks a PostgreSQL schema of their own
// in the database of SPACEAUTHZ_TEST_POSTGRES_DSN, which .ci/postgres.sh
// starts and exports.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// DSNVariable names the environment variable that holds the DSN of the test
// database.
const DSNVariable = "SPACEAUTHZ_TEST_POSTGRES_DSN"

// DSN returns the test database's DSN. Without one, t is skipped, except
// under CI, where it fails: CI must never pass without having run the
// PostgreSQL tests.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(DSNVariable)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set, and CI is: the PostgreSQL tests must run in CI (source .ci/postgres.sh)", DSNVariable)
		}
		t.Skipf("%s is not set; source .ci/postgres.sh to run the PostgreSQL tests", DSNVariable)
	}
	return dsn
}

// Schema creates an empty schema, dropped when t ends, and returns the test
// database's DSN with its search_path set to that schema, so that tests
// running in parallel never see each other's tables. prefix starts the
// schema's name.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	dsn := DSN(t)
	var b [8]byte
	rand.Read(b[:])
	schema := prefix + "_" + hex.EncodeToString(b[:])
	Exec(t, dsn, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { Exec(t, dsn, "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", DSNVariable, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Exec runs one statement on a connection of its own.
func Exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
