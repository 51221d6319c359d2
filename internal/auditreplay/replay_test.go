package auditreplay_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/internal/auditreplay"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

func id(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

// The world of the tests: account A with an organization of two spaces and
// another of one, account B with one of its own.
var (
	accountA, accountB = id("Account:A"), id("Account:B")
	ada, bob, cy, dee  = id("User:ada"), id("User:bob"), id("User:cy"), id("User:dee")
	o1, o2, oB         = id("Org:1"), id("Org:2"), id("Org:B")
	s1, s2, s3, sB     = id("Space:1"), id("Space:2"), id("Space:3"), id("Space:B")
	reviewer           = id("Role:reviewer")

	admin    = membership.Predefined(membership.RoleAdmin)
	member   = membership.Predefined(membership.RoleMember)
	readOnly = membership.Predefined(membership.RoleReadOnly)
	custom   = membership.Custom(reviewer)
	none     = membership.RoleAssignment{}
)

func world() *fixture.Fixture {
	user := func(uid, account membership.ID) membership.User {
		return membership.User{ID: uid, AccountID: account, Name: "U", Email: "u@example.com", Role: membership.AccountMember}
	}
	upperMember := member
	upperMember.Spelling = membership.SpellingUpper
	return &fixture.Fixture{
		Accounts:      []membership.Account{{ID: accountA}, {ID: accountB}},
		Users:         []membership.User{user(ada, accountA), user(bob, accountA), user(cy, accountA), user(dee, accountB)},
		Organizations: []membership.Organization{{ID: o1, AccountID: accountA, Name: "O1"}, {ID: o2, AccountID: accountA, Name: "O2"}, {ID: oB, AccountID: accountB, Name: "OB"}},
		Roles:         []membership.CustomRole{{ID: reviewer, AccountID: accountA, Name: "Reviewer"}},
		OrganizationMembers: []membership.OrganizationMember{
			{OrganizationID: o1, UserID: ada, Role: admin},
			{OrganizationID: o1, UserID: bob, Role: upperMember},
			{OrganizationID: oB, UserID: dee, Role: admin},
		},
		Spaces: []membership.Space{{ID: s1, OrganizationID: o1, Name: "s1"}, {ID: s2, OrganizationID: o1, Name: "s2"}, {ID: s3, OrganizationID: o2, Name: "s3"}, {ID: sB, OrganizationID: oB, Name: "sB"}},
		SpaceMembers: []fixture.SpaceMember{
			{SpaceID: s1, UserID: bob, Role: member},
		},
	}
}

// spaceChange and orgChange are entries without what a store generates.
func spaceChange(op membership.Operation, space, user membership.ID, before, after membership.RoleAssignment) membership.AuditEntry {
	return membership.AuditEntry{Operation: op, SpaceID: space, UserID: user, Before: before, After: after}
}

func orgChange(op membership.Operation, org, user membership.ID, before, after membership.RoleAssignment, removed ...membership.Membership) membership.AuditEntry {
	return membership.AuditEntry{Operation: op, OrganizationID: org, UserID: user, Before: before, After: after, Removed: removed}
}

// committed gives the entries, of the account given beside each, the ID,
// Position, Time and Actor a store would: positions with gaps, which the
// promise allows.
func committed(changes ...any) []membership.AuditEntry {
	var log []membership.AuditEntry
	position := map[membership.ID]int64{}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < len(changes); i += 2 {
		account, e := changes[i].(membership.ID), changes[i+1].(membership.AuditEntry)
		position[account] += 10
		e.ID, e.Position, e.AccountID, e.Actor = id("Entry:"+string(rune('a'+i/2))), position[account], account, ada
		e.Time = at.Add(time.Duration(i) * time.Second)
		log = append(log, e)
	}
	return log
}

// inSpaceOrder sorts a cascade's Removed as a store returns it.
func inSpaceOrder(ms ...membership.Membership) []membership.Membership {
	slices.SortFunc(ms, func(a, b membership.Membership) int { return strings.Compare(string(a.SpaceID), string(b.SpaceID)) })
	return ms
}

var (
	cyInS1 = membership.Membership{ID: id("M:cy-s1"), SpaceID: s1, UserID: cy, Role: admin}
	cyInS2 = membership.Membership{ID: id("M:cy-s2"), SpaceID: s2, UserID: cy, Role: custom}
)

// validLog is a changelog of both accounts that fits the world: a role
// change, an organization add and two space adds, a remove, an add in
// account B, a cascade of two space memberships and one of none.
func validLog() []membership.AuditEntry {
	return committed(
		accountA, spaceChange(membership.OperationAdd, s1, bob, member, readOnly),
		accountA, orgChange(membership.OperationOrgAdd, o1, cy, none, member),
		accountA, spaceChange(membership.OperationAdd, s2, cy, none, custom),
		accountA, spaceChange(membership.OperationAdd, s1, cy, none, admin),
		accountA, spaceChange(membership.OperationRemove, s1, bob, readOnly, none),
		accountB, spaceChange(membership.OperationAdd, sB, dee, none, admin),
		accountA, orgChange(membership.OperationOrgRemove, o1, cy, member, none, inSpaceOrder(cyInS1, cyInS2)...),
		accountA, orgChange(membership.OperationOrgRemove, o1, bob, member, none),
	)
}

// The indexes of validLog's entries that the cases below change.
const (
	roleChange = 0
	orgAdd     = 1
	addToS2    = 2
	addToS1    = 3
	removeBob  = 4
	cascadeCy  = 6
)

func TestReplay(t *testing.T) {
	start := auditreplay.FromFixture(world())
	got, err := auditreplay.Replay(start, validLog())
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	want := auditreplay.FromFixture(world())
	want.OrganizationMembers = map[auditreplay.OrganizationKey]membership.RoleAssignment{{OrganizationID: o1, UserID: ada}: admin, {OrganizationID: oB, UserID: dee}: admin}
	want.SpaceMembers = map[auditreplay.SpaceKey]membership.RoleAssignment{{SpaceID: sB, UserID: dee}: admin}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replayed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(auditreplay.FromFixture(world()), start); diff != "" {
		t.Errorf("Replay changed its start (-before +after):\n%s", diff)
	}
}

func TestFromFixture(t *testing.T) {
	got := auditreplay.FromFixture(world())
	want := auditreplay.World{
		Users:         map[membership.ID]membership.ID{ada: accountA, bob: accountA, cy: accountA, dee: accountB},
		Organizations: map[membership.ID]membership.ID{o1: accountA, o2: accountA, oB: accountB},
		Spaces:        map[membership.ID]membership.ID{s1: o1, s2: o1, s3: o2, sB: oB},
		Readers:       map[membership.ID]membership.ID{accountA: ada, accountB: dee},
		OrganizationMembers: map[auditreplay.OrganizationKey]membership.RoleAssignment{
			{OrganizationID: o1, UserID: ada}: admin, {OrganizationID: o1, UserID: bob}: member, {OrganizationID: oB, UserID: dee}: admin,
		},
		SpaceMembers: map[auditreplay.SpaceKey]membership.RoleAssignment{{SpaceID: s1, UserID: bob}: member},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the world of the fixture, roles canonical (-want +got):\n%s", diff)
	}
}

// TestReplayRefuses: a log with an entry that does not fit the state it
// meets is refused, for the reason of that entry.
func TestReplayRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(log []membership.AuditEntry) []membership.AuditEntry
		want   error
	}{
		{"a missing role change: the remove's Before is not the role held", func(log []membership.AuditEntry) []membership.AuditEntry {
			return slices.Delete(log, roleChange, roleChange+1)
		}, auditreplay.ErrBeforeMismatch},
		{"a missing organization add: the space add has no organization membership", func(log []membership.AuditEntry) []membership.AuditEntry {
			return slices.Delete(log, orgAdd, orgAdd+1)
		}, auditreplay.ErrNotInOrganization},
		{"a missing space add: the cascade removes more", func(log []membership.AuditEntry) []membership.AuditEntry {
			return slices.Delete(log, addToS1, addToS1+1)
		}, auditreplay.ErrRemovedMismatch},
		{"a duplicated entry", func(log []membership.AuditEntry) []membership.AuditEntry {
			return slices.Insert(log, addToS2+1, log[addToS2])
		}, auditreplay.ErrRepeated},
		{"an entry again under another id", func(log []membership.AuditEntry) []membership.AuditEntry {
			again := log[removeBob]
			again.ID = id("Entry:again")
			return slices.Insert(log, removeBob+1, again)
		}, auditreplay.ErrOutOfOrder},
		{"two entries swapped", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[addToS1], log[removeBob] = log[removeBob], log[addToS1]
			return log
		}, auditreplay.ErrOutOfOrder},
		{"a wrong Before", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[roleChange].Before = admin
			return log
		}, auditreplay.ErrBeforeMismatch},
		{"a Before of none for a membership held", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[roleChange].Before = none
			return log
		}, auditreplay.ErrBeforeMismatch},
		{"a Removed without one membership", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[cascadeCy].Removed = []membership.Membership{cyInS1}
			return log
		}, auditreplay.ErrRemovedMismatch},
		{"a Removed with a membership too many", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[cascadeCy].Removed = inSpaceOrder(cyInS1, cyInS2, membership.Membership{ID: id("M:cy-s3"), SpaceID: s3, UserID: cy, Role: member})
			return log
		}, auditreplay.ErrRemovedMismatch},
		{"a Removed with a wrong role", func(log []membership.AuditEntry) []membership.AuditEntry {
			wrong := cyInS2
			wrong.Role = member
			log[cascadeCy].Removed = inSpaceOrder(cyInS1, wrong)
			return log
		}, auditreplay.ErrRemovedMismatch},
		{"a Removed of another user", func(log []membership.AuditEntry) []membership.AuditEntry {
			wrong := cyInS2
			wrong.UserID = bob
			log[cascadeCy].Removed = inSpaceOrder(cyInS1, wrong)
			return log
		}, auditreplay.ErrRemovedMismatch},
		{"a Removed out of space order", func(log []membership.AuditEntry) []membership.AuditEntry {
			slices.Reverse(log[cascadeCy].Removed)
			return log
		}, auditreplay.ErrRemovedMismatch},
		{"a cascade that removed nothing below", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[cascadeCy].Removed = nil
			return log
		}, auditreplay.ErrRemovedMismatch},
		{"a put that changes nothing", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[roleChange].After = member
			return log
		}, auditreplay.ErrMalformed},
		{"a put of no role", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[orgAdd].After = none
			return log
		}, auditreplay.ErrMalformed},
		{"a put of a role not in canonical form", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[orgAdd].After.Spelling = membership.SpellingUpper
			return log
		}, auditreplay.ErrMalformed},
		{"a remove with a role after", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[removeBob].After = member
			return log
		}, auditreplay.ErrMalformed},
		{"a remove of no membership", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[removeBob].Before = none
			return log
		}, auditreplay.ErrMalformed},
		{"a space remove with a Removed", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[removeBob].Removed = []membership.Membership{cyInS1}
			return log
		}, auditreplay.ErrMalformed},
		{"an entry of another account", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[roleChange].AccountID = accountB
			return log
		}, auditreplay.ErrMalformed},
		{"a space the world does not hold", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[addToS2].SpaceID = id("Space:none")
			return log
		}, auditreplay.ErrMalformed},
		{"a space operation that names an organization", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[addToS2].OrganizationID = o1
			return log
		}, auditreplay.ErrMalformed},
		{"an operation that changes nothing", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[roleChange].Operation = membership.OperationList
			return log
		}, auditreplay.ErrMalformed},
		{"a user the world does not hold", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[orgAdd].UserID = id("User:none")
			return log
		}, auditreplay.ErrMalformed},
		{"no ID", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[orgAdd].ID = ""
			return log
		}, auditreplay.ErrMalformed},
		{"no actor", func(log []membership.AuditEntry) []membership.AuditEntry {
			log[orgAdd].Actor = ""
			return log
		}, auditreplay.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auditreplay.Replay(auditreplay.FromFixture(world()), tc.change(validLog()))
			if !errors.Is(err, tc.want) {
				t.Errorf("Replay = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestApplyRefusesWithoutChange: an entry refused leaves the Replayer as
// it was, so that the right entry still applies after it.
func TestApplyRefusesWithoutChange(t *testing.T) {
	log := validLog()
	r := auditreplay.NewReplayer(auditreplay.FromFixture(world()))
	for _, e := range log[:cascadeCy] {
		if err := r.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	before, after := r.World(), r.After(accountA)
	wrong := log[cascadeCy]
	wrong.Removed = []membership.Membership{cyInS1}
	if err := r.Apply(wrong); !errors.Is(err, auditreplay.ErrRemovedMismatch) {
		t.Fatalf("Apply(a wrong cascade) = %v, want ErrRemovedMismatch", err)
	}
	if diff := cmp.Diff(before, r.World()); diff != "" || r.After(accountA) != after {
		t.Errorf("a refused entry changed the replay (position %d, was %d) (-before +after):\n%s", r.After(accountA), after, diff)
	}
	if err := r.Apply(log[cascadeCy]); err != nil {
		t.Errorf("the right cascade after a refused one: %v", err)
	}
	if got := r.After(accountA); got != log[cascadeCy].Position {
		t.Errorf("After(account A) = %d, want the cascade's position %d", got, log[cascadeCy].Position)
	}
}
