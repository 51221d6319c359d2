package pgstore

import (
	"context"
	"strings"
	"testing"
)

// TestOpenMigrateClose goes through the life of a store that owns its pool,
// with the schema chosen by search_path in the DSN, as the example server
// would use it.
func TestOpenMigrateClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := newSchema(t)
	schema := cfg.ConnConfig.RuntimeParams["search_path"]
	dsn := testDSN(t)
	switch {
	case !strings.Contains(dsn, "://"):
		dsn += " search_path=" + schema
	case strings.Contains(dsn, "?"):
		dsn += "&search_path=" + schema
	default:
		dsn += "?search_path=" + schema
	}
	s, err := Open(ctx, dsn, WithMaxRetries(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w := seedWorld(t, s)
	seedWorld(t, s) // seeding again changes nothing
	if got := len(memberIDs(t, s, w.space.ID)); got != 0 {
		t.Errorf("a new space has %d members", got)
	}
	var tables int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 10 {
		t.Errorf("schema %s has %d tables, want the 9 of the store and pgstore_migrations", schema, tables)
	}
	s.Close()
	if err := s.PutAccount(ctx, w.account); err == nil {
		t.Error("a closed store still writes")
	}
}

func TestOptionsAreValidated(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]Option{
		"negative retries": WithMaxRetries(-1),
		"zero backoff":     WithRetryBackoff(0, 0),
		"inverted backoff": WithRetryBackoff(2, 1),
		"negative timeout": WithAcquireTimeout(-1),
	} {
		if _, err := newConfig([]Option{opt}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) returned a store")
	}
}
