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
	lockOrganization        = `SELECT 1 FROM organizations WHERE id = $1 FOR SHARE`
	lockOrganizationMembers = `SELECT 1 FROM organization_members WHERE organization_id = $1 AND user_id IN ($2, $3) FOR SHARE`
	lockOrganizationMember  = `SELECT 1 FROM organization_members WHERE organization_id = $1 AND user_id = $2 FOR SHARE`
	lockActorSpaceMember    = `SELECT 1 FROM space_members WHERE space_id = $1 AND user_id = $2 FOR SHARE`
	lockSpaceMember         = `SELECT 1 FROM space_members WHERE id = $1 FOR SHARE`
	lockCustomRoles         = `SELECT 1 FROM custom_roles WHERE id IN ($1, $2, $3, $4) FOR SHARE`
	// The membership about to change is locked for the update at once, so
	// that two adds of one user to one space do not both hold a share lock
	// and deadlock on the upgrade.
	lockExistingForUpdate = `SELECT 1 FROM space_members WHERE id = $1 FOR NO KEY UPDATE`
	lockExistingForDelete = `SELECT 1 FROM space_members WHERE id = $1 FOR UPDATE`
	// The same for an organization membership. FOR UPDATE, which a space
	// add's share lock and its foreign key check's KEY SHARE lock both
	// block, orders a removal against the adds to the organization's spaces.
	lockOrganizationMemberForUpdate = `SELECT 1 FROM organization_members WHERE id = $1 FOR NO KEY UPDATE`
	lockOrganizationMemberForDelete = `SELECT 1 FROM organization_members WHERE id = $1 FOR UPDATE`
	lockOrganizationMemberShared    = `SELECT 1 FROM organization_members WHERE id = $1 FOR SHARE`

	upsertMembership = `INSERT INTO space_members (id, space_id, user_id, account_id, predefined_role, custom_role_id, organization_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (space_id, user_id) DO UPDATE
SET predefined_role = excluded.predefined_role, custom_role_id = excluded.custom_role_id
RETURNING id`
	deleteMembership = `DELETE FROM space_members WHERE id = $1`

	upsertOrganizationMember = `INSERT INTO organization_members (id, organization_id, user_id, account_id, predefined_role, custom_role_id)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (organization_id, user_id) DO UPDATE
SET predefined_role = excluded.predefined_role, custom_role_id = excluded.custom_role_id
RETURNING id`
	// A plain delete of an organization membership must not take space
	// memberships with it (the foreign key would cascade): it deletes
	// nothing when one rests on it.
	deleteLoneOrganizationMember = `DELETE FROM organization_members AS om WHERE om.id = $1
AND NOT EXISTS (SELECT 1 FROM space_members AS sm WHERE sm.organization_id = om.organization_id AND sm.user_id = om.user_id)
RETURNING 1`
	// The cascade deletes the space memberships itself, to return them and
	// to record them, from what it deleted, as the removals of its audit
	// entry ($3). A membership committed after the facts were read is not
	// in the transaction's snapshot; the foreign key's own cascade, which
	// finds it, then fails with a serialization error, and the removal is
	// tried again on facts that hold it.
	cascadeSpaceMembers = `WITH gone AS (
    DELETE FROM space_members WHERE organization_id = $1 AND user_id = $2
    RETURNING id, space_id, predefined_role, custom_role_id),
recorded AS (
    INSERT INTO audit_entry_removals (entry_id, space_id, membership_id, predefined_role, custom_role_id)
    SELECT $3, space_id, id, predefined_role, custom_role_id FROM gone)
SELECT id, space_id, predefined_role, custom_role_id FROM gone ORDER BY space_id COLLATE "C"`
	deleteOrganizationMember = `DELETE FROM organization_members WHERE id = $1`
)

// invariantConstraint is the foreign key that keeps every space membership
// on a membership of the space's organization.
const invariantConstraint = "space_members_organization_member_fkey"

// errMembershipsBelow is the error of a plain delete of an organization
// membership on which space memberships rest: only a cascade removes it.
var errMembershipsBelow = errors.New("pgstore: space memberships rest on the organization membership; only a cascade removes it")

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
// A change at LevelOrganization does the same on the organization
// membership; a ChangeDeleteCascade deletes the user's memberships of the
// organization's spaces and then the organization membership in the same
// second round trip. The schema's foreign key from space_members to
// organization_members holds the invariant against any writer: a space
// membership committed after the facts were read makes the removal's
// cascade fail with 40001, and the removal is retried on facts that hold it.
//
// Other records that the facts did not find are not locked (PostgreSQL
// locks rows, not their absence): a user, a role held or a custom role
// created while decide runs is not seen, as membership.Store allows.
//
// A change that changes something inserts its audit entry in the same
// transaction and the same second round trip, as its last statement before
// COMMIT; a cascade also records the space memberships it removed, from
// its own DELETE ... RETURNING. Positions follow commit order: that last
// statement first takes a transaction advisory lock of the entry's
// account, held until the commit is visible, and only then its position
// (nextval of a sequence) and its time (clock_timestamp()). An entry with
// a smaller position therefore committed, or failed, before a larger one
// was taken, and a reader that resumes after the last position it saw
// misses none. Row locks all come before that statement, so nothing that
// holds the advisory lock waits on a row: the commits of one account wait
// on each other only for the time of that statement and the COMMIT (its
// WAL flush included), with no network round trip inside; other accounts
// do not wait.
//
// Errors: decide's error is returned unchanged; a done ctx gives an error
// that wraps ctx.Err(); a lost connection, a pool with no free connection
// within WithAcquireTimeout, a server shutting down or overloaded, and
// retries spent give an error that wraps membership.ErrUnavailable. In
// every failure the transaction is rolled back, except when the connection
// is lost while COMMIT is in flight: then the outcome is unknown (a retry is
// safe: an upsert is idempotent, and a repeated remove answers 404).
func (s *Store) Write(ctx context.Context, q membership.Query, decide func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
	return s.write(ctx, q, decide, withEntry)
}

// entryPolicy says whether a write commits the audit entry of its change:
// every Write does; a Seeder's write, which no request made, does not.
type entryPolicy bool

const (
	withEntry    entryPolicy = true
	withoutEntry entryPolicy = false
)

// write is Write, with or without the audit entry.
func (s *Store) write(ctx context.Context, q membership.Query, decide func(*membership.Facts) (membership.Change, error), entries entryPolicy) (membership.Written, error) {
	for retry := 0; ; retry++ {
		w, err := s.tryWrite(ctx, q, decide, entries)
		if !errors.Is(err, errLostRace) {
			return w, err
		}
		if retry == s.cfg.maxRetries {
			return membership.Written{}, fmt.Errorf("pgstore: writing: lost to concurrent writes %d times: %w",
				retry+1, membership.Unavailable(err))
		}
		if err := s.backoff(ctx, retry); err != nil {
			return membership.Written{}, err
		}
	}
}

// tryWrite is one attempt of Write.
func (s *Store) tryWrite(ctx context.Context, q membership.Query, decide func(*membership.Facts) (membership.Change, error), entries entryPolicy) (_ membership.Written, err error) {
	pc, err := s.acquire(ctx)
	if err != nil {
		return membership.Written{}, err
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
		return membership.Written{}, err
	}
	change, err := decide(facts)
	if err != nil {
		return membership.Written{}, err
	}
	if err := ctx.Err(); err != nil {
		return membership.Written{}, fmt.Errorf("pgstore: writing: %w", err)
	}
	return s.changeAndCommit(ctx, conn, facts, change, entries)
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
// behind f, makes the change (unless it changes nothing) and commits. An
// organization removal deletes the space memberships of the cascade in this
// same round trip, so a write takes two round trips whatever it removes.
func (s *Store) changeAndCommit(ctx context.Context, conn *pgx.Conn, f *membership.Facts, change membership.Change, entries entryPolicy) (membership.Written, error) {
	entry, changed := membership.NewAuditEntry(f, change, change.Origin)
	record := changed && entries == withEntry
	if record {
		entry.ID = newMembershipID() // the same random 128-bit ids as memberships
	}
	plan, err := planChange(f, change, entry.ID)
	if err != nil {
		return membership.Written{}, err
	}
	if err := checkEntry(entry, changed, record, change, plan); err != nil {
		return membership.Written{}, err
	}
	if record {
		// Last, so that nothing after its advisory lock waits on a row.
		plan.steps = append(plan.steps, auditStep(&entry))
	}
	if s.cfg.splitCascade && change.Kind == membership.ChangeDeleteCascade {
		plan.steps = splitCascade(plan.steps, s.begin)
	}
	b := &pgx.Batch{}
	locks := 0
	if s.cfg.lockFacts {
		locks = queueLocks(b, f, change.Kind, len(plan.steps) > 0)
	}
	for _, st := range plan.steps {
		b.Queue(st.sql, st.args...)
	}
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, b)
	for range locks {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	for _, st := range plan.steps {
		if err != nil {
			break
		}
		if st.scan != nil {
			err = st.scan(br)
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
		return membership.Written{}, writeError(ctx, conn, err)
	}
	written := plan.written
	if record {
		entry.Removed = written.Cascaded
		written.Entry = entry
	}
	return written, nil
}

// checkEntry fails a write whose plan and audit entry disagree on whether
// the change changes anything, rather than commit a change without its
// entry or an entry without its change. record says whether the write
// records the entry; a cascade, which records its removals for it, always
// must.
func checkEntry(entry membership.AuditEntry, changed, record bool, change membership.Change, plan *writePlan) error {
	switch {
	case changed != (len(plan.steps) > 0):
		return fmt.Errorf("pgstore: writing: the change makes %d statements, and its audit entry says changed=%v", len(plan.steps), changed)
	case record && entry.AccountID == "":
		return errors.New("pgstore: writing: a change outside any account")
	case !record && change.Kind == membership.ChangeDeleteCascade:
		return errors.New("pgstore: writing: a cascade without its audit entry")
	}
	return nil
}

// writeError is the error of a failed second round trip.
func writeError(ctx context.Context, conn *pgx.Conn, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" && pgErr.ConstraintName == invariantConstraint {
		// The target left the organization in a way the locks did not see
		// (it was never in the facts' snapshot): the database refused what
		// the store refuses too.
		return membership.ErrUserNotInOrganization
	}
	err = classify(ctx, conn, "writing the membership", err)
	if conn.IsClosed() && (errors.Is(err, membership.ErrUnavailable) || ctx.Err() != nil) {
		// The COMMIT went out with this round trip; whether the server
		// received it before the connection went, no one can tell. That
		// holds as well when the connection went because ctx ended (pgx
		// closes it rather than cancel the statement): a write waiting
		// on a lock may still commit once the lock is free.
		return membership.Unavailable(err).WithDetail(outcomeUnknown)
	}
	return err
}

// outcomeUnknown is the detail of a 503 whose change may have been made: a
// client must not be told that nothing was written.
const outcomeUnknown = "the connection to the database was lost while the change was committing; it may have been made, and retrying it is safe"

// writePlan is what the second round trip of a write runs after the locks,
// and what the write returns once it has committed.
type writePlan struct {
	steps   []writeStep
	written membership.Written
}

// writeStep is one statement that makes a change.
type writeStep struct {
	sql  string
	args []any
	// scan reads the statement's result into the plan; nil for a statement
	// whose result is only its success.
	scan func(pgx.BatchResults) error
}

// planChange returns the statements that make change on the facts f. A
// cascade records its removals for the audit entry entryID.
func planChange(f *membership.Facts, change membership.Change, entryID membership.ID) (*writePlan, error) {
	if change.Kind == membership.ChangeNone {
		return &writePlan{}, nil
	}
	level := f.Query.Operation.Level()
	switch {
	case change.Level == membership.LevelSpace && level == membership.LevelSpace:
		return planSpace(f, change)
	case change.Level == membership.LevelOrganization && level == membership.LevelOrganization:
		return planOrganization(f, change, entryID)
	}
	return nil, fmt.Errorf("pgstore: writing: a change at level %d for a %q query", change.Level, f.Query.Operation)
}

// planSpace plans a change of the target's membership of the space.
func planSpace(f *membership.Facts, change membership.Change) (*writePlan, error) {
	q := f.Query
	switch change.Kind {
	case membership.ChangePut:
		if f.Space == nil || f.Organization == nil {
			return nil, fmt.Errorf("pgstore: writing: space %s does not exist", q.SpaceID)
		}
		if f.TargetOrganizationMember == nil {
			// The invariant holds whatever the policy allows.
			return nil, membership.ErrUserNotInOrganization
		}
		role := change.Role.Canonical()
		if f.Existing != nil && f.Existing.Role == role {
			return &writePlan{written: membership.Written{Space: *f.Existing}}, nil
		}
		p := &writePlan{written: membership.Written{Space: membership.Membership{UserID: q.UserID, SpaceID: q.SpaceID, Role: role}}}
		predefined, customID := roleArgs(role)
		p.steps = []writeStep{{
			sql: upsertMembership,
			args: []any{string(newMembershipID()), string(q.SpaceID), string(q.UserID),
				string(f.Organization.AccountID), predefined, customID, string(f.Space.OrganizationID)},
			scan: func(br pgx.BatchResults) error { return scanID(br, &p.written.Space.ID) },
		}}
		return p, nil
	case membership.ChangeDelete:
		if f.Existing == nil {
			return nil, membership.ErrMembershipNotFound
		}
		return &writePlan{
			steps:   []writeStep{{sql: deleteMembership, args: []any{string(f.Existing.ID)}}},
			written: membership.Written{Space: *f.Existing},
		}, nil
	}
	return nil, fmt.Errorf("pgstore: writing: unknown change %d of a space membership", change.Kind)
}

// planOrganization plans a change of the target's membership of the
// organization; a cascade records its removals for the audit entry
// entryID.
func planOrganization(f *membership.Facts, change membership.Change, entryID membership.ID) (*writePlan, error) {
	q := f.Query
	existing := f.TargetOrganizationMember
	switch change.Kind {
	case membership.ChangePut:
		if f.Organization == nil {
			return nil, fmt.Errorf("pgstore: writing: organization %s does not exist", q.OrganizationID)
		}
		role := change.Role.Canonical()
		if existing != nil && existing.Role == role {
			return &writePlan{written: membership.Written{Organization: *existing}}, nil
		}
		p := &writePlan{written: membership.Written{Organization: membership.OrganizationMember{
			OrganizationID: q.OrganizationID, UserID: q.UserID, Role: role}}}
		predefined, customID := roleArgs(role)
		p.steps = []writeStep{{
			sql: upsertOrganizationMember,
			args: []any{string(newMembershipID()), string(q.OrganizationID), string(q.UserID),
				string(f.Organization.AccountID), predefined, customID},
			scan: func(br pgx.BatchResults) error { return scanID(br, &p.written.Organization.ID) },
		}}
		return p, nil
	case membership.ChangeDelete:
		if existing == nil {
			return nil, membership.ErrMembershipNotFound
		}
		return &writePlan{
			steps:   []writeStep{{sql: deleteLoneOrganizationMember, args: []any{string(existing.ID)}, scan: scanLoneDelete}},
			written: membership.Written{Organization: *existing},
		}, nil
	case membership.ChangeDeleteCascade:
		if existing == nil {
			return nil, membership.ErrMembershipNotFound
		}
		p := &writePlan{written: membership.Written{Organization: *existing}}
		p.steps = []writeStep{{
			sql:  cascadeSpaceMembers,
			args: []any{string(existing.OrganizationID), string(existing.UserID), string(entryID)},
			scan: func(br pgx.BatchResults) error {
				var err error
				p.written.Cascaded, err = scanCascaded(br, existing.UserID)
				return err
			},
		}, {sql: deleteOrganizationMember, args: []any{string(existing.ID)}}}
		return p, nil
	}
	return nil, fmt.Errorf("pgstore: writing: unknown change %d of an organization membership", change.Kind)
}

// scanID reads the id an upsert returns.
func scanID(br pgx.BatchResults, to *membership.ID) error {
	var id string
	if err := br.QueryRow().Scan(&id); err != nil {
		return err
	}
	*to = membership.ID(id)
	return nil
}

// scanLoneDelete reads the result of deleteLoneOrganizationMember, which
// deletes nothing when space memberships rest on the membership.
func scanLoneDelete(br pgx.BatchResults) error {
	var one int
	err := br.QueryRow().Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return errMembershipsBelow
	}
	return err
}

// scanCascaded reads the space memberships of userID that the cascade
// deleted, in space id order.
func scanCascaded(br pgx.BatchResults, userID membership.ID) ([]membership.Membership, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []membership.Membership
	for rows.Next() {
		var (
			id, spaceID string
			role        roleColumns
		)
		if err := rows.Scan(&id, &spaceID, &role.predefined, &role.customID); err != nil {
			return nil, err
		}
		r, err := role.assignment()
		if err != nil {
			return nil, err
		}
		out = append(out, membership.Membership{ID: membership.ID(id), UserID: userID, SpaceID: membership.ID(spaceID), Role: r})
	}
	return out, rows.Err()
}

// queueLocks queues the statements that lock the rows behind f and returns
// how many it queued. write says whether the change writes anything.
func queueLocks(b *pgx.Batch, f *membership.Facts, kind membership.ChangeKind, write bool) int {
	n := b.Len()
	req := f.Query
	if f.Actor != nil || f.Target != nil {
		b.Queue(lockUsers, string(req.Actor), nullable(req.UserID))
	}
	if req.Operation.Level() == membership.LevelOrganization {
		queueOrganizationLocks(b, f, kind, write)
	} else {
		queueSpaceLocks(b, f, kind, write)
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

// queueSpaceLocks locks the space, the organization members and the space
// memberships behind the facts of a space operation.
func queueSpaceLocks(b *pgx.Batch, f *membership.Facts, kind membership.ChangeKind, write bool) {
	req := f.Query
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
}

// queueOrganizationLocks locks the organization and the memberships of it
// behind the facts of an organization operation.
func queueOrganizationLocks(b *pgx.Batch, f *membership.Facts, kind membership.ChangeKind, write bool) {
	req := f.Query
	if f.Organization != nil {
		b.Queue(lockOrganization, string(f.Organization.ID))
	}
	if f.ActorOrganizationRole.Held() && req.Actor != req.UserID {
		// The actor's own membership: read, never written here.
		b.Queue(lockOrganizationMember, string(f.Organization.ID), string(req.Actor))
	}
	if t := f.TargetOrganizationMember; t != nil {
		switch {
		case kind == membership.ChangeDelete || kind == membership.ChangeDeleteCascade:
			b.Queue(lockOrganizationMemberForDelete, string(t.ID))
		case write:
			b.Queue(lockOrganizationMemberForUpdate, string(t.ID))
		default:
			b.Queue(lockOrganizationMemberShared, string(t.ID))
		}
	}
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

// splitCascade turns the steps of a cascade into those of the planted
// defect config.splitCascade: the space memberships' removal commits on
// its own, and a second transaction, after a pause that a reader can fall
// into, removes the organization membership and writes the entry. (Its
// BEGIN comes first: an isolation level is set before any query.)
func splitCascade(steps []writeStep, begin string) []writeStep {
	split := []writeStep{steps[0], {sql: "COMMIT"}, {sql: begin}, {sql: "SELECT pg_sleep(0.002)"}}
	return append(split, steps[1:]...)
}
