package main

import (
	"context"
	"fmt"
	"log/slog"
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

// openStore returns the store that the -store flag names, seeded from f as
// mode says (see seedStore), and a function that releases it. "memory" is
// the in-memory go-memdb store; a postgres:// or postgresql:// URL is a
// PostgreSQL database, migrated first.
func openStore(ctx context.Context, where string, mode seedMode, f *fixture.Fixture, logger *slog.Logger) (seededStore, func(), error) {
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
	if err := seedStore(ctx, s, f, mode, logger); err != nil {
		release()
		return nil, nil, err
	}
	return s, release, nil
}

// seedMode says when the server writes the fixture into its store: the
// value of the -seed flag.
type seedMode string

const (
	// seedAuto seeds a store that holds none of the fixture's records, and
	// leaves alone one that holds them all: a restart on PostgreSQL keeps
	// what the API changed since the first start.
	seedAuto seedMode = "auto"
	// seedAlways writes the whole fixture at every start. Seeding is an
	// upsert: memberships the fixture lists take its roles again, over what
	// the API changed.
	seedAlways seedMode = "always"
	// seedNever writes nothing.
	seedNever seedMode = "never"
)

// String implements flag.Value.
func (m *seedMode) String() string { return string(*m) }

// Set implements flag.Value. The boolean spellings of the flag's earlier,
// boolean form stay valid: true is always, false is never.
func (m *seedMode) Set(s string) error {
	switch seedMode(s) {
	case seedAuto, seedAlways, seedNever:
		*m = seedMode(s)
	case "true":
		*m = seedAlways
	case "false":
		*m = seedNever
	default:
		return fmt.Errorf("must be auto, always or never")
	}
	return nil
}

// seedStore writes f into s as mode says, and logs what it wrote, or that
// it wrote nothing and why.
//
// Under seedAuto it first counts, through Store.Read, how many of the
// fixture's users, spaces and custom roles s holds (fixtureRecordsFound):
//
//   - none: s is empty as far as the fixture goes, and it is seeded. This
//     is sound because the API writes nothing but space memberships, and a
//     membership lives only in a space that exists; fixture.Seed writes the
//     spaces after the users, organizations and roles and before the
//     memberships. With none of the fixture's spaces in s, neither an
//     earlier seed nor the API can have left a membership there that the
//     seed would overwrite.
//   - all of them: s was seeded from this fixture before; seeding again
//     would put the fixture's memberships back over what the API changed,
//     so nothing is written.
//   - some: an earlier seed was interrupted, or s holds another fixture
//     that shares ids with this one. Neither writing over it nor serving a
//     half-seeded store silently is right, so the server refuses to start
//     and says how to choose (-seed=always or -seed=never).
//
// Two servers that start at once on an empty database may both seed; the
// writes are upserts of the same records, so the outcome is the same.
func seedStore(ctx context.Context, s seededStore, f *fixture.Fixture, mode seedMode, logger *slog.Logger) error {
	switch mode {
	case seedNever:
		logger.Info("seeding skipped", slog.String("reason", "-seed=never"))
		return nil
	case seedAuto:
		found, total, err := fixtureRecordsFound(ctx, s, f)
		if err != nil {
			return fmt.Errorf("look for the fixture in the store: %w", err)
		}
		switch {
		case total > 0 && found == total:
			logger.Info("seeding skipped",
				slog.String("reason", "the store holds every user, space and custom role of the fixture already"),
				slog.Int("records_found", found))
			return nil
		case found > 0:
			return fmt.Errorf("the store holds %d of the %d users, spaces and custom roles of the fixture: "+
				"start with -seed=always to write the fixture over it, or -seed=never to serve it as it is", found, total)
		}
	case seedAlways:
	default:
		return fmt.Errorf("unknown seed mode %q", mode)
	}
	if err := fixture.Seed(ctx, s, f); err != nil {
		return fmt.Errorf("seed the store: %w", err)
	}
	logger.Info("seeded the store",
		slog.String("seed", string(mode)),
		slog.Int("accounts", len(f.Accounts)),
		slog.Int("users", len(f.Users)),
		slog.Int("organizations", len(f.Organizations)),
		slog.Int("organization_members", len(f.OrganizationMembers)),
		slog.Int("spaces", len(f.Spaces)),
		slog.Int("roles", len(f.Roles)),
		slog.Int("space_members", len(f.SpaceMembers)))
	return nil
}

// fixtureRecordsFound counts the users, spaces and custom roles of f that
// s holds (found), out of all of them (total). It reads through
// membership.Store.Read alone, so it works for any store: each read names
// two users (as actor and target), a space and a custom role (as the role
// requested), and the facts say which of them exist. Accounts,
// organizations and members are not counted: the store has no read of an
// account by id, an organization exists whenever one of its spaces does,
// and memberships are what the API changes.
func fixtureRecordsFound(ctx context.Context, s membership.Store, f *fixture.Fixture) (found, total int, err error) {
	total = len(f.Users) + len(f.Spaces) + len(f.Roles)
	reads := max((len(f.Users)+1)/2, len(f.Spaces), len(f.Roles))
	for i := range reads {
		q := membership.Query{Operation: membership.OperationList}
		if j := 2 * i; j < len(f.Users) {
			q.Actor = f.Users[j].ID
		}
		if j := 2*i + 1; j < len(f.Users) {
			q.UserID = f.Users[j].ID
		}
		if i < len(f.Spaces) {
			q.SpaceID = f.Spaces[i].ID
		}
		if i < len(f.Roles) {
			q.Role = membership.Custom(f.Roles[i].ID)
		}
		facts, _, err := s.Read(ctx, q)
		if err != nil {
			return 0, 0, err
		}
		for _, ok := range []bool{
			q.Actor != "" && facts.Actor != nil,
			q.UserID != "" && facts.Target != nil,
			q.SpaceID != "" && facts.Space != nil,
			q.Role.ID != "" && facts.CustomRole != nil,
		} {
			if ok {
				found++
			}
		}
	}
	return found, total, nil
}
