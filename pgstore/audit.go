package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/spaceauthz/spaceauthz/membership"
)

// insertAuditEntry is the last statement of a write before its COMMIT. It
// first takes the transaction advisory lock of the entry's account, and
// only then the position and the time: a writer of the account that took
// its position earlier holds the lock until its commit is visible, so
// positions follow commit order. Nothing in it can wait on a row lock (the
// table has no foreign keys and its keys never collide), so a writer that
// holds the advisory lock only ever waits for the COMMIT that follows in
// the same batch. The subquery with OFFSET 0 is evaluated before the
// select list: the lock comes before nextval.
//
// The lock's key is the account id hashed with the audit table's OID as
// the seed (see accountLockKey), so that stores in two schemas of one
// database do not wait on each other.
var insertAuditEntry = `INSERT INTO audit_entries (id, position, account_id, created_at, actor_id, ip, body, operation,
    space_id, organization_id, user_id, predefined_role_before, custom_role_id_before, predefined_role_after, custom_role_id_after)
SELECT $1, nextval('audit_entry_positions'), $2, clock_timestamp(), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
FROM (SELECT pg_advisory_xact_lock(` + accountLockKey("$2") + `) OFFSET 0) AS commit_order
RETURNING position, created_at`

// accountLockKey is the SQL of the key of the advisory lock of the account
// whose id the expression account gives. A collision of two accounts' keys
// only makes their commits wait on each other.
func accountLockKey(account string) string {
	return "hashtextextended(" + account + ", 'audit_entries'::regclass::oid::bigint)"
}

// The reads of the audit log: the entries of the account of the user $1.
// A cascade's removals come with their entry, as a JSON array in space id
// order byte by byte.
const (
	auditColumns = `SELECT e.id, e.position, e.account_id, e.created_at, e.actor_id, e.ip, e.body, e.operation,
    e.space_id, e.organization_id, e.user_id,
    e.predefined_role_before, e.custom_role_id_before, e.predefined_role_after, e.custom_role_id_after,
    CASE WHEN e.operation = 'org_remove' THEN (
        SELECT jsonb_agg(jsonb_build_object('id', r.membership_id, 'space_id', r.space_id,
            'predefined_role', r.predefined_role, 'custom_role_id', r.custom_role_id) ORDER BY r.space_id COLLATE "C")
        FROM audit_entry_removals AS r WHERE r.entry_id = e.id)
    END
FROM audit_entries AS e
WHERE e.account_id = (SELECT account_id FROM users WHERE id = $1)`
	// The changelog: after a position, in commit order.
	auditChangesQuery = auditColumns + `
AND e.position > $2
ORDER BY e.position
LIMIT $3`
	// The log: before a position, newest first, in a time window.
	auditLogQuery = auditColumns + `
AND e.position < $2 AND e.created_at BETWEEN $3 AND $4
ORDER BY e.position DESC
LIMIT $5`
	// The same, made by one actor: a statement of its own, so that its
	// plan uses the index by actor whatever plan the other one has.
	auditLogByActorQuery = auditColumns + `
AND e.position < $2 AND e.created_at BETWEEN $3 AND $4 AND e.actor_id = $5
ORDER BY e.position DESC
LIMIT $6`
	auditActorQuery = `SELECT id, account_id, name, email, role FROM users WHERE id = $1`
)

// auditStep is the statement that writes entry, the last before COMMIT; it
// fills the entry's position and time in from what the database gave it.
func auditStep(entry *membership.AuditEntry) writeStep {
	before, beforeCustom := nullableRole(entry.Before)
	after, afterCustom := nullableRole(entry.After)
	return writeStep{
		sql: insertAuditEntry,
		args: []any{string(entry.ID), string(entry.AccountID), string(entry.Actor), nullableText(entry.IP), nullableText(entry.Body),
			entry.Operation.String(), nullable(entry.SpaceID), nullable(entry.OrganizationID), string(entry.UserID),
			before, beforeCustom, after, afterCustom},
		scan: func(br pgx.BatchResults) error {
			var at time.Time
			if err := br.QueryRow().Scan(&entry.Position, &at); err != nil {
				return err
			}
			entry.Time = at.UTC()
			return nil
		},
	}
}

// nullableRole are the role columns of r, both NULL for none.
func nullableRole(r membership.RoleAssignment) (predefined, customID any) {
	if r == (membership.RoleAssignment{}) {
		return nil, nil
	}
	return roleArgs(r)
}

// nullableText passes an empty string as NULL.
func nullableText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// AuditLog implements membership.Store in one round trip: a read-only
// REPEATABLE READ transaction whose BEGIN, actor SELECT, entries SELECT
// and COMMIT are pipelined, so that the actor and the page come from one
// snapshot. Because positions are taken in commit order (see Write), a
// snapshot that holds an entry holds every entry of the account with a
// smaller position.
func (s *Store) AuditLog(ctx context.Context, q membership.AuditQuery) (_ membership.AuditPage, err error) {
	if q.Limit < 0 {
		return membership.AuditPage{}, fmt.Errorf("pgstore: reading the audit log: a limit of %d", q.Limit)
	}
	pc, err := s.acquire(ctx)
	if err != nil {
		return membership.AuditPage{}, err
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
	b.Queue(auditActorQuery, string(q.Actor))
	sql, args := auditStatement(q)
	b.Queue(sql, args...)
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, b)
	var page membership.AuditPage
	_, err = br.Exec()
	if err == nil {
		page.Actor, err = scanAuditActor(br)
	}
	if err == nil {
		page.Entries, page.More, err = scanAuditEntries(br, q.Limit)
	}
	if err == nil {
		_, err = br.Exec()
	}
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return membership.AuditPage{}, classify(ctx, conn, "reading the audit log", err)
	}
	if page.Actor == nil {
		return membership.AuditPage{}, nil
	}
	return page, nil
}

// auditStatement is the statement that reads the entries q asks for, and
// its arguments: one more entry than the page holds, to tell whether more
// follow.
func auditStatement(q membership.AuditQuery) (string, []any) {
	if q.Ascending {
		return auditChangesQuery, []any{string(q.Actor), q.After, q.Limit + 1}
	}
	before := q.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	args := []any{string(q.Actor), before, sinceBound(q.Since), untilBound(q.Until)}
	if q.ActorID != "" {
		return auditLogByActorQuery, append(args, string(q.ActorID), q.Limit+1)
	}
	return auditLogQuery, append(args, q.Limit+1)
}

// sinceBound is the lower bound of a window that starts at t, -infinity
// for none. The database keeps microseconds: a start within a microsecond
// is rounded up to the next one, so that an entry of that microsecond,
// which came before t, stays out.
func sinceBound(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	if c := t.Truncate(time.Microsecond); c.Before(t) {
		t = c.Add(time.Microsecond)
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

// untilBound is the upper bound of a window that ends at t, infinity for
// none. Truncating t to the microsecond keeps exactly the entries at or
// before it.
func untilBound(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}
	}
	return pgtype.Timestamptz{Time: t.Truncate(time.Microsecond), Valid: true}
}

// scanAuditActor reads the row of auditActorQuery, nil when the user does
// not exist.
func scanAuditActor(br pgx.BatchResults) (*membership.User, error) {
	var u userColumns
	err := br.QueryRow().Scan(u.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return u.user()
}

// auditRow is a row of the audit log's reads, column by column.
type auditRow struct {
	id, accountID, actorID, ip, body, operation pgtype.Text
	spaceID, organizationID, userID             pgtype.Text
	position                                    int64
	createdAt                                   time.Time
	before, after                               roleColumns
	removed                                     []byte
}

func (r *auditRow) dest() []any {
	return []any{&r.id, &r.position, &r.accountID, &r.createdAt, &r.actorID, &r.ip, &r.body, &r.operation,
		&r.spaceID, &r.organizationID, &r.userID,
		&r.before.predefined, &r.before.customID, &r.after.predefined, &r.after.customID, &r.removed}
}

// scanAuditEntries reads at most limit entries of the audit log's read,
// and whether more follow.
func scanAuditEntries(br pgx.BatchResults, limit int) ([]membership.AuditEntry, bool, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var (
		entries []membership.AuditEntry
		more    bool
	)
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, false, err
		}
		if len(entries) == limit {
			more = true
			continue
		}
		e, err := r.entry()
		if err != nil {
			return nil, false, err
		}
		entries = append(entries, e)
	}
	return entries, more, rows.Err()
}

// storedOperations are the operations an entry's operation column names.
var storedOperations = map[string]membership.Operation{
	membership.OperationAdd.String():       membership.OperationAdd,
	membership.OperationRemove.String():    membership.OperationRemove,
	membership.OperationOrgAdd.String():    membership.OperationOrgAdd,
	membership.OperationOrgRemove.String(): membership.OperationOrgRemove,
}

// entry converts the row to the entry it records.
func (r *auditRow) entry() (membership.AuditEntry, error) {
	op, ok := storedOperations[r.operation.String]
	if !ok {
		return membership.AuditEntry{}, fmt.Errorf("pgstore: audit entry %s has the operation %q", r.id.String, r.operation.String)
	}
	e := membership.AuditEntry{
		ID:             membership.ID(r.id.String),
		Position:       r.position,
		AccountID:      membership.ID(r.accountID.String),
		Time:           r.createdAt.UTC(),
		Actor:          membership.ID(r.actorID.String),
		IP:             r.ip.String,
		Body:           r.body.String,
		Operation:      op,
		SpaceID:        membership.ID(r.spaceID.String),
		OrganizationID: membership.ID(r.organizationID.String),
		UserID:         membership.ID(r.userID.String),
	}
	var err error
	if e.Before, err = storedRole(r.before); err != nil {
		return membership.AuditEntry{}, err
	}
	if e.After, err = storedRole(r.after); err != nil {
		return membership.AuditEntry{}, err
	}
	if e.Removed, err = storedRemovals(r.removed, e.UserID); err != nil {
		return membership.AuditEntry{}, fmt.Errorf("pgstore: audit entry %s: %w", e.ID, err)
	}
	return e, nil
}

// storedRole is the role of the columns, the zero RoleAssignment when both
// are NULL.
func storedRole(c roleColumns) (membership.RoleAssignment, error) {
	if !c.predefined.Valid && !c.customID.Valid {
		return membership.RoleAssignment{}, nil
	}
	return c.assignment()
}

// storedRemovals decodes the JSON array of a cascade's removals of the
// space memberships of user; nil for none.
func storedRemovals(list []byte, user membership.ID) ([]membership.Membership, error) {
	if list == nil {
		return nil, nil
	}
	var removals []struct {
		ID             string  `json:"id"`
		SpaceID        string  `json:"space_id"`
		PredefinedRole *string `json:"predefined_role"`
		CustomRoleID   *string `json:"custom_role_id"`
	}
	if err := json.Unmarshal(list, &removals); err != nil {
		return nil, err
	}
	out := make([]membership.Membership, 0, len(removals))
	for _, m := range removals {
		var c roleColumns
		if m.PredefinedRole != nil {
			c.predefined = pgtype.Text{String: *m.PredefinedRole, Valid: true}
		}
		if m.CustomRoleID != nil {
			c.customID = pgtype.Text{String: *m.CustomRoleID, Valid: true}
		}
		role, err := c.assignment()
		if err != nil {
			return nil, err
		}
		out = append(out, membership.Membership{ID: membership.ID(m.ID), UserID: user, SpaceID: membership.ID(m.SpaceID), Role: role})
	}
	return out, nil
}
