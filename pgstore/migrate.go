package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spaceauthz/spaceauthz/membership"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one file of migrations/, named NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Their
// versions must be 1, 2, 3...; a test holds the files to that.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		number, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(number)
		if !ok || err != nil {
			return nil, fmt.Errorf("pgstore: migration %s is not named NNNN_name.sql", base)
		}
		sql, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: version, name: base, sql: string(sql)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("pgstore: migration %s: want version %d", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the version of the newest migration in this package.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // the files are embedded; a test covers them
	}
	return len(ms)
}

// migrationSteps finish, in Go and in the same transaction, a migration
// whose rows need what SQL cannot compute.
var migrationSteps = map[int]func(context.Context, pgx.Tx) error{
	4: fillNameFolds,
}

// fillNameFolds fills the name_fold column that migration 4 adds, a batch
// of spaces at a time, and then makes it NOT NULL.
func fillNameFolds(ctx context.Context, tx pgx.Tx) error {
	for {
		rows, err := tx.Query(ctx, `SELECT id, name FROM spaces WHERE name_fold IS NULL LIMIT 1000`)
		if err != nil {
			return err
		}
		var ids, folds []string
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			folds = append(folds, membership.FoldName(name))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		if _, err := tx.Exec(ctx, `UPDATE spaces AS sp SET name_fold = v.fold
FROM unnest($1::text[], $2::text[]) AS v (id, fold) WHERE sp.id = v.id`, ids, folds); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `ALTER TABLE spaces ALTER COLUMN name_fold SET NOT NULL`)
	return err
}

// createMigrations makes the table that records the applied migrations.
const createMigrations = `CREATE TABLE IF NOT EXISTS pgstore_migrations (
    version    INT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`

// Migrate brings the schema of the database up to date: it creates the
// tables of the store in the schema the connections' search_path selects
// and applies, in order, each embedded migration that table
// pgstore_migrations does not list yet. In a database shared with other
// applications, give the store a schema of its own (CREATE SCHEMA
// spaceauthz, then ?search_path=spaceauthz in the DSN): its table names,
// such as users, are common ones.
//
// Migrate is idempotent, and several processes may call it at once: each
// migration runs in a transaction that first claims its row of
// pgstore_migrations, so one process applies it and the others wait for its
// commit and skip it. A database whose schema is newer than this package
// knows is refused, so that an old replica cannot run on a schema it does
// not understand.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()

	// Two first calls at once can both try to create the table; the loser
	// of that race gets one of these codes (a unique violation in the
	// catalog, a duplicate table, or a duplicate row type) and sees the
	// table on its next try.
	for try := 0; ; try++ {
		_, err = conn.Exec(ctx, createMigrations)
		var pgErr *pgconn.PgError
		if err == nil || try == 2 || !errors.As(err, &pgErr) || !slices.Contains([]string{"23505", "42P07", "42710"}, pgErr.Code) {
			break
		}
	}
	if err != nil {
		return classify(ctx, conn.Conn(), "creating pgstore_migrations", err)
	}

	var newest int
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM pgstore_migrations`).Scan(&newest); err != nil {
		return classify(ctx, conn.Conn(), "reading pgstore_migrations", err)
	}
	if newest > len(ms) {
		return fmt.Errorf("pgstore: the database schema is at version %d, newer than this package's %d", newest, len(ms))
	}
	for _, m := range ms[newest:] {
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var claimed int
			err := tx.QueryRow(ctx, `INSERT INTO pgstore_migrations (version, name) VALUES ($1, $2)
ON CONFLICT (version) DO NOTHING RETURNING version`, m.version, m.name).Scan(&claimed)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // another process applied it
			}
			if err != nil {
				return err
			}
			// No arguments: the simple protocol, which runs every
			// statement of the file.
			if _, err = tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			if finish := migrationSteps[m.version]; finish != nil {
				return finish(ctx, tx)
			}
			return nil
		}); err != nil {
			return classify(ctx, conn.Conn(), "applying migration "+m.name, err)
		}
	}
	return nil
}
