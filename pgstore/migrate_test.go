package pgstore

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	t.Parallel()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || SchemaVersion() != len(ms) {
		t.Fatalf("%d migrations, SchemaVersion %d", len(ms), SchemaVersion())
	}
	for _, m := range ms {
		// Portability (see the package doc): no procedural code, no
		// triggers, no sequences.
		sql := strings.ToUpper(m.sql)
		for _, word := range []string{"LANGUAGE", "CREATE FUNCTION", "CREATE PROCEDURE", "CREATE TRIGGER", "CREATE SEQUENCE", "SERIAL ", "DO $$"} {
			if strings.Contains(sql, word) {
				t.Errorf("%s uses %s", m.name, word)
			}
		}
	}
}

// TestMigrateIsIdempotent migrates one schema from several pools at once,
// then again.
func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	cfg := newSchema(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	for i := range stores {
		s, err := New(newPool(t, cfg.Copy()))
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
		wg.Go(func() {
			if err := s.Migrate(ctx); err != nil {
				t.Errorf("concurrent Migrate %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	var applied int
	if err := stores[0].pool.QueryRow(ctx, `SELECT count(*) FROM pgstore_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != SchemaVersion() {
		t.Errorf("pgstore_migrations lists %d migrations, want %d", applied, SchemaVersion())
	}
	w := seedWorld(t, stores[1])
	if _, err := upsert(ctx, stores[2], w.request(w.members[0], membership.Custom(w.role.ID)), allow); err != nil {
		t.Errorf("adding on the migrated schema: %v", err)
	}
}

func TestMigrateRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `INSERT INTO pgstore_migrations (version, name) VALUES ($1, 'from_the_future.sql')`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Migrate on a newer schema returned %v, want a refusal", err)
	}
}
