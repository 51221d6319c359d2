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
		// triggers, and no sequence as a column default (the audit log's
		// positions come from one, taken explicitly under a lock).
		sql := strings.ToUpper(m.sql)
		for _, word := range []string{"LANGUAGE", "CREATE FUNCTION", "CREATE PROCEDURE", "CREATE TRIGGER", "SERIAL ", "NEXTVAL", "DO $$"} {
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

// TestMigrateUpgradesOrganizationMembers migrates a database written with
// the schema of migrations 1 and 2 only: its rows are kept, organization
// memberships get ids, spaces a description and a creation time, space
// memberships their organization, and a space membership that breaks the
// invariant (its user is no organization member) is kept, not deleted.
func TestMigrateUpgradesOrganizationMembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, newSchema(t))
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, createMigrations); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:2] {
		if _, err := pool.Exec(ctx, m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO pgstore_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	acct, org, sp, member, orphan := id("Account:1"), id("Org:1"), id("Space:1"), id("User:member"), id("User:orphan")
	memberM, orphanM := id("Membership:member"), id("Membership:orphan")
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO accounts (id) VALUES ($1)`, []any{acct}},
		{`INSERT INTO users (id, account_id, name, email, role) VALUES ($1, $3, 'M', 'm@example.com', 'MEMBER'), ($2, $3, 'O', 'o@example.com', 'MEMBER')`, []any{member, orphan, acct}},
		{`INSERT INTO organizations (id, account_id, name) VALUES ($1, $2, 'Research')`, []any{org, acct}},
		{`INSERT INTO organization_members (organization_id, user_id, account_id, predefined_role) VALUES ($1, $2, $3, 'MEMBER')`, []any{org, member, acct}},
		{`INSERT INTO spaces (id, account_id, organization_id, name, is_private) VALUES ($1, $2, $3, 'evals', false)`, []any{sp, acct, org}},
		{`INSERT INTO space_members (id, space_id, user_id, account_id, predefined_role) VALUES ($1, $3, $4, $5, 'ADMIN'), ($2, $3, $6, $5, 'MEMBER')`, []any{memberM, orphanM, sp, member, acct, orphan}},
	} {
		args := make([]any, len(stmt.args))
		for i, a := range stmt.args {
			args[i] = string(a.(membership.ID))
		}
		if _, err := pool.Exec(ctx, stmt.sql, args...); err != nil {
			t.Fatalf("%s: %v", stmt.sql, err)
		}
	}

	s := migratedStore(t, pool)
	var applied int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pgstore_migrations`).Scan(&applied); err != nil || applied != SchemaVersion() {
		t.Fatalf("pgstore_migrations lists %d migrations (%v), want %d", applied, err, SchemaVersion())
	}
	facts, _, err := s.Read(ctx, membership.Query{Operation: membership.OperationRemove, Actor: member, SpaceID: sp, UserID: member})
	if err != nil {
		t.Fatal(err)
	}
	switch om := facts.TargetOrganizationMember; {
	case om == nil:
		t.Fatal("the organization membership is gone")
	case !om.ID.Valid():
		t.Errorf("the organization membership got the id %q, which is not an ID", om.ID)
	}
	if facts.Space == nil || facts.Space.Description != "" || facts.Space.CreatedAt.IsZero() {
		t.Errorf("the space reads as %+v, want an empty description and a creation time", facts.Space)
	}
	if facts.Existing == nil || facts.Existing.ID != memberM {
		t.Errorf("the member's space membership reads as %+v, want %s", facts.Existing, memberM)
	}
	got := memberIDs(t, s, sp)
	if len(got) != 2 || got[member] != memberM || got[orphan] != orphanM {
		t.Errorf("the space lists %v, want both memberships kept", got)
	}
	var unfilled int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM space_members WHERE organization_id IS DISTINCT FROM $1`, string(org)).Scan(&unfilled); err != nil || unfilled != 0 {
		t.Errorf("%d space memberships without their organization (%v)", unfilled, err)
	}

	// The upgraded schema works as a new one: removing the member from the
	// organization takes their space membership with it.
	q := membership.Query{Operation: membership.OperationOrgRemove, Actor: member, OrganizationID: org, UserID: member}
	w, err := s.Write(ctx, q, func(*membership.Facts) (membership.Change, error) {
		return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.Organization.ID != facts.TargetOrganizationMember.ID || len(w.Cascaded) != 1 || w.Cascaded[0].ID != memberM {
		t.Errorf("the removal wrote %+v, want the organization membership %s and the space membership %s", w, facts.TargetOrganizationMember.ID, memberM)
	}
	if got := memberIDs(t, s, sp); len(got) != 1 || got[orphan] != orphanM {
		t.Errorf("after the removal the space lists %v, want only the kept orphan", got)
	}
}
