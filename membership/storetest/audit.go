package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spaceauthz/spaceauthz/membership"
)

// entryOptions compare audit entries as the promise states them: a
// Removed that holds nothing may be nil or empty.
var entryOptions = cmpopts.EquateEmpty()

// withoutEntry compares what a Write returned apart from its audit entry,
// for the cases that check the entry on its own.
var withoutEntry = cmpopts.IgnoreFields(membership.Written{}, "Entry")

// decider is the decide function of a Write.
type decider = func(*membership.Facts) (membership.Change, error)

// withOrigin is decide with the request's origin on the change it allows.
func withOrigin(decide decider, o membership.Origin) decider {
	return func(f *membership.Facts) (membership.Change, error) {
		c, err := decide(f)
		c.Origin = o
		return c, err
	}
}

// span is the time one call took: a time the store stamps while the call
// runs lies within it.
type span struct{ start, end time.Time }

func (s span) holds(at time.Time) bool { return !at.Before(s.start) && !at.After(s.end) }

// timedWrite is s.Write, with the span of the call. The start is cut to
// the microsecond, the finest time a store need keep.
func timedWrite(ctx context.Context, s Store, q membership.Query, decide decider) (membership.Written, span, error) {
	start := time.Now().UTC().Truncate(time.Microsecond)
	w, err := s.Write(ctx, q, decide)
	return w, span{start, time.Now().UTC()}, err
}

// entryOf is the entry a change of q in the world's account, with origin,
// commits, without what the store generates (ID, Position and Time).
func entryOf(q membership.Query, origin membership.Origin, before, after membership.RoleAssignment, removed []membership.Membership) membership.AuditEntry {
	e := membership.AuditEntry{
		AccountID: account.ID, Actor: q.Actor, IP: origin.IP, Body: origin.Body, Operation: q.Operation,
		UserID: q.UserID, Before: before.Canonical(), After: after.Canonical(), Removed: removed,
	}
	if q.Operation.Level() == membership.LevelSpace {
		e.SpaceID = q.SpaceID
	} else {
		e.OrganizationID = q.OrganizationID
	}
	return e
}

// checkEntry checks that got is want with the fields a store generates: a
// valid ID, a positive Position and a Time in UTC.
func checkEntry(t *testing.T, what string, got, want membership.AuditEntry) {
	t.Helper()
	if !got.ID.Valid() || got.Position <= 0 || got.Time.IsZero() || got.Time.Location() != time.UTC {
		t.Errorf("%s: the entry has ID %q, Position %d, Time %v; want an ID, a positive position and a time in UTC", what, got.ID, got.Position, got.Time)
	}
	want.ID, want.Position, want.Time = got.ID, got.Position, got.Time
	if diff := cmp.Diff(want, got, entryOptions); diff != "" {
		t.Errorf("%s: the entry (-want +got):\n%s", what, diff)
	}
}

// auditPage reads one page of the audit log, and fails the test on error.
func auditPage(t *testing.T, s Store, q membership.AuditQuery) membership.AuditPage {
	t.Helper()
	page, err := s.AuditLog(context.Background(), q)
	if err != nil {
		t.Fatalf("AuditLog(%+v): %v", q, err)
	}
	if q.Limit > 0 && len(page.Entries) > q.Limit {
		t.Fatalf("AuditLog(%+v) returned %d entries, more than its limit", q, len(page.Entries))
	}
	return page
}

// changelog reads every entry of the account of who, in commit order, a
// few at a time.
func changelog(t *testing.T, s Store, who membership.ID) []membership.AuditEntry {
	t.Helper()
	var all []membership.AuditEntry
	q := membership.AuditQuery{Actor: who, Ascending: true, Limit: 3}
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("the changelog does not end")
		}
		page := auditPage(t, s, q)
		all = append(all, page.Entries...)
		if !page.More {
			return all
		}
		if len(page.Entries) == 0 {
			t.Fatal("an empty page of the changelog says more follow")
		}
		q.After = page.Entries[len(page.Entries)-1].Position
	}
}

// expectedPage is what AuditLog must return for q from log, the entries of
// the actor's account in commit order, as the godoc of AuditQuery states
// it.
func expectedPage(log []membership.AuditEntry, q membership.AuditQuery) ([]membership.AuditEntry, bool) {
	keep := func(e membership.AuditEntry) bool {
		if q.Ascending {
			return e.Position > q.After
		}
		return (q.Before == 0 || e.Position < q.Before) &&
			(q.Since.IsZero() || !e.Time.Before(q.Since)) &&
			(q.Until.IsZero() || !e.Time.After(q.Until)) &&
			(q.ActorID == "" || e.Actor == q.ActorID)
	}
	ordered := slices.Clone(log)
	if !q.Ascending {
		slices.Reverse(ordered)
	}
	var out []membership.AuditEntry
	for _, e := range ordered {
		if !keep(e) {
			continue
		}
		if len(out) == q.Limit {
			return out, true
		}
		out = append(out, e)
	}
	return out, false
}

// testAuditEntryOfEachChange: every kind of change commits one entry, with
// the facts of its query, the origin of its change, the roles before and
// after, a new ID, a greater Position and the time of the commit; Write
// returns the entry that the log then holds.
func testAuditEntryOfEachChange(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	var (
		committed []membership.AuditEntry
		ids       = map[membership.ID]bool{}
	)
	change := func(what string, q membership.Query, decide decider, before, after membership.RoleAssignment, removed []membership.Membership) membership.Written {
		t.Helper()
		n := len(committed) + 1
		origin := membership.Origin{IP: fmt.Sprintf("192.0.2.%d", n), Body: fmt.Sprintf(`{"request": %d}`, n)}
		w, call, err := timedWrite(ctx, s, q, withOrigin(decide, origin))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		e := w.Entry
		checkEntry(t, what, e, entryOf(q, origin, before, after, removed))
		if ids[e.ID] {
			t.Errorf("%s: the entry reuses the ID %q", what, e.ID)
		}
		ids[e.ID] = true
		if n > 1 && e.Position <= committed[n-2].Position {
			t.Errorf("%s: the entry has Position %d, not after the previous entry's %d", what, e.Position, committed[n-2].Position)
		}
		if !call.holds(e.Time) {
			t.Errorf("%s: the entry's time %v is not within the write's call, from %v to %v", what, e.Time, call.start, call.end)
		}
		committed = append(committed, e)
		return w
	}
	upperAnnotator := annotator
	upperAnnotator.Spelling = membership.SpellingUpper
	redTeamAdd := addQuery(target.ID, member)
	redTeamAdd.SpaceID = redTeam.ID
	byTarget := orgAddQuery(outsider.ID, annotator)
	byTarget.Actor = target.ID // the actor is the query's, whoever it is
	orgDelete := func(*membership.Facts) (membership.Change, error) {
		return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDelete}, nil
	}

	change("a new space membership", addQuery(target.ID, upperAnnotator), put, membership.RoleAssignment{}, annotator, nil)
	change("a space role change", addQuery(target.ID, membership.Custom(reviewer.ID)), put, annotator, membership.Custom(reviewer.ID), nil)
	inRedTeam := change("a membership of another space", redTeamAdd, put, membership.RoleAssignment{}, member, nil).Space
	change("a new organization membership", orgAddQuery(outsider.ID, member), orgPut, membership.RoleAssignment{}, member, nil)
	change("an organization role change by another actor", byTarget, orgPut, member, annotator, nil)
	change("a space remove", removeQuery(target.ID), remove, membership.Custom(reviewer.ID), membership.RoleAssignment{}, nil)
	inSpace := change("a space membership again", addQuery(target.ID, member), put, membership.RoleAssignment{}, member, nil).Space
	below := spaceOrder([]membership.Membership{inSpace, inRedTeam})
	w := change("a cascade", orgRemoveQuery(target.ID), cascade, membership.Custom(reviewer.ID), membership.RoleAssignment{}, below)
	if diff := cmp.Diff(w.Cascaded, w.Entry.Removed, entryOptions); diff != "" {
		t.Errorf("the cascade's entry holds other memberships than Cascaded (-cascaded +removed):\n%s", diff)
	}
	change("a plain organization delete", orgRemoveQuery(outsider.ID), orgDelete, annotator, membership.RoleAssignment{}, nil)

	if diff := cmp.Diff(committed, changelog(t, s, actor.ID), entryOptions); diff != "" {
		t.Errorf("the changelog holds other entries than the writes returned (-returned +log):\n%s", diff)
	}
	newest := slices.Clone(committed)
	slices.Reverse(newest)
	page := auditPage(t, s, membership.AuditQuery{Actor: actor.ID, Limit: membership.MaxPageSize})
	if diff := cmp.Diff(newest, page.Entries, entryOptions); diff != "" || page.More {
		t.Errorf("the log newest first (more %v) (-returned +log):\n%s", page.More, diff)
	}
}

// testAuditNoEntryWithoutChange: a change that changes nothing, or that
// fails for any reason, commits no entry and returns none.
func testAuditNoEntryWithoutChange(t *testing.T, s Store) {
	seed(t, s)
	upsert(t, s, target.ID, annotator)
	logBefore := changelog(t, s, actor.ID)
	if len(logBefore) != 1 {
		t.Fatalf("after one add, the changelog holds %d entries, want 1", len(logBefore))
	}
	upperAnnotator := annotator
	upperAnnotator.Spelling = membership.SpellingUpper
	deny := func(*membership.Facts) (membership.Change, error) { return membership.Change{}, errDenied }
	nothing := func(*membership.Facts) (membership.Change, error) { return membership.Change{}, nil }
	is := func(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }
	isNil := func(err error) bool { return err == nil }
	anyError := func(err error) bool { return err != nil }
	for _, tc := range []struct {
		name    string
		cancel  cancelled
		q       membership.Query
		decide  decider
		wantErr func(error) bool
	}{
		{"the space role already held, in another spelling", cancelNever, addQuery(target.ID, upperAnnotator), put, isNil},
		{"the organization role already held", cancelNever, orgAddQuery(target.ID, membership.Custom(reviewer.ID)), orgPut, isNil},
		{"no change", cancelNever, addQuery(outsider.ID, member), nothing, isNil},
		{"a denied add", cancelNever, addQuery(actor.ID, orgAdmin), deny, is(errDenied)},
		{"a denied remove", cancelNever, removeQuery(target.ID), deny, is(errDenied)},
		{"a denied organization add", cancelNever, orgAddQuery(outsider.ID, member), deny, is(errDenied)},
		{"a denied organization removal", cancelNever, orgRemoveQuery(target.ID), deny, is(errDenied)},
		{"a remove of no membership", cancelNever, removeQuery(outsider.ID), func(*membership.Facts) (membership.Change, error) {
			return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete}, nil
		}, is(membership.ErrMembershipNotFound)},
		{"an organization removal of no membership", cancelNever, orgRemoveQuery(outsider.ID), func(*membership.Facts) (membership.Change, error) {
			return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade}, nil
		}, is(membership.ErrMembershipNotFound)},
		{"an add of a user not in the organization", cancelNever, addQuery(outsider.ID, member), put, is(membership.ErrUserNotInOrganization)},
		{"a change at another level", cancelNever, removeQuery(target.ID), func(*membership.Facts) (membership.Change, error) {
			return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade}, nil
		}, anyError},
		{"an add on a cancelled context", cancelBefore, addQuery(target.ID, member), put, is(context.Canceled)},
		{"a cascade on a cancelled context", cancelBefore, orgRemoveQuery(target.ID), cascade, is(context.Canceled)},
		{"an add cancelled during decide", cancelDuring, addQuery(target.ID, member), put, is(context.Canceled)},
		{"a cascade cancelled during decide", cancelDuring, orgRemoveQuery(target.ID), cascade, is(context.Canceled)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			decide := tc.decide
			switch tc.cancel {
			case cancelBefore:
				cancel()
			case cancelDuring:
				decide = func(f *membership.Facts) (membership.Change, error) {
					cancel()
					return tc.decide(f)
				}
			}
			w, err := s.Write(ctx, tc.q, withOrigin(decide, membership.Origin{IP: "192.0.2.9", Body: "{}"}))
			if !tc.wantErr(err) {
				t.Errorf("Write returned %v", err)
			}
			if diff := cmp.Diff(membership.AuditEntry{}, w.Entry); diff != "" {
				t.Errorf("Write returned an entry (-none +got):\n%s", diff)
			}
			if diff := cmp.Diff(logBefore, changelog(t, s, actor.ID), entryOptions); diff != "" {
				t.Errorf("the changelog changed (-before +after):\n%s", diff)
			}
		})
	}
}

// cancelled is when a case's context is done: never, before the write, or
// while decide runs.
type cancelled int

const (
	cancelNever cancelled = iota
	cancelBefore
	cancelDuring
)

// auditHistory writes a few changes by two actors and returns their
// entries, in commit order.
func auditHistory(t *testing.T, s Store) []membership.AuditEntry {
	t.Helper()
	ctx := context.Background()
	byTarget := func(q membership.Query) membership.Query {
		q.Actor = target.ID
		return q
	}
	var log []membership.AuditEntry
	for i, step := range []struct {
		q      membership.Query
		decide decider
	}{
		{addQuery(target.ID, annotator), put},
		{byTarget(addQuery(target.ID, member)), put},
		{orgAddQuery(outsider.ID, member), orgPut},
		{byTarget(orgAddQuery(outsider.ID, annotator)), orgPut},
		{removeQuery(target.ID), remove},
		{byTarget(addQuery(actor.ID, orgAdmin)), put},
		{addQuery(target.ID, member), put},
	} {
		w, err := s.Write(ctx, step.q, step.decide)
		if err != nil || w.Entry.ID == "" {
			t.Fatalf("change %d: %+v, %v; want an entry", i, w.Entry, err)
		}
		log = append(log, w.Entry)
	}
	return log
}

// testAuditLogQueries: the log newest first, narrowed by position, time
// (both bounds inclusive) and actor, a page at a time; and the changelog
// in commit order after a position. Every page is what the godoc of
// AuditQuery says of the entries the writes returned.
func testAuditLogQueries(t *testing.T, s Store) {
	seed(t, s)
	log := auditHistory(t, s)
	last := len(log) - 1
	for _, tc := range []struct {
		name string
		q    membership.AuditQuery
	}{
		{"newest first", membership.AuditQuery{Limit: 100}},
		{"a first page", membership.AuditQuery{Limit: 2}},
		{"a page exactly to the end", membership.AuditQuery{Before: log[2].Position, Limit: 2}},
		{"before a position", membership.AuditQuery{Before: log[4].Position, Limit: 100}},
		{"before the first", membership.AuditQuery{Before: log[0].Position, Limit: 100}},
		{"since and until, both inclusive", membership.AuditQuery{Since: log[1].Time, Until: log[4].Time, Limit: 100}},
		{"since", membership.AuditQuery{Since: log[last-1].Time, Limit: 100}},
		{"until", membership.AuditQuery{Until: log[1].Time, Limit: 100}},
		{"until, a page", membership.AuditQuery{Until: log[4].Time, Limit: 2}},
		{"until, before a position", membership.AuditQuery{Until: log[5].Time, Before: log[3].Position, Limit: 100}},
		{"a window after every entry", membership.AuditQuery{Since: log[last].Time.Add(time.Hour), Limit: 100}},
		{"a window before every entry", membership.AuditQuery{Until: log[0].Time.Add(-time.Hour), Limit: 100}},
		{"one actor", membership.AuditQuery{ActorID: target.ID, Limit: 100}},
		{"one actor, a page", membership.AuditQuery{ActorID: actor.ID, Limit: 2}},
		{"one actor, before a position", membership.AuditQuery{ActorID: target.ID, Before: log[5].Position, Limit: 1}},
		{"one actor, in a window", membership.AuditQuery{ActorID: actor.ID, Since: log[1].Time, Until: log[last].Time, Limit: 100}},
		{"an actor of no entry", membership.AuditQuery{ActorID: outsider.ID, Limit: 100}},
		{"the changelog", membership.AuditQuery{Ascending: true, Limit: 100}},
		{"the changelog after a position", membership.AuditQuery{Ascending: true, After: log[2].Position, Limit: 100}},
		{"the changelog, a page", membership.AuditQuery{Ascending: true, After: log[0].Position, Limit: 2}},
		{"the changelog, a page exactly to the end", membership.AuditQuery{Ascending: true, After: log[last-2].Position, Limit: 2}},
		{"the changelog after the last", membership.AuditQuery{Ascending: true, After: log[last].Position, Limit: 100}},
		{"the changelog ignores the filters of the log", membership.AuditQuery{Ascending: true, After: log[0].Position,
			ActorID: outsider.ID, Since: log[last].Time.Add(time.Hour), Until: log[0].Time, Before: log[1].Position, Limit: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, reader := range []membership.ID{actor.ID, outsider.ID} { // any user of the account reads it
				q := tc.q
				q.Actor = reader
				want, wantMore := expectedPage(log, q)
				page := auditPage(t, s, q)
				if diff := cmp.Diff(want, page.Entries, entryOptions); diff != "" {
					t.Errorf("read by %s: entries (-want +got):\n%s", reader, diff)
				}
				if page.More != wantMore {
					t.Errorf("read by %s: More is %v, want %v", reader, page.More, wantMore)
				}
			}
		})
	}
	// A walk by pages, each before the last entry of the one before,
	// shows every entry once.
	var walked []membership.AuditEntry
	q := membership.AuditQuery{Actor: actor.ID, Limit: 3}
	for page := auditPage(t, s, q); ; page = auditPage(t, s, q) {
		walked = append(walked, page.Entries...)
		if !page.More || len(page.Entries) == 0 || len(walked) > len(log) {
			break
		}
		q.Before = page.Entries[len(page.Entries)-1].Position
	}
	want, _ := expectedPage(log, membership.AuditQuery{Limit: len(log)})
	if diff := cmp.Diff(want, walked, entryOptions); diff != "" {
		t.Errorf("the walk newest first (-want +got):\n%s", diff)
	}
}

// testAuditLogOfOneAccount: a read of the log shows the entries of its
// actor's account only, and an actor that names no user gets no record
// and no entry.
func testAuditLogOfOneAccount(t *testing.T, s Store) {
	seedSpaces(t, s)
	ctx := context.Background()
	ours := auditHistory(t, s)
	foreignAdd := membership.Query{Operation: membership.OperationAdd, Actor: foreigner.ID, SpaceID: foreignSpace.ID, UserID: foreigner.ID, Role: member}
	w, err := s.Write(ctx, foreignAdd, put)
	if err != nil {
		t.Fatal(err)
	}
	theirs := []membership.AuditEntry{w.Entry}
	checkEntry(t, "the add in the other account", w.Entry, membership.AuditEntry{
		AccountID: account2.ID, Actor: foreigner.ID, Operation: membership.OperationAdd, SpaceID: foreignSpace.ID, UserID: foreigner.ID, After: member,
	})
	// Another change of the first account, after the other account's.
	ours = append(ours, orgUpsertEntry(t, s, accountAdmin.ID, member))
	for _, tc := range []struct {
		reader membership.User
		want   []membership.AuditEntry
	}{{actor, ours}, {foreigner, theirs}} {
		if diff := cmp.Diff(tc.want, changelog(t, s, tc.reader.ID), entryOptions); diff != "" {
			t.Errorf("the changelog read by %s (-want +got):\n%s", tc.reader.Name, diff)
		}
		newest := slices.Clone(tc.want)
		slices.Reverse(newest)
		page := auditPage(t, s, membership.AuditQuery{Actor: tc.reader.ID, Limit: 100})
		if diff := cmp.Diff(newest, page.Entries, entryOptions); diff != "" || page.More {
			t.Errorf("the log read by %s (more %v) (-want +got):\n%s", tc.reader.Name, page.More, diff)
		}
		if diff := cmp.Diff(&tc.reader, page.Actor); diff != "" {
			t.Errorf("the reader's record (-want +got):\n%s", diff)
		}
	}
	for _, q := range []membership.AuditQuery{
		{Actor: id("User:nobody"), Limit: 100},
		{Actor: id("User:nobody"), Ascending: true, Limit: 100},
	} {
		page := auditPage(t, s, q)
		if page.Actor != nil || len(page.Entries) > 0 || page.More {
			t.Errorf("AuditLog(%+v) of an actor that names no user = %+v, want no record and no entry", q, page)
		}
	}
}

// orgUpsertEntry gives user the role in the world's organization, allowed,
// and returns the entry it committed.
func orgUpsertEntry(t *testing.T, s Store, user membership.ID, role membership.RoleAssignment) membership.AuditEntry {
	t.Helper()
	w, err := s.Write(context.Background(), orgAddQuery(user, role), orgPut)
	if err != nil || w.Entry.ID == "" {
		t.Fatalf("Write(org add %s %v) = %+v, %v; want an entry", user, role, w.Entry, err)
	}
	return w.Entry
}

// testSeederWritesNoEntry: the audit log records the changes of Write
// alone. A Seeder's plain writes, seeding included, commit no entry: a
// seeded world starts with an empty changelog.
func testSeederWritesNoEntry(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	if _, err := s.PutSpaceMember(ctx, redTeam.ID, target.ID, member); err != nil {
		t.Fatal(err)
	}
	if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org.ID, UserID: outsider.ID, Role: member}); err != nil {
		t.Fatal(err)
	}
	if log := changelog(t, s, actor.ID); len(log) > 0 {
		t.Errorf("seeding and plain writes committed %d entries, want none: %+v", len(log), log)
	}
}
