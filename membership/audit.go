package membership

import (
	"encoding/json"
	"time"
)

// Origin is what the transport knows of a request that the audit log
// keeps: the client's address and the request body as received. The zero
// Origin is a request with neither (a Go caller, or a request without a
// body).
type Origin struct {
	// IP is the client's address as the transport sees it; empty when
	// there is none.
	IP string
	// Body is the request body as received; empty for a request without
	// one (every request with a body has a non-empty one: an empty body
	// is not JSON).
	Body string
}

// AuditEntry is the record of one committed change: an add that created a
// membership or changed its role, a remove, an organization add of the same
// kind, or an organization remove with the space memberships its cascade
// removed. A Store writes it in the same atomic step as the change, and
// never changes it afterwards.
type AuditEntry struct {
	// ID is store-generated, never reused.
	ID ID
	// Position orders the entries of an account in commit order: an entry
	// committed after another has a greater Position. Positions are
	// positive and need not be consecutive.
	Position int64
	// AccountID is the account of the space or organization changed.
	AccountID ID
	// Time is when the change committed, in UTC.
	Time time.Time
	// Actor is who made the change; IP and Body are the request's Origin.
	Actor ID
	IP    string
	Body  string
	// Operation is OperationAdd, OperationRemove, OperationOrgAdd or
	// OperationOrgRemove.
	Operation Operation
	// SpaceID is the space of a space operation, OrganizationID the
	// organization of an organization operation; the other is empty.
	SpaceID        ID
	OrganizationID ID
	// UserID is the user whose membership changed.
	UserID ID
	// Before and After are the membership's role before and after the
	// change, in canonical form; the zero RoleAssignment means none.
	Before, After RoleAssignment
	// Removed holds, for an organization remove, the space memberships its
	// cascade removed, in space id order.
	Removed []Membership
}

// NewAuditEntry returns the entry of change, made on the facts f with the
// request's origin, and whether the change changes anything: an add of the
// role the membership already holds, or ChangeNone, changes nothing and has
// no entry. The Store fills in ID, Position and Time when it commits, and
// Removed for a cascade (from what it removed). Every Store builds its
// entries here, so that they agree on what a change is.
func NewAuditEntry(f *Facts, change Change, origin Origin) (AuditEntry, bool) {
	q := f.Query
	e := AuditEntry{Actor: q.Actor, IP: origin.IP, Body: origin.Body, Operation: q.Operation, UserID: q.UserID}
	if f.Organization != nil {
		e.AccountID = f.Organization.AccountID
	}
	var before RoleAssignment
	switch q.Operation.Level() {
	case LevelSpace:
		e.SpaceID = q.SpaceID
		if f.Existing != nil {
			before = f.Existing.Role.Canonical()
		}
	case LevelOrganization:
		e.OrganizationID = q.OrganizationID
		if f.TargetOrganizationMember != nil {
			before = f.TargetOrganizationMember.Role.Canonical()
		}
	}
	e.Before = before
	switch change.Kind {
	case ChangePut:
		e.After = change.Role.Canonical()
		return e, e.After != before
	case ChangeDelete, ChangeDeleteCascade:
		return e, before != (RoleAssignment{})
	}
	return AuditEntry{}, false
}

// The operation_name of each operation an entry records.
var auditOperationNames = map[Operation]string{
	OperationAdd:       "add_space_user",
	OperationRemove:    "remove_space_user",
	OperationOrgAdd:    "add_organization_user",
	OperationOrgRemove: "remove_organization_user",
}

// OperationName returns the operation_name of the entry's operation.
func (e AuditEntry) OperationName() string { return auditOperationNames[e.Operation] }

// Variables returns the entry's change as the JSON object of the wire's
// variables: the space_id or organization_id, the user_id, the role and
// the previous_role (upper-case, null for none) and, for an organization
// remove, the removed_space_memberships.
func (e AuditEntry) Variables() ([]byte, error) {
	role := func(r RoleAssignment) *RoleAssignment {
		if r == (RoleAssignment{}) {
			return nil
		}
		r.Spelling = SpellingUpper
		return &r
	}
	type removed struct {
		ID      ID              `json:"id"`
		SpaceID ID              `json:"space_id"`
		Role    *RoleAssignment `json:"role"`
	}
	v := struct {
		SpaceID        ID              `json:"space_id,omitempty"`
		OrganizationID ID              `json:"organization_id,omitempty"`
		UserID         ID              `json:"user_id"`
		Role           *RoleAssignment `json:"role"`
		PreviousRole   *RoleAssignment `json:"previous_role"`
		Removed        *[]removed      `json:"removed_space_memberships,omitempty"`
	}{SpaceID: e.SpaceID, OrganizationID: e.OrganizationID, UserID: e.UserID, Role: role(e.After), PreviousRole: role(e.Before)}
	if e.Operation == OperationOrgRemove {
		list := make([]removed, 0, len(e.Removed))
		for _, m := range e.Removed {
			list = append(list, removed{ID: m.ID, SpaceID: m.SpaceID, Role: role(m.Role.Canonical())})
		}
		v.Removed = &list
	}
	return json.Marshal(v)
}

// MarshalJSON writes the entry as GET /v2/audit-logs answers it: id,
// user_id (the actor), ip, operation_type (always MUTATION),
// operation_name, operation_text (the request body, or null), variables (a
// JSON string) and created_at (RFC 3339 with nanoseconds, UTC).
func (e AuditEntry) MarshalJSON() ([]byte, error) {
	vars, err := e.Variables()
	if err != nil {
		return nil, err
	}
	var text *string
	if e.Body != "" {
		text = &e.Body
	}
	return json.Marshal(struct {
		ID            ID      `json:"id"`
		UserID        ID      `json:"user_id"`
		IP            string  `json:"ip"`
		OperationType string  `json:"operation_type"`
		OperationName string  `json:"operation_name"`
		OperationText *string `json:"operation_text"`
		Variables     string  `json:"variables"`
		CreatedAt     string  `json:"created_at"`
	}{e.ID, e.Actor, e.IP, OperationTypeMutation, e.OperationName(), text, string(vars), e.Time.UTC().Format(time.RFC3339Nano)})
}

// The operation types of the audit log's filter. Every entry is a
// MUTATION: the log records changes.
const (
	OperationTypeQuery        = "QUERY"
	OperationTypeMutation     = "MUTATION"
	OperationTypeSubscription = "SUBSCRIPTION"
)

// AuditQuery is what a read of the audit log reads: entries of the account
// of Actor, at most Limit of them.
//
// With Ascending set it is the changelog: entries in commit order whose
// Position is greater than After. Otherwise it is the log newest first:
// entries whose Position is less than Before (every one when Before is
// zero), whose Time lies from Since to Until inclusive (either bound
// absent when zero), and, when ActorID is set, made by that user.
type AuditQuery struct {
	Actor     ID
	Ascending bool
	After     int64
	Before    int64
	Since     time.Time
	Until     time.Time
	ActorID   ID
	Limit     int
}

// AuditPage is what a Store's AuditLog found: the actor's record (nil when
// Actor names no user, and then no entry), the entries in the query's
// order, and whether more follow the last one.
type AuditPage struct {
	Actor   *User
	Entries []AuditEntry
	More    bool
}
