package membership_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

// auditWalk lists every page of req and returns the entries, in order.
func auditWalk(t *testing.T, svc *membership.Service, req membership.ListAuditLogsRequest) []membership.AuditEntry {
	t.Helper()
	var out []membership.AuditEntry
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
		page, err := svc.ListAuditLogs(context.Background(), req)
		if err != nil {
			t.Fatalf("ListAuditLogs(%+v): %v", req, err)
		}
		if page.HasMore != (page.NextCursor != "") {
			t.Fatalf("HasMore %v with cursor %q", page.HasMore, page.NextCursor)
		}
		out = append(out, page.Logs...)
		if !page.HasMore {
			return out
		}
		req.Cursor = page.NextCursor
	}
}

// TestAuditEntryPerChange makes one change of every kind, and the changes
// that change nothing, and reads the log back: one entry per change, newest
// first, with what the change was.
func TestAuditEntryPerChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, svc := newWorld(t)
	origin := membership.Origin{IP: "192.0.2.7", Body: `{"user_id":"x"}`}
	before := time.Now().UTC()
	mustDo := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	add := add(orgAdmin, spaceS, target, readOnly)
	add.Origin = origin
	_, err := svc.AddUserToSpace(ctx, add)
	mustDo("add", err)
	_, err = svc.AddUserToSpace(ctx, add) // the same role again: no change
	mustDo("repeated add", err)
	add.Role = member
	_, err = svc.AddUserToSpace(ctx, add)
	mustDo("role change", err)
	_, err = svc.AddUserToSpace(ctx, membership.AddUserRequest{Actor: spaceMember, SpaceID: spaceS, UserID: stranger, Role: member})
	if !errors.Is(err, membership.ErrForbidden) {
		t.Fatalf("denied add: %v", err)
	}
	mustDo("remove", svc.RemoveUserFromSpace(ctx, membership.RemoveUserRequest{Actor: orgAdmin, SpaceID: spaceS, UserID: target}))
	if err := svc.RemoveUserFromSpace(ctx, membership.RemoveUserRequest{Actor: orgAdmin, SpaceID: spaceS, UserID: target}); !errors.Is(err, membership.ErrMembershipNotFound) {
		t.Fatalf("second remove: %v", err)
	}
	_, err = svc.AddUserToOrganization(ctx, membership.AddOrganizationUserRequest{Actor: orgAdmin, OrganizationID: orgO, UserID: stranger, Role: member})
	mustDo("organization add", err)
	mustDo("cascade", svc.RemoveUserFromOrganization(ctx, membership.RemoveOrganizationUserRequest{Actor: orgAdmin, OrganizationID: orgO, UserID: spaceAdmin}))
	after := time.Now().UTC()

	got := auditWalk(t, svc, membership.ListAuditLogsRequest{Actor: accountAdmin, Limit: 2})
	want := []membership.AuditEntry{
		{Actor: orgAdmin, Operation: membership.OperationOrgRemove, OrganizationID: orgO, UserID: spaceAdmin, Before: member,
			Removed: []membership.Membership{{UserID: spaceAdmin, SpaceID: spaceP, Role: admin}, {UserID: spaceAdmin, SpaceID: spaceS, Role: admin}}},
		{Actor: orgAdmin, Operation: membership.OperationOrgAdd, OrganizationID: orgO, UserID: stranger, After: member},
		{Actor: orgAdmin, Operation: membership.OperationRemove, SpaceID: spaceS, UserID: target, Before: member},
		{Actor: orgAdmin, IP: origin.IP, Body: origin.Body, Operation: membership.OperationAdd, SpaceID: spaceS, UserID: target, Before: readOnly, After: member},
		{Actor: orgAdmin, IP: origin.IP, Body: origin.Body, Operation: membership.OperationAdd, SpaceID: spaceS, UserID: target, After: readOnly},
	}
	ids := map[membership.ID]bool{}
	for i, e := range got {
		if e.ID == "" || ids[e.ID] {
			t.Errorf("entry %d has id %q, empty or repeated", i, e.ID)
		}
		ids[e.ID] = true
		if i > 0 && e.Position >= got[i-1].Position {
			t.Errorf("entry %d at position %d follows position %d: not newest first", i, e.Position, got[i-1].Position)
		}
		if e.Time.Before(before) || e.Time.After(after) {
			t.Errorf("entry %d committed at %v, outside the calls (%v to %v)", i, e.Time, before, after)
		}
		if e.AccountID != acctA {
			t.Errorf("entry %d in account %s, want %s", i, e.AccountID, acctA)
		}
	}
	ignore := cmp.Comparer(func(a, b membership.AuditEntry) bool {
		a.ID, a.Position, a.Time, a.AccountID = "", 0, time.Time{}, ""
		b.ID, b.Position, b.Time, b.AccountID = "", 0, time.Time{}, ""
		for i := range a.Removed {
			a.Removed[i].ID = ""
		}
		return cmp.Equal(a, b)
	})
	if diff := cmp.Diff(want, got, ignore); diff != "" {
		t.Errorf("the log (-want +got):\n%s", diff)
	}

	// The changelog holds the same entries, oldest first.
	var log []membership.AuditEntry
	cursor := ""
	for {
		page, err := svc.Changes(ctx, membership.ChangesRequest{Actor: accountAdmin, Cursor: cursor, Limit: 3})
		mustDo("changes", err)
		log = append(log, page.Entries...)
		if page.NextCursor == "" {
			t.Fatal("the changelog gave no cursor to resume from")
		}
		cursor = page.NextCursor
		if len(page.Entries) == 0 {
			break
		}
	}
	for i, j := 0, len(log)-1; i < j; i, j = i+1, j-1 {
		log[i], log[j] = log[j], log[i]
	}
	if diff := cmp.Diff(got, log); diff != "" {
		t.Errorf("the changelog, reversed, is not the log (-log +changelog):\n%s", diff)
	}
}

// TestAuditLogIsForAccountAdmins: only an account ADMIN reads the log, and
// only their own account's.
func TestAuditLogIsForAccountAdmins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, svc := newWorld(t)
	if _, err := svc.AddUserToSpace(ctx, add(orgAdmin, spaceS, target, readOnly)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		actor membership.ID
		want  error
	}{
		{orgAdmin, membership.ErrForbidden},
		{spaceAdmin, membership.ErrForbidden},
		{annotatorU, membership.ErrForbidden},
		{missing, membership.ErrUnauthenticated},
		{"", membership.ErrUnauthenticated},
	} {
		_, err := svc.ListAuditLogs(ctx, membership.ListAuditLogsRequest{Actor: tc.actor})
		if !errors.Is(err, tc.want) {
			t.Errorf("ListAuditLogs as %q: %v, want %v", tc.actor, err, tc.want)
		}
		if p := membership.ProblemFor(err); tc.want == membership.ErrForbidden && p.Detail != "only an account admin may read the audit log" {
			t.Errorf("ListAuditLogs as %q: detail %q speaks of something else than the log", tc.actor, p.Detail)
		}
		if _, err := svc.Changes(ctx, membership.ChangesRequest{Actor: tc.actor}); !errors.Is(err, tc.want) {
			t.Errorf("Changes as %q: %v, want %v", tc.actor, err, tc.want)
		}
	}
	if got := auditWalk(t, svc, membership.ListAuditLogsRequest{Actor: userB}); len(got) != 0 {
		t.Errorf("the admin of another account read %d entries", len(got))
	}
	if got := auditWalk(t, svc, membership.ListAuditLogsRequest{Actor: accountAdmin}); len(got) != 1 {
		t.Errorf("the account's admin read %d entries, want 1", len(got))
	}
	// A type of operation no entry has gives nothing, but is still decided.
	for _, op := range []string{membership.OperationTypeQuery, membership.OperationTypeSubscription} {
		if got := auditWalk(t, svc, membership.ListAuditLogsRequest{Actor: accountAdmin, OperationType: op}); len(got) != 0 {
			t.Errorf("operation_type %s read %d entries", op, len(got))
		}
		if _, err := svc.ListAuditLogs(ctx, membership.ListAuditLogsRequest{Actor: orgAdmin, OperationType: op}); !errors.Is(err, membership.ErrForbidden) {
			t.Errorf("operation_type %s as a non-admin: %v, want forbidden", op, err)
		}
	}
}

// TestAuditLogFilters checks the window, both ends inclusive, and the
// filter by actor.
func TestAuditLogFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, svc := newWorld(t)
	for _, a := range []membership.AddUserRequest{
		add(orgAdmin, spaceS, target, readOnly),
		add(spaceAdmin, spaceS, orgReader, member),
		add(orgAdmin, spaceP, target, member),
	} {
		if _, err := svc.AddUserToSpace(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	all := auditWalk(t, svc, membership.ListAuditLogsRequest{Actor: accountAdmin})
	if len(all) != 3 {
		t.Fatalf("%d entries, want 3", len(all))
	}
	newest, oldest := all[0], all[2]
	for _, tc := range []struct {
		name string
		req  membership.ListAuditLogsRequest
		want []membership.AuditEntry
	}{
		{"by actor", membership.ListAuditLogsRequest{UserID: spaceAdmin}, all[1:2]},
		{"by an actor who changed nothing", membership.ListAuditLogsRequest{UserID: target}, nil},
		{"window ending at the oldest entry", membership.ListAuditLogsRequest{Until: oldest.Time}, all[2:]},
		{"window starting at the newest entry", membership.ListAuditLogsRequest{Since: newest.Time}, all[:1]},
		{"window of exactly the three", membership.ListAuditLogsRequest{Since: oldest.Time, Until: newest.Time}, all},
		{"window after them", membership.ListAuditLogsRequest{Since: newest.Time.Add(time.Nanosecond)}, nil},
		{"window ending 30 days after the first: the default start", membership.ListAuditLogsRequest{Until: oldest.Time.Add(membership.DefaultAuditWindow)}, all},
		{"window ending more than 30 days after them", membership.ListAuditLogsRequest{Until: newest.Time.Add(membership.DefaultAuditWindow + time.Nanosecond)}, nil},
	} {
		tc.req.Actor = accountAdmin
		tc.req.Limit = 1
		got := auditWalk(t, svc, tc.req)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestAuditWalkDuringWrites walks the log page by page while changes
// commit: the walk shows every entry of its window once, and none of those
// committed after its first page.
func TestAuditWalkDuringWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, svc := newWorld(t)
	roles := []membership.RoleAssignment{member, readOnly}
	for i := range 20 {
		if _, err := svc.AddUserToSpace(ctx, add(orgAdmin, spaceS, target, roles[i%2])); err != nil {
			t.Fatal(err)
		}
	}
	first, err := svc.ListAuditLogs(ctx, membership.ListAuditLogsRequest{Actor: accountAdmin, Limit: 3})
	if err != nil || !first.HasMore {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 40 {
			if _, err := svc.AddUserToSpace(ctx, add(orgAdmin, spaceP, target, roles[i%2])); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	got := append(first.Logs, auditWalk(t, svc, membership.ListAuditLogsRequest{Actor: accountAdmin, Limit: 3, Cursor: first.NextCursor})...)
	wg.Wait()
	if len(got) != 20 {
		t.Fatalf("the walk showed %d entries, want the 20 of its window", len(got))
	}
	for i, e := range got {
		if e.SpaceID != spaceS {
			t.Errorf("entry %d is of %s: committed after the walk began", i, e.SpaceID)
		}
		if i > 0 && e.Position >= got[i-1].Position {
			t.Errorf("entry %d repeats or reorders the walk", i)
		}
	}
}

// TestChangesResumeDuringWrites follows the changelog while changes commit:
// every entry once, in commit order.
func TestChangesResumeDuringWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, svc := newWorld(t)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			space := []membership.ID{spaceS, spaceP}[w%2]
			user := []membership.ID{target, orgReader}[w/2]
			roles := []membership.RoleAssignment{member, readOnly}
			for i := range each {
				if _, err := svc.AddUserToSpace(ctx, add(orgAdmin, space, user, roles[i%2])); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var seen []membership.AuditEntry
	cursor, finished := "", false
	for {
		page, err := svc.Changes(ctx, membership.ChangesRequest{Actor: accountAdmin, Cursor: cursor, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, page.Entries...)
		cursor = page.NextCursor
		if finished && len(page.Entries) == 0 {
			break
		}
		select {
		case <-done:
			finished = true
		default:
		}
	}
	if len(seen) != writers*each {
		t.Fatalf("the changelog showed %d entries, want %d", len(seen), writers*each)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Position <= seen[i-1].Position {
			t.Fatalf("entry %d at position %d after %d", i, seen[i].Position, seen[i-1].Position)
		}
	}
}

// TestParseListAuditLogsRequest checks the input checks in their order.
func TestParseListAuditLogsRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		actor  membership.ID
		params string
		want   error
		field  string
	}{
		{"no actor comes first", "", "user_id=%%&limit=0", membership.ErrUnauthenticated, ""},
		{"user_id not an ID", accountAdmin, "user_id=not*an*id&limit=0", membership.ErrInvalidID, "user_id"},
		{"unknown parameter", accountAdmin, "since=1", membership.ErrInvalidField, "since"},
		{"parameter twice", accountAdmin, "limit=1&limit=2", membership.ErrInvalidField, "limit"},
		{"empty parameter", accountAdmin, "end_time=", membership.ErrInvalidField, "end_time"},
		{"start_time not RFC 3339", accountAdmin, "start_time=2026-01-01", membership.ErrInvalidField, "start_time"},
		{"end_time not RFC 3339", accountAdmin, "end_time=yesterday", membership.ErrInvalidField, "end_time"},
		{"start after end", accountAdmin, "start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z", membership.ErrInvalidField, "start_time"},
		{"operation_type unknown", accountAdmin, "operation_type=mutation", membership.ErrInvalidField, "operation_type"},
		{"limit 0", accountAdmin, "limit=0", membership.ErrInvalidField, "limit"},
		{"limit 101", accountAdmin, "limit=101", membership.ErrInvalidField, "limit"},
		{"cursor not issued", accountAdmin, "cursor=abc", membership.ErrInvalidField, "cursor"},
		{"everything well formed", accountAdmin, "start_time=2026-01-01T00:00:00Z&end_time=2026-01-01T00:00:00-01:00&operation_type=QUERY&limit=100&user_id=" + url.QueryEscape(string(target)), nil, ""},
	} {
		params, err := url.ParseQuery(tc.params)
		if err != nil {
			params = url.Values{"user_id": {"%"}, "limit": {"0"}}
		}
		_, err = membership.ParseListAuditLogsRequest(tc.actor, params)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		var e *membership.Error
		if tc.field != "" && (!errors.As(err, &e) || e.Field != tc.field) {
			t.Errorf("%s: %v names the wrong field, want %s", tc.name, err, tc.field)
		}
	}
}

// TestAuditCursorIsBoundToFilters: a cursor serves the walk of the filters
// that issued it, and no other.
func TestAuditCursorIsBoundToFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, svc := newWorld(t)
	for _, r := range []membership.RoleAssignment{member, readOnly, member} {
		if _, err := svc.AddUserToSpace(ctx, add(orgAdmin, spaceS, target, r)); err != nil {
			t.Fatal(err)
		}
	}
	page, err := svc.ListAuditLogs(ctx, membership.ListAuditLogsRequest{Actor: accountAdmin, UserID: orgAdmin, Limit: 1})
	if err != nil || page.NextCursor == "" {
		t.Fatalf("%+v, %v", page, err)
	}
	for _, req := range []membership.ListAuditLogsRequest{
		{Actor: accountAdmin, Cursor: page.NextCursor},
		{Actor: accountAdmin, UserID: target, Cursor: page.NextCursor},
		{Actor: accountAdmin, UserID: orgAdmin, OperationType: membership.OperationTypeMutation, Cursor: page.NextCursor},
	} {
		if _, err := svc.ListAuditLogs(ctx, req); !errors.Is(err, membership.ErrInvalidField) {
			t.Errorf("cursor with other filters %+v: %v, want invalid_field", req, err)
		}
	}
	if _, err := svc.Changes(ctx, membership.ChangesRequest{Actor: accountAdmin, Cursor: page.NextCursor}); !errors.Is(err, membership.ErrInvalidField) {
		t.Errorf("an audit cursor taken by Changes: %v, want invalid_field", err)
	}
	if _, err := svc.ListAuditLogs(ctx, membership.ListAuditLogsRequest{Actor: accountAdmin, UserID: orgAdmin, Cursor: page.NextCursor}); err != nil {
		t.Errorf("the cursor with its own filters: %v", err)
	}
}

// TestAuditEntryJSON checks the wire shape of an entry.
func TestAuditEntryJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 10, 0, 0, 5, time.UTC)
	for _, tc := range []struct {
		name  string
		entry membership.AuditEntry
		want  string
	}{
		{"add with a body", membership.AuditEntry{ID: "ZQ==", Time: at, Actor: orgAdmin, IP: "192.0.2.1", Body: `{"a":1}`,
			Operation: membership.OperationAdd, SpaceID: spaceS, UserID: target, Before: readOnly, After: membership.Custom(binder)},
			`{"id":"ZQ==","user_id":"` + string(orgAdmin) + `","ip":"192.0.2.1","operation_type":"MUTATION","operation_name":"add_space_user",` +
				`"operation_text":"{\"a\":1}","variables":"{\"space_id\":\"` + string(spaceS) + `\",\"user_id\":\"` + string(target) +
				`\",\"role\":{\"type\":\"CUSTOM\",\"id\":\"` + string(binder) + `\"},\"previous_role\":{\"type\":\"PREDEFINED\",\"name\":\"READ_ONLY\"}}",` +
				`"created_at":"2026-12-02T10:00:00.000000005Z"}`},
		{"cascade", membership.AuditEntry{ID: "ZQ==", Time: at, Actor: orgAdmin, Operation: membership.OperationOrgRemove, OrganizationID: orgO, UserID: target, Before: member,
			Removed: []membership.Membership{{ID: "bQ==", SpaceID: spaceS, UserID: target, Role: admin}}},
			`{"id":"ZQ==","user_id":"` + string(orgAdmin) + `","ip":"","operation_type":"MUTATION","operation_name":"remove_organization_user",` +
				`"operation_text":null,"variables":"{\"organization_id\":\"` + string(orgO) + `\",\"user_id\":\"` + string(target) +
				`\",\"role\":null,\"previous_role\":{\"type\":\"PREDEFINED\",\"name\":\"MEMBER\"},\"removed_space_memberships\":[{\"id\":\"bQ==\",\"space_id\":\"` + string(spaceS) +
				`\",\"role\":{\"type\":\"PREDEFINED\",\"name\":\"ADMIN\"}}]}","created_at":"2026-12-02T10:00:00.000000005Z"}`},
	} {
		got, err := json.Marshal(tc.entry)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		if strings.Contains(tc.name, "cascade") {
			var v struct{ Variables string }
			if err := json.Unmarshal(got, &v); err != nil || !json.Valid([]byte(v.Variables)) {
				t.Errorf("variables is not a JSON string of JSON: %q, %v", v.Variables, err)
			}
		}
	}
}
