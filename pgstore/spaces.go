package pgstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/spaceauthz/spaceauthz/membership"
)

// ListSpaces implements membership.Store.
//
// Without decide (an exact filter) a page is one statement, so one round
// trip and one snapshot: the actor's row, and beside it the first spaces,
// in id order, of the union of the sources that q.Filter.Condition plans.
// Each source is a subquery driven by an index (the account's spaces, an
// organization's, one space, the spaces of the actor's organization
// memberships or of their space memberships) and stops at the page's end;
// its guard reads the actor's row alone, so PostgreSQL skips a source whose
// guard is false without reading any of it. Each candidate is joined with
// the facts the condition reads and tested with the condition rendered to
// SQL (see condition.go), which is exactly membership.Condition.Holds.
//
// With decide, the same statement reads candidates in batches, with the
// facts Read would return for each, inside one REPEATABLE READ READ ONLY
// transaction, so that the page is one snapshot however many batches it
// takes; decide runs on each candidate in order until the page holds one
// space more than q.Limit or the candidates run out. Decide runs while the
// transaction is open, on a connection of the pool.
//
// Errors are those of Read; an error from decide is returned unchanged.
func (s *Store) ListSpaces(ctx context.Context, q membership.SpaceQuery, decide func(*membership.Facts) (bool, error)) (membership.SpaceList, error) {
	return s.listFrom(ctx, q, q.Filter.Plan(), decide)
}

// listFrom lists the spaces of q, reading the sources given.
func (s *Store) listFrom(ctx context.Context, q membership.SpaceQuery, sources []membership.Source, decide func(*membership.Facts) (bool, error)) (membership.SpaceList, error) {
	limit := max(q.Limit, 0)
	lq, err := newListQuery(q, sources)
	if err != nil {
		return membership.SpaceList{}, err
	}
	if decide == nil {
		return s.listExact(ctx, q, lq, limit)
	}
	return s.listDeciding(ctx, q, lq, limit, decide)
}

// listExact reads a page whose filter is the decision.
func (s *Store) listExact(ctx context.Context, q membership.SpaceQuery, lq *listQuery, limit int) (membership.SpaceList, error) {
	pc, err := s.acquire(ctx)
	if err != nil {
		return membership.SpaceList{}, err
	}
	defer pc.Release()
	rows, err := pc.Query(ctx, lq.sql, lq.args(q.After, limit+1)...)
	var batch candidates
	if err == nil {
		batch, err = scanCandidates(rows, q)
	}
	if err != nil {
		return membership.SpaceList{}, classify(ctx, pc.Conn(), "listing spaces", err)
	}
	list := membership.SpaceList{Actor: batch.actor}
	for _, f := range batch.facts {
		if len(list.Spaces) == limit {
			list.More = true
			break
		}
		list.Spaces = append(list.Spaces, *f.Space)
	}
	return list, nil
}

// The batches of a list that decides each candidate: the first is as large
// as a page that lets every candidate through needs, and each next one
// twice the last, up to maxBatch.
const maxBatch = 1000

// listDeciding reads a page whose candidates decide decides.
func (s *Store) listDeciding(ctx context.Context, q membership.SpaceQuery, lq *listQuery, limit int, decide func(*membership.Facts) (bool, error)) (_ membership.SpaceList, err error) {
	pc, err := s.acquire(ctx)
	if err != nil {
		return membership.SpaceList{}, err
	}
	defer pc.Release()
	conn := pc.Conn()
	defer func() {
		if err != nil {
			rollback(ctx, conn)
		}
	}()

	var list membership.SpaceList
	after, size := q.After, min(limit+1, maxBatch)
	for first := true; ; first = false {
		batch, err := s.readBatch(ctx, conn, q, lq, after, size, first)
		if err != nil {
			return membership.SpaceList{}, err
		}
		if first {
			list.Actor = batch.actor
		}
		for _, f := range batch.facts {
			allowed, err := decide(f)
			if err != nil {
				return membership.SpaceList{}, err
			}
			if !allowed {
				continue
			}
			if len(list.Spaces) == limit {
				list.More = true
				break
			}
			list.Spaces = append(list.Spaces, *f.Space)
		}
		if list.More || len(batch.facts) < size {
			if err := commit(ctx, conn); err != nil {
				return membership.SpaceList{}, err
			}
			return list, nil
		}
		after = batch.facts[len(batch.facts)-1].Space.ID
		size = min(2*size, maxBatch)
	}
}

// readBatch reads the next size candidates after the space after; the first
// batch begins the transaction in the same round trip.
func (s *Store) readBatch(ctx context.Context, conn *pgx.Conn, q membership.SpaceQuery, lq *listQuery, after membership.ID, size int, first bool) (candidates, error) {
	var (
		batch candidates
		err   error
	)
	if first {
		b := &pgx.Batch{}
		b.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
		b.Queue(lq.sql, lq.args(after, size)...)
		br := conn.SendBatch(ctx, b)
		if _, err = br.Exec(); err == nil {
			var rows pgx.Rows
			if rows, err = br.Query(); err == nil {
				batch, err = scanCandidates(rows, q)
			}
		}
		if closeErr := br.Close(); err == nil {
			err = closeErr
		}
	} else {
		var rows pgx.Rows
		if rows, err = conn.Query(ctx, lq.sql, lq.args(after, size)...); err == nil {
			batch, err = scanCandidates(rows, q)
		}
	}
	if err != nil {
		return candidates{}, classify(ctx, conn, "listing spaces", err)
	}
	return batch, nil
}

// commit ends the read-only transaction of a list.
func commit(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		return classify(ctx, conn, "listing spaces", err)
	}
	return nil
}

// listQuery is the statement of a list of spaces: its SQL and the
// arguments bound while rendering; the last two parameters, the space to
// read after and how many to read, are bound per batch.
type listQuery struct {
	sql   string
	bound []any
}

func (lq *listQuery) args(after membership.ID, n int) []any {
	return append(lq.bound[:len(lq.bound):len(lq.bound)], string(after), n)
}

// The columns of a candidate, after the actor's: the space, its
// organization, and the actor's grants in both with their custom roles.
// A row without a candidate holds NULL in each of them.
const candidateColumns = `sp.id AS space_id, sp.organization_id AS space_organization_id, sp.name AS space_name,
        sp.description AS space_description, sp.is_private AS space_is_private, sp.created_at AS space_created_at,
        org.id AS org_id, org.account_id AS org_account_id, org.name AS org_name,
        om.predefined_role AS om_predefined_role, om.custom_role_id AS om_custom_role_id,
        omr.id AS omr_id, omr.account_id AS omr_account_id, omr.name AS omr_name, omr.permissions AS omr_permissions,
        sm.predefined_role AS sm_predefined_role, sm.custom_role_id AS sm_custom_role_id,
        smr.id AS smr_id, smr.account_id AS smr_account_id, smr.name AS smr_name, smr.permissions AS smr_permissions`

// The facts of a candidate sp, joined as factsQuery joins them for a read
// of that space by the actor a.
const candidateFacts = `
    LEFT JOIN organizations AS org ON org.id = sp.organization_id
    LEFT JOIN organization_members AS om ON om.organization_id = sp.organization_id AND om.user_id = a.id
    LEFT JOIN custom_roles AS omr ON omr.id = om.custom_role_id
    LEFT JOIN space_members AS sm ON sm.space_id = sp.id AND sm.user_id = a.id
    LEFT JOIN custom_roles AS smr ON smr.id = sm.custom_role_id`

// newListQuery renders the statement of q that reads the sources given:
//
//	WITH a AS MATERIALIZED (SELECT ... FROM users WHERE id = $1)
//	SELECT a.*, c.* FROM (VALUES (1)) AS one (one)
//	LEFT JOIN a ON TRUE
//	LEFT JOIN LATERAL (
//	    SELECT * FROM (
//	        (SELECT <candidate> FROM <source 1> <facts>
//	         WHERE <guard 1> AND <in the account, after, org, name> AND <condition>
//	         ORDER BY sp.id COLLATE "C" LIMIT $n)
//	        UNION
//	        (SELECT ... <source 2> ...)
//	    ) AS u ORDER BY u.space_id COLLATE "C" LIMIT $n
//	) AS c ON TRUE
//	ORDER BY c.space_id COLLATE "C"
//
// The source of the actor's organization memberships is itself a LATERAL
// join: a page of each organization's spaces, merged. The spaces of the
// account are those whose organization lies in the actor's account; a
// space's own account_id is always its organization's (the schema's
// foreign key), and its indexes serve the sources.
func newListQuery(q membership.SpaceQuery, sources []membership.Source) (*listQuery, error) {
	p := &params{}
	actor := p.add(string(q.Actor), "text")
	cond, err := renderCondition(q.Filter.Condition, p)
	if err != nil {
		return nil, err
	}
	// The narrowing every source shares.
	var narrow []string
	if q.OrganizationID != "" {
		// Tested once, on the actor: an organization of another account
		// reads none of its spaces, so the time of an empty page does not
		// tell how many spaces another tenant's organization holds.
		org := p.add(string(q.OrganizationID), "text")
		narrow = append(narrow, "EXISTS (SELECT 1 FROM organizations AS o2 WHERE o2.id = "+org+" AND o2.account_id = a.account_id)",
			"sp.organization_id = "+org)
	}
	if q.Name != "" {
		narrow = append(narrow, "sp.name_fold LIKE "+p.add("%"+escapeLike(q.Name)+"%", "text")+` ESCAPE '\'`)
	}
	var branches []sourceSQL
	for _, src := range sources {
		b, err := renderSource(src, p)
		if err != nil {
			return nil, err
		}
		branches = append(branches, b)
	}
	if len(branches) == 0 {
		// Nothing can pass: the actor's row alone, in the same shape.
		branches = []sourceSQL{{from: "FROM spaces AS sp", where: []string{"FALSE"}, key: "sp.id"}}
	}
	// The two parameters bound per batch come last.
	after := "$" + strconv.Itoa(len(p.args)+1) + "::text"
	n := "$" + strconv.Itoa(len(p.args)+2) + "::int"

	var b strings.Builder
	b.WriteString("WITH a AS MATERIALIZED (SELECT id, account_id, name, email, role FROM users WHERE id = " + actor + ")\n")
	b.WriteString("SELECT a.id, a.account_id, a.name, a.email, a.role, c.*\nFROM (VALUES (1)) AS one (one)\nLEFT JOIN a ON TRUE\n")
	b.WriteString("LEFT JOIN LATERAL (\n  SELECT * FROM (\n")
	for i, br := range branches {
		if i > 0 {
			b.WriteString("\n    UNION\n")
		}
		b.WriteString("    (" + br.statement(narrow, cond, after, n) + ")")
	}
	b.WriteString("\n  ) AS u ORDER BY u.space_id COLLATE \"C\" LIMIT " + n + "\n) AS c ON TRUE\nORDER BY c.space_id COLLATE \"C\"")
	return &listQuery{sql: b.String(), bound: p.args}, nil
}

// sourceSQL is the SQL of one source: the spaces sp that FROM and WHERE
// find while the guard holds, read in the order of key.
type sourceSQL struct {
	guard string // empty when the source is always read
	from  string
	where []string
	// key is the column the source's index yields in space id order.
	key string
	// perOrganization reads the spaces of each of the actor's
	// organizations in order and merges them, so that a page reads no more
	// than a page of each.
	perOrganization bool
	// membership, of a perOrganization source, is the test of the actor's
	// membership src that lets its organization be read at all; empty for
	// every membership.
	membership string
}

// statement returns the source's SELECT of a page's candidates: those
// after the space after that pass narrow and the condition, at most n.
func (src sourceSQL) statement(narrow []string, cond, after, n string) string {
	where := slices.Clone(src.where)
	if src.guard != "" && !src.perOrganization {
		where = append([]string{src.guard}, where...)
	}
	where = append(where, src.key+` COLLATE "C" > `+after)
	where = append(where, narrow...)
	where = append(where, cond)
	inner := "SELECT " + candidateColumns + "\n    " + src.from + candidateFacts +
		"\n    WHERE " + strings.Join(where, "\n        AND ") +
		"\n    ORDER BY " + src.key + ` COLLATE "C" LIMIT ` + n
	if !src.perOrganization {
		return inner
	}
	outer := []string{"src.user_id = a.id"}
	if src.guard != "" {
		outer = append([]string{src.guard}, outer...)
	}
	if src.membership != "" {
		outer = append(outer, src.membership)
	}
	return "SELECT m.* FROM organization_members AS src LEFT JOIN custom_roles AS srcr ON srcr.id = src.custom_role_id" +
		" CROSS JOIN LATERAL (\n    " + inner + "\n    ) AS m" +
		"\n    WHERE " + strings.Join(outer, " AND ") +
		"\n    ORDER BY m.space_id COLLATE \"C\" LIMIT " + n
}

// renderSource returns the SQL of a source: its spaces of the actor's
// account while its guard holds. Each is served by an index: spaces by
// (account_id, id), by (organization_id, id) and by id, space members by
// (user_id, space_id), organization members by (user_id, organization_id).
func renderSource(src membership.Source, p *params) (sourceSQL, error) {
	guard, err := renderCondition(src.Guard, p)
	if err != nil {
		return sourceSQL{}, err
	}
	out := sourceSQL{from: "FROM spaces AS sp", where: []string{"sp.account_id = a.account_id"}, key: "sp.id"}
	if guard != "TRUE" {
		out.guard = guard
	}
	switch src.Kind {
	case membership.SourceAccount:
	case membership.SourceOrganization:
		out.where = append(out.where, "sp.organization_id = "+p.add(string(src.ID), "text"))
	case membership.SourceSpace:
		out.where = append(out.where, "sp.id = "+p.add(string(src.ID), "text"))
	case membership.SourceOrganizationMemberships:
		out.where = append(out.where, "sp.organization_id = src.organization_id")
		out.perOrganization = true
		// The organizations where the actor's role could not let them read
		// a space are not read (the condition tests every space anyway).
		p.fields = sourceMemberFields
		m, err := renderCondition(src.Membership, p)
		p.fields = nil
		if err != nil {
			return sourceSQL{}, err
		}
		if m != "TRUE" {
			out.membership = m
		}
	case membership.SourceSpaceMemberships:
		out.from = "FROM space_members AS src JOIN spaces AS sp ON sp.id = src.space_id"
		out.where = append(out.where, "src.user_id = a.id")
		out.key = "src.space_id"
	default:
		return sourceSQL{}, fmt.Errorf("pgstore: a source of unknown kind %d", src.Kind)
	}
	if src.Public {
		out.where = append(out.where, "NOT sp.is_private")
	}
	return out, nil
}

// escapeLike escapes the characters LIKE gives a meaning to.
func escapeLike(s string) string {
	return likeEscaper.Replace(s)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// candidates is what a statement of a list read: the actor, and the facts
// of each candidate in space id order.
type candidates struct {
	actor *membership.User
	facts []*membership.Facts
}

// candidateRow is the row of a list statement, column by column.
type candidateRow struct {
	actor        userColumns
	space        spaceColumns
	organization organizationColumns
	actorOrg     grantColumns
	actorSpace   grantColumns
}

// scanCandidates reads the rows of a list statement: the facts of each
// candidate are those Read returns for a read of that space by the actor.
func scanCandidates(rows pgx.Rows, q membership.SpaceQuery) (candidates, error) {
	defer rows.Close()
	var out candidates
	var r candidateRow
	dest := make([]any, 0, 26)
	dest = append(dest, r.actor.dest()...)
	dest = append(dest, r.space.dest()...)
	dest = append(dest, r.organization.dest()...)
	dest = append(dest, r.actorOrg.dest()...)
	dest = append(dest, r.actorSpace.dest()...)
	for first := true; rows.Next(); first = false {
		r = candidateRow{}
		if err := rows.Scan(dest...); err != nil {
			return candidates{}, err
		}
		if first {
			actor, err := r.actor.user()
			if err != nil {
				return candidates{}, err
			}
			out.actor = actor
		}
		if !r.space.id.Valid {
			continue
		}
		f := &membership.Facts{
			Query:        membership.Query{Operation: membership.OperationRead, Actor: q.Actor, SpaceID: membership.ID(r.space.id.String)},
			Space:        r.space.space(),
			Organization: r.organization.organization(),
		}
		if out.actor != nil {
			actor := *out.actor
			f.Actor = &actor
		}
		var err error
		if f.ActorOrganizationRole, err = r.actorOrg.grant(); err != nil {
			return candidates{}, err
		}
		if f.ActorSpaceRole, err = r.actorSpace.grant(); err != nil {
			return candidates{}, err
		}
		out.facts = append(out.facts, f)
	}
	return out, rows.Err()
}
