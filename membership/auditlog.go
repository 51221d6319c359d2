package membership

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultAuditWindow is how far before its end the window of a read of the
// audit log starts when the request gives no start.
const DefaultAuditWindow = 30 * 24 * time.Hour

// ListAuditLogsRequest asks for a page of the audit log of Actor's account,
// newest first: the entries made from Since to Until inclusive (Until
// defaults to now, Since to DefaultAuditWindow before Until), by UserID
// when set, of OperationType when set (every entry is a MUTATION), at most
// Limit (DefaultPageSize when zero), after the place Cursor marks. A
// transport fills Actor from its own authentication and the rest from
// ParseListAuditLogsRequest; Go callers may fill it directly.
type ListAuditLogsRequest struct {
	// Actor is the authenticated caller; empty means nobody is.
	Actor         ID
	Since, Until  time.Time
	UserID        ID
	OperationType string
	Limit         int
	// Cursor is an AuditLogPage.NextCursor of the same filters. The
	// window of a walk is fixed by its first page: a cursor carries it.
	Cursor string
}

// The query parameters of a read of the audit log.
var auditParams = []string{"cursor", "end_time", "limit", "operation_type", "start_time", "user_id"}

// ParseListAuditLogsRequest builds the request of GET /v2/audit-logs from
// the authenticated actor and the query parameters, running the input
// checks of a read of the audit log in their order: an actor is present
// (401), user_id, when given, is an ID (400 invalid_id), and the rest is
// well formed (422 invalid_field naming the parameter): start_time and
// end_time RFC 3339 times, the start not after the end, operation_type one
// of QUERY, MUTATION and SUBSCRIPTION, limit from 1 to MaxPageSize, cursor
// one a page of the same filters returned, each parameter at most once and
// not empty, and nothing else.
func ParseListAuditLogsRequest(actor ID, params url.Values) (ListAuditLogsRequest, error) {
	if err := checkListParams(actor, params, "user_id", auditParams); err != nil {
		return ListAuditLogsRequest{}, err
	}
	req := ListAuditLogsRequest{Actor: actor, UserID: ID(params.Get("user_id")), OperationType: params.Get("operation_type"), Cursor: params.Get("cursor")}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"start_time", &req.Since}, {"end_time", &req.Until}} {
		if v, ok := params[p.name]; ok {
			t, err := time.Parse(time.RFC3339Nano, v[0])
			if err != nil {
				return ListAuditLogsRequest{}, ErrInvalidField.with(p.name, p.name+" is not an RFC 3339 time")
			}
			*p.to = t
		}
	}
	limit, err := limitParam(params)
	if err != nil {
		return ListAuditLogsRequest{}, err
	}
	req.Limit = limit
	if err := req.Validate(); err != nil {
		return ListAuditLogsRequest{}, err
	}
	return req, nil
}

// Validate runs the input checks of a read of the audit log on a typed
// request, in their order (see ParseListAuditLogsRequest).
func (r ListAuditLogsRequest) Validate() error {
	_, _, err := r.query(time.Time{})
	return err
}

// query returns what the request reads, its window ending at now when the
// request names no end, and whether its operation type can hold entries at
// all.
func (r ListAuditLogsRequest) query(now time.Time) (AuditQuery, bool, error) {
	if err := checkActor(r.Actor); err != nil {
		return AuditQuery{}, false, err
	}
	if r.UserID != "" && !r.UserID.Valid() {
		return AuditQuery{}, false, ErrInvalidID.with("user_id", "user_id is not an ID")
	}
	if !r.Since.IsZero() && !r.Until.IsZero() && r.Since.After(r.Until) {
		return AuditQuery{}, false, ErrInvalidField.with("start_time", "start_time is after end_time")
	}
	mutations := true
	switch r.OperationType {
	case "", OperationTypeMutation:
	case OperationTypeQuery, OperationTypeSubscription:
		mutations = false
	default:
		return AuditQuery{}, false, ErrInvalidField.with("operation_type", "operation_type must be QUERY, MUTATION or SUBSCRIPTION")
	}
	limit, err := pageLimit(r.Limit)
	if err != nil {
		return AuditQuery{}, false, err
	}
	q := AuditQuery{Actor: r.Actor, ActorID: r.UserID, Limit: limit}
	if r.Cursor != "" {
		c, ok := decodeAuditCursor(r.Cursor, r.filterDigest())
		if !ok {
			return AuditQuery{}, false, ErrInvalidField.with("cursor", "cursor is not one that a page of the same filters returned")
		}
		q.Before, q.Since, q.Until = c.before, c.since, c.until
		return q, mutations, nil
	}
	q.Until = r.Until
	if q.Until.IsZero() {
		q.Until = now
	}
	q.Since = r.Since
	if q.Since.IsZero() {
		q.Since = q.Until.Add(-DefaultAuditWindow)
	}
	return q, mutations, nil
}

// AuditLogPage is one page of the audit log, newest first. NextCursor, set
// exactly when HasMore is, asks for the next page.
type AuditLogPage struct {
	Logs       []AuditEntry
	NextCursor string
	HasMore    bool
}

// MarshalJSON writes the page as GET /v2/audit-logs answers it.
func (p AuditLogPage) MarshalJSON() ([]byte, error) {
	return marshalPage("logs", p.Logs, p.NextCursor, p.HasMore)
}

// ListAuditLogs returns a page of the audit log of req.Actor's account,
// newest first, decided by the policy (operation audit: an account ADMIN
// only) on the actor's record. A page walked with its cursors shows every
// entry of its window exactly once, even while changes commit. Errors are
// as for AddUserToSpace.
func (s *Service) ListAuditLogs(ctx context.Context, req ListAuditLogsRequest) (AuditLogPage, error) {
	q, mutations, err := req.query(time.Now().UTC())
	if err != nil {
		return AuditLogPage{}, err
	}
	page, err := s.auditLog(ctx, q)
	if err != nil || !mutations {
		return AuditLogPage{}, err
	}
	out := AuditLogPage{Logs: page.Entries, HasMore: page.More}
	if page.More && len(page.Entries) > 0 {
		out.NextCursor = encodeAuditCursor(req.filterDigest(), auditCursor{
			before: page.Entries[len(page.Entries)-1].Position, since: q.Since, until: q.Until})
	}
	return out, nil
}

// ChangesRequest asks for the changelog of Actor's account: at most Limit
// entries (DefaultPageSize when zero) in commit order, after the place
// Cursor marks (from the first entry when empty).
type ChangesRequest struct {
	Actor  ID
	Cursor string
	Limit  int
}

// ChangePage is one page of the changelog, in commit order. NextCursor
// resumes after its last entry (or where the request's cursor did, for an
// empty page): a reader that follows it sees every entry once, in order,
// however many commit while it reads. HasMore is set when entries already
// follow.
type ChangePage struct {
	Entries    []AuditEntry
	NextCursor string
	HasMore    bool
}

// Changes returns a page of the changelog of req.Actor's account, decided
// as ListAuditLogs is. Errors are as for AddUserToSpace; a cursor that
// Changes did not issue is ErrInvalidField.
func (s *Service) Changes(ctx context.Context, req ChangesRequest) (ChangePage, error) {
	if err := checkActor(req.Actor); err != nil {
		return ChangePage{}, err
	}
	limit, err := pageLimit(req.Limit)
	if err != nil {
		return ChangePage{}, err
	}
	q := AuditQuery{Actor: req.Actor, Ascending: true, Limit: limit}
	if req.Cursor != "" {
		after, ok := decodeChangeCursor(req.Cursor)
		if !ok {
			return ChangePage{}, ErrInvalidField.with("cursor", "cursor is not one that Changes returned")
		}
		q.After = after
	}
	page, err := s.auditLog(ctx, q)
	if err != nil {
		return ChangePage{}, err
	}
	last := q.After
	if n := len(page.Entries); n > 0 {
		last = page.Entries[n-1].Position
	}
	return ChangePage{Entries: page.Entries, NextCursor: encodeChangeCursor(last), HasMore: page.More}, nil
}

// auditLog reads q from the Store and decides, on the actor's record, that
// the actor may read the log.
func (s *Service) auditLog(ctx context.Context, q AuditQuery) (AuditPage, error) {
	page, err := s.store.AuditLog(ctx, q)
	if err != nil {
		return AuditPage{}, asError(err)
	}
	if err := s.decide(ctx, &Facts{Query: Query{Operation: OperationAudit, Actor: q.Actor}, Actor: page.Actor}); err != nil {
		return AuditPage{}, reword(err, auditDetails)
	}
	if page.Actor == nil {
		// Fail closed against a policy that allows nobody.
		return AuditPage{}, Internal(errors.New("policy allowed reading the audit log for an actor the store did not find"))
	}
	for _, e := range page.Entries {
		if e.AccountID != page.Actor.AccountID {
			return AuditPage{}, Internal(errors.New("store returned an audit entry of another account"))
		}
	}
	return page, nil
}

// auditDetails explains the classes of a read of the audit log whose fixed
// detail speaks of a space.
var auditDetails = map[Code]string{
	CodeForbidden: "only an account admin may read the audit log",
}

// filterDigest names the request's filters, as given, in its cursors.
func (r ListAuditLogsRequest) filterDigest() string {
	given := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return stamp(t)
	}
	sum := sha256.Sum256([]byte(given(r.Since) + "\x00" + given(r.Until) + "\x00" + string(r.UserID) + "\x00" + r.OperationType))
	return hex.EncodeToString(sum[:8])
}

// An audit cursor names the filters of its walk, its window as the first
// page fixed it, and the position of the last entry seen.
const auditCursorPrefix = "a1:"

type auditCursor struct {
	before       int64
	since, until time.Time
}

func encodeAuditCursor(digest string, c auditCursor) string {
	s := auditCursorPrefix + digest + ":" + strconv.FormatInt(c.before, 10) + ":" + stamp(c.since) + ":" + stamp(c.until)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeAuditCursor(cursor, digest string) (auditCursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return auditCursor{}, false
	}
	rest, ok := strings.CutPrefix(string(raw), auditCursorPrefix)
	if !ok {
		return auditCursor{}, false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 4 || parts[0] != digest {
		return auditCursor{}, false
	}
	var c auditCursor
	c.before, err = strconv.ParseInt(parts[1], 10, 64)
	since, okSince := unstamp(parts[2])
	until, okUntil := unstamp(parts[3])
	if err != nil || !okSince || !okUntil || c.before <= 0 || since.After(until) {
		return auditCursor{}, false
	}
	c.since, c.until = since, until
	return c, true
}

// stamp writes t as seconds and nanoseconds since the Unix epoch, which
// any time has (UnixNano does not reach every year).
func stamp(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10) + "." + strconv.Itoa(t.Nanosecond())
}

func unstamp(s string) (time.Time, bool) {
	sec, nsec, ok := strings.Cut(s, ".")
	if !ok {
		return time.Time{}, false
	}
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(nsec, 10, 64)
	if err1 != nil || err2 != nil || b < 0 || b > 999_999_999 {
		return time.Time{}, false
	}
	return time.Unix(a, b).UTC(), true
}

// A change cursor holds the position of the last entry seen.
const changeCursorPrefix = "c1:"

func encodeChangeCursor(after int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(changeCursorPrefix + strconv.FormatInt(after, 10)))
}

func decodeChangeCursor(cursor string) (int64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(raw), changeCursorPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
