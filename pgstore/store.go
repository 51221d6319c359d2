package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	randv2 "math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/membership"
)

// Store is the PostgreSQL store. It is safe for concurrent use by any
// number of goroutines, and any number of Stores, in one process or many,
// may share one database.
type Store struct {
	pool  *pgxpool.Pool
	owned bool
	cfg   config
	begin string
}

var (
	_ membership.Store  = (*Store)(nil)
	_ membership.Seeder = (*Store)(nil)
)

// Open connects to the database that dsn names (a postgres:// URL or a
// key=value string, as pgxpool.ParseConfig reads it, including its
// pool_max_conns and similar settings), checks that it answers, and returns
// a Store that owns the pool: Close closes it. Open does not create the
// schema; call Migrate.
//
// A database that cannot be reached is an error that wraps
// membership.ErrUnavailable; one that refuses the credentials is not.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's error quotes the DSN with its password redacted.
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, classify(ctx, nil, "connecting", err)
	}
	return newStore(pool, true, cfg), nil
}

// New returns a Store on a pool that the caller owns and keeps open for as
// long as the Store is used; Close leaves it open. The pool may serve the
// host's own queries too. The tables are those of the pool's connections'
// search_path.
func New(pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: New needs a pool")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return newStore(pool, false, cfg), nil
}

func newStore(pool *pgxpool.Pool, owned bool, cfg config) *Store {
	return &Store{pool: pool, owned: owned, cfg: cfg, begin: "BEGIN ISOLATION LEVEL " + cfg.isolation}
}

// Close closes the pool if Open created it, waiting for the connections in
// use to be released. The Store must not be used afterwards.
func (s *Store) Close() {
	if s.owned {
		s.pool.Close()
	}
}

// The statements of the second round trip of a write. Each locks rows that
// the facts were read from; in the add's REPEATABLE READ transaction a lock
// on a row that changed since the facts were read fails with SQLSTATE
// 40001, and a lock held keeps the row from changing until the commit.
// Absent rows lock nothing.
const (
	lockUsers               = `SELECT 1 FROM users WHERE id IN ($1, $2) FOR SHARE`
	lockSpace               = `SELECT 1 FROM spaces AS sp JOIN organizations AS org ON org.id = sp.organization_id WHERE sp.id = $1 FOR SHARE`
	lockOrganizationMembers = `SELECT 1 FROM organization_members WHERE organization_id = $1 AND user_id IN ($2, $3) FOR SHARE`
	lockActorSpaceMember    = `SELECT 1 FROM space_members WHERE space_id = $1 AND user_id = $2 FOR SHARE`
	lockSpaceMember         = `SELECT 1 FROM space_members WHERE id = $1 FOR SHARE`
	lockCustomRoles         = `SELECT 1 FROM custom_roles WHERE id IN ($1, $2, $3, $4) FOR SHARE`
	// The membership about to change is locked for the update at once, so
	// that two adds of one user to one space do not both hold a share lock
	// and deadlock on the upgrade.
	lockExistingForUpdate = `SELECT 1 FROM space_members WHERE id = $1 FOR NO KEY UPDATE`
	lockExistingForDelete = `SELECT 1 FROM space_members WHERE id = $1 FOR UPDATE`

	upsertMembership = `INSERT INTO space_members (id, space_id, user_id, account_id, predefined_role, custom_role_id)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (space_id, user_id) DO UPDATE
SET predefined_role = excluded.predefined_role, custom_role_id = excluded.custom_role_id
RETURNING id`
	deleteMembership = `DELETE FROM space_members WHERE id = $1`
)

// nullable passes an empty id as NULL, which matches no row.
func nullable(id membership.ID) any {
	if id == "" {
		return nil
	}
	return string(id)
}

// Read implements membership.Store in one round trip: a read-only
// REPEATABLE READ transaction whose statements (the facts, the page) see one
// snapshot, pipelined with its BEGIN and COMMIT.
func (s *Store) Read(ctx context.Context, q membership.Query) (_ *membership.Facts, _ membership.Page, err error) {
	pc, err := s.acquire(ctx)
	if err != nil {
		return nil, membership.Page{}, err
	}
	defer pc.Release()
	conn := pc.Conn()
	defer func() {
		if err != nil {
			rollback(ctx, conn)
		}
	}()
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	b.Queue(factsQuery, factsArgs(q)...)
	if q.Page != nil {
		b.Queue(pageQuery, string(q.SpaceID), string(q.Page.After), q.Page.Limit+1)
	}
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, b)
	var (
		facts *membership.Facts
		page  membership.Page
	)
	_, err = br.Exec()
	if err == nil {
		facts, err = scanFacts(br.QueryRow(), q)
	}
	if err == nil && q.Page != nil {
		page, err = scanPage(br, q)
	}
	if err == nil {
		_, err = br.Exec()
	}
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, membership.Page{}, classify(ctx, conn, "reading", err)
	}
	return facts, page, nil
}

// Write implements membership.Store.
//
// A write is one REPEATABLE READ transaction in two round trips: the first
// begins it and reads the facts in one statement; decide runs with no lock
// held; the second locks the rows behind the facts (FOR SHARE, the
// membership being changed FOR NO KEY UPDATE, or FOR UPDATE when it is
// deleted), makes the change and commits. A change committed to any of
// those rows after the facts were read makes the lock fail with a
// serialization error, and a change attempted after the lock waits for the
// commit. A membership of the target that appears after the facts were read
// makes the upsert fail the same way (REPEATABLE READ refuses to update a
// row its snapshot does not see). A lost race (SQLSTATE 40001 or 40P01)
// rolls back and starts again on fresh facts, calling decide again, up to
// WithMaxRetries times with backoff. A change that changes nothing (the
// user already has the role) still takes the locks and commits, and writes
// nothing.
//
// Other records that the facts did not find are not locked (PostgreSQL
// locks rows, not their absence): a user, a role held or a custom role
// created while decide runs is not seen, as membership.Store allows.
//
// Errors: decide's error is returned unchanged; a done ctx gives an error
// that wraps ctx.Err(); a lost connection, a pool with no free connection
// within WithAcquireTimeout, a server shutting down or overloaded, and
// retries spent give an error that wraps membership.ErrUnavailable. In
// every failure the transaction is rolled back, except when the connection
// is lost while COMMIT is in flight: then the outcome is unknown (a retry is
// safe: an upsert is idempotent, and a repeated remove answers 404).
func (s *Store) Write(ctx context.Context, q membership.Query, decide func(*membership.Facts) (membership.Change, error)) (membership.Membership, error) {
	for retry := 0; ; retry++ {
		m, err := s.tryWrite(ctx, q, decide)
		if !errors.Is(err, errLostRace) {
			return m, err
		}
		if retry == s.cfg.maxRetries {
			return membership.Membership{}, fmt.Errorf("pgstore: writing: lost to concurrent writes %d times: %w",
				retry+1, membership.Unavailable(err))
		}
		if err := s.backoff(ctx, retry); err != nil {
			return membership.Membership{}, err
		}
	}
}

// tryWrite is one attempt of Write.
func (s *Store) tryWrite(ctx context.Context, q membership.Query, decide func(*membership.Facts) (membership.Change, error)) (_ membership.Membership, err error) {
	pc, err := s.acquire(ctx)
	if err != nil {
		return membership.Membership{}, err
	}
	defer pc.Release()
	conn := pc.Conn()
	defer func() {
		if err != nil {
			rollback(ctx, conn)
		}
	}()

	facts, err := s.beginAndReadFacts(ctx, conn, q)
	if err != nil {
		return membership.Membership{}, err
	}
	change, err := decide(facts)
	if err != nil {
		return membership.Membership{}, err
	}
	if err := ctx.Err(); err != nil {
		return membership.Membership{}, fmt.Errorf("pgstore: writing: %w", err)
	}
	return s.changeAndCommit(ctx, conn, facts, change)
}

// beginAndReadFacts is the first round trip of a write: it begins the
// transaction and reads the facts of q.
func (s *Store) beginAndReadFacts(ctx context.Context, conn *pgx.Conn, q membership.Query) (*membership.Facts, error) {
	b := &pgx.Batch{}
	b.Queue(s.begin)
	b.Queue(factsQuery, factsArgs(q)...)
	br := conn.SendBatch(ctx, b)
	_, err := br.Exec()
	var facts *membership.Facts
	if err == nil {
		facts, err = scanFacts(br.QueryRow(), q)
	}
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, classify(ctx, conn, "reading the facts", err)
	}
	return facts, nil
}

// changeAndCommit is the second round trip of a write: it locks the rows
// behind f, makes the change (unless it changes nothing) and commits.
func (s *Store) changeAndCommit(ctx context.Context, conn *pgx.Conn, f *membership.Facts, change membership.Change) (membership.Membership, error) {
	q := f.Query
	var stmt *writeStatement
	switch change.Kind {
	case membership.ChangeNone:
	case membership.ChangePut:
		role := change.Role.Canonical()
		if f.Existing == nil || f.Existing.Role != role {
			if f.Space == nil || f.Organization == nil {
				return membership.Membership{}, fmt.Errorf("pgstore: writing: space %s does not exist", q.SpaceID)
			}
			predefined, customID := roleArgs(role)
			stmt = &writeStatement{sql: upsertMembership, args: []any{string(newMembershipID()), string(q.SpaceID), string(q.UserID),
				string(f.Organization.AccountID), predefined, customID}, returning: true}
		}
	case membership.ChangeDelete:
		if f.Existing == nil {
			return membership.Membership{}, membership.ErrMembershipNotFound
		}
		stmt = &writeStatement{sql: deleteMembership, args: []any{string(f.Existing.ID)}}
	default:
		return membership.Membership{}, fmt.Errorf("pgstore: unknown change %d", change.Kind)
	}

	b := &pgx.Batch{}
	locks := 0
	if s.cfg.lockFacts {
		locks = queueLocks(b, f, change.Kind, stmt != nil)
	}
	if stmt != nil {
		b.Queue(stmt.sql, stmt.args...)
	}
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, b)
	var err error
	for range locks {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	var storedID string
	if err == nil && stmt != nil {
		if stmt.returning {
			err = br.QueryRow().Scan(&storedID)
		} else {
			_, err = br.Exec()
		}
	}
	if err == nil {
		var tag pgconn.CommandTag
		if tag, err = br.Exec(); err == nil && tag.String() != "COMMIT" {
			// PostgreSQL answers the COMMIT of a failed transaction with
			// ROLLBACK. Nothing above fails silently, but were it to,
			// nothing was written.
			err = fmt.Errorf("the transaction ended with %s", tag)
		}
	}
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		err = classify(ctx, conn, "writing the membership", err)
		if conn.IsClosed() && errors.Is(err, membership.ErrUnavailable) {
			// The COMMIT went out with this round trip; whether the server
			// received it before the connection went, no one can tell.
			return membership.Membership{}, membership.Unavailable(err).WithDetail(outcomeUnknown)
		}
		return membership.Membership{}, err
	}
	switch {
	case change.Kind == membership.ChangeDelete:
		return *f.Existing, nil
	case change.Kind == membership.ChangeNone:
		return membership.Membership{}, nil
	case stmt == nil:
		return *f.Existing, nil
	}
	return membership.Membership{ID: membership.ID(storedID), UserID: q.UserID, SpaceID: q.SpaceID, Role: change.Role.Canonical()}, nil
}

// outcomeUnknown is the detail of a 503 whose change may have been made: a
// client must not be told that nothing was written.
const outcomeUnknown = "the connection to the database was lost while the change was committing; it may have been made, and retrying it is safe"

// writeStatement is the statement that makes a change.
type writeStatement struct {
	sql       string
	args      []any
	returning bool // it returns the membership's id
}

// queueLocks queues the statements that lock the rows behind f and returns
// how many it queued.
func queueLocks(b *pgx.Batch, f *membership.Facts, kind membership.ChangeKind, write bool) int {
	n := b.Len()
	req := f.Query
	if f.Actor != nil || f.Target != nil {
		b.Queue(lockUsers, string(req.Actor), nullable(req.UserID))
	}
	b.Queue(lockSpace, string(req.SpaceID))
	if f.ActorOrganizationRole.Held() || f.TargetOrganizationRole.Held() {
		b.Queue(lockOrganizationMembers, string(f.Space.OrganizationID), string(req.Actor), nullable(req.UserID))
	}
	if f.ActorSpaceRole.Held() && req.Actor != req.UserID {
		// The actor's own membership: read, never written here.
		b.Queue(lockActorSpaceMember, string(req.SpaceID), string(req.Actor))
	}
	if f.Existing != nil {
		switch {
		case kind == membership.ChangeDelete:
			b.Queue(lockExistingForDelete, string(f.Existing.ID))
		case write:
			b.Queue(lockExistingForUpdate, string(f.Existing.ID))
		default:
			b.Queue(lockSpaceMember, string(f.Existing.ID))
		}
	}
	var roles [4]any
	found := 0
	for _, r := range []*membership.CustomRole{f.ActorOrganizationRole.CustomRole, f.ActorSpaceRole.CustomRole, f.TargetOrganizationRole.CustomRole, f.CustomRole} {
		if r != nil {
			roles[found] = string(r.ID)
			found++
		}
	}
	if found > 0 {
		b.Queue(lockCustomRoles, roles[:]...)
	}
	return b.Len() - n
}

// acquire takes a connection from the pool, waiting at most the acquire
// timeout.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx := ctx
	if s.cfg.acquireTimeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, s.cfg.acquireTimeout)
		defer cancel()
	}
	conn, err := s.pool.Acquire(actx)
	if err == nil {
		return conn, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("pgstore: waiting for a connection: %w", ctxErr)
	}
	return nil, fmt.Errorf("pgstore: no connection to the database: %w", membership.Unavailable(err))
}

// backoff waits before retry number retry (counted from 0), or until ctx is
// done.
func (s *Store) backoff(ctx context.Context, retry int) error {
	ceiling := s.cfg.maxDelay
	if retry < 30 && s.cfg.baseDelay<<retry < ceiling {
		ceiling = s.cfg.baseDelay << retry
	}
	t := time.NewTimer(randv2.N(ceiling + 1))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pgstore: add user to space: %w", ctx.Err())
	}
}

// rollback ends the transaction of conn, if one is open, even when ctx is
// done; a connection that cannot roll back is closed, which the pool then
// discards.
func rollback(ctx context.Context, conn *pgx.Conn) {
	if conn.IsClosed() || conn.PgConn().TxStatus() == 'I' {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(rctx, "ROLLBACK"); err != nil {
		conn.Close(rctx)
	}
}

// newMembershipID returns a random 128-bit ID. Randomness, not a sequence,
// keeps IDs unique across databases and unguessable; a collision, were it
// ever to happen, would fail on the primary key rather than reuse an ID.
func newMembershipID() membership.ID {
	var b [16]byte
	rand.Read(b[:])
	return membership.ID(base64.StdEncoding.EncodeToString(b[:]))
}
