package memstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/membership/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return New() })
}

func id(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

// addQuery asks to give user the predefined MEMBER role in space.
func addQuery(actor, space, user membership.ID) membership.Query {
	return membership.Query{Operation: membership.OperationAdd, Actor: actor, SpaceID: space, UserID: user, Role: membership.Predefined(membership.RoleMember)}
}

// allowing turns a check into a decide that puts the query's role.
func allowing(check func(*membership.Facts) error) func(*membership.Facts) (membership.Change, error) {
	return func(f *membership.Facts) (membership.Change, error) {
		if err := check(f); err != nil {
			return membership.Change{}, err
		}
		return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: f.Query.Role}, nil
	}
}

// spaceMembers lists a space's memberships.
func spaceMembers(t *testing.T, s *Store, space membership.ID) []membership.Membership {
	t.Helper()
	_, page, err := s.Read(context.Background(), membership.Query{Operation: membership.OperationList, SpaceID: space, Page: &membership.PageQuery{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	return page.Members
}

// TestLostRacesEndUnderTheLock changes the facts during every optimistic
// check: the add must still finish, with its last check run under the
// write lock on facts nobody can change any more.
func TestLostRacesEndUnderTheLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New()
	org, space, actor, user := id("Org:1"), id("Space:1"), id("User:1"), id("User:2")
	if err := s.PutOrganization(ctx, membership.Organization{ID: org, AccountID: id("Account:1"), Name: "o"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSpace(ctx, membership.Space{ID: space, OrganizationID: org, Name: "s"}); err != nil {
		t.Fatal(err)
	}
	// The target must be an organization member, or no add of theirs
	// writes, however the races end.
	if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org, UserID: user, Role: membership.Predefined(membership.RoleMember)}); err != nil {
		t.Fatal(err)
	}
	roles := []membership.RoleAssignment{membership.Predefined(membership.RoleAdmin), membership.Predefined(membership.RoleMember)}
	calls := 0
	var last membership.Facts
	m, err := s.Write(ctx, addQuery(actor, space, user), allowing(func(f *membership.Facts) error {
		calls++
		last = *f
		if calls <= optimisticAttempts {
			change := membership.OrganizationMember{OrganizationID: org, UserID: actor, Role: roles[calls%2]}
			if err := s.PutOrganizationMember(ctx, change); err != nil {
				t.Errorf("changing the facts: %v", err)
			}
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if calls != optimisticAttempts+1 {
		t.Errorf("check ran %d times, want %d", calls, optimisticAttempts+1)
	}
	if want := roles[optimisticAttempts%2]; !last.ActorOrganizationRole.Role.SameRole(want) {
		t.Errorf("last check saw the actor as %v, want the last change, %v", last.ActorOrganizationRole.Role, want)
	}
	if members := spaceMembers(t, s, space); len(members) != 1 || members[0] != m.Space {
		t.Errorf("stored %+v, want just %+v", members, m)
	}
}

func TestPutRefusesInvalidIDs(t *testing.T) {
	t.Parallel()
	s := New()
	if err := s.PutUser(context.Background(), membership.User{ID: "not an id", AccountID: id("Account:1")}); err == nil {
		t.Error("PutUser stored a user whose id is not an ID")
	}
	if err := s.PutOrganizationMember(context.Background(), membership.OrganizationMember{OrganizationID: id("Org:1"), UserID: id("User:1")}); err == nil {
		t.Error("PutOrganizationMember stored a member without a role")
	}
}

// TestPageOfOneSpaceOnly: one space's ID may be a prefix of another's;
// a page of the first must not list the second.
func TestPageOfOneSpaceOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New()
	short, long := membership.ID("QUJD"), membership.ID("QUJDRA==")
	for _, space := range []membership.ID{short, long} {
		if _, err := s.PutSpaceMember(ctx, space, id("User:1"), membership.Predefined(membership.RoleMember)); err != nil {
			t.Fatal(err)
		}
	}
	if got := spaceMembers(t, s, short); len(got) != 1 || got[0].SpaceID != short {
		t.Errorf("page of %s = %+v, want only its own member", short, got)
	}
}

// TestImportMatchesSeed: Import writes what fixture.Seed writes.
func TestImportMatchesSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	seeded, imported := New(), New()
	if err := fixture.Seed(ctx, seeded, fixture.Demo()); err != nil {
		t.Fatal(err)
	}
	if err := imported.Import(ctx, fixture.Demo()); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{tableAccounts, tableUsers, tableOrganizations, tableOrganizationMembers, tableSpaces, tableCustomRoles, tableSpaceMembers} {
		want, got := dump(t, seeded, table), dump(t, imported, table)
		// Membership ids are the store's, new in each.
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(membership.Membership{}, "ID"), cmpopts.IgnoreFields(membership.OrganizationMember{}, "ID")); diff != "" {
			t.Errorf("%s (-seeded +imported):\n%s", table, diff)
		}
	}
	bad := fixture.Demo()
	bad.Users[0].AccountID = id("Account:none")
	if err := New().Import(ctx, bad); !errors.Is(err, fixture.ErrMissingReference) {
		t.Errorf("Import of an invalid fixture: %v, want ErrMissingReference", err)
	}
}

func dump(t *testing.T, s *Store, table string) []any {
	t.Helper()
	it, err := s.db.Txn(false).Get(table, indexID)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	for obj := it.Next(); obj != nil; obj = it.Next() {
		out = append(out, obj)
	}
	return out
}

// TestAddedFactsAreRechecked: a record that the facts found absent and that
// a commit adds before the write counts as a change, like a changed record.
func TestAddedFactsAreRechecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New()
	org, space, actor, user := id("Org:1"), id("Space:1"), id("User:1"), id("User:2")
	if err := s.PutOrganization(ctx, membership.Organization{ID: org, AccountID: id("Account:1"), Name: "o"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSpace(ctx, membership.Space{ID: space, OrganizationID: org, Name: "s"}); err != nil {
		t.Fatal(err)
	}
	errOutsider := errors.New("the target joined the organization: deny, for the test's sake")
	calls := 0
	_, err := s.Write(ctx, addQuery(actor, space, user), allowing(func(f *membership.Facts) error {
		calls++
		if f.TargetOrganizationRole.Held() {
			return errOutsider
		}
		if calls == 1 {
			joined := membership.OrganizationMember{OrganizationID: org, UserID: user, Role: membership.Predefined(membership.RoleMember)}
			if err := s.PutOrganizationMember(ctx, joined); err != nil {
				t.Errorf("adding the target to the organization: %v", err)
			}
		}
		return nil
	}))
	if !errors.Is(err, errOutsider) || calls != 2 {
		t.Errorf("Write = %v after %d checks; want the second check's deny", err, calls)
	}
	if members := spaceMembers(t, s, space); len(members) != 0 {
		t.Errorf("the add wrote %+v on facts that changed before its write", members)
	}
}

// TestNeighboursDoNotConflict: adds of other users to the same space, which
// commit between an add's snapshot and its write, do not make it check
// again.
func TestNeighboursDoNotConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New()
	org, space := id("Org:1"), id("Space:1")
	if err := s.PutOrganization(ctx, membership.Organization{ID: org, AccountID: id("Account:1"), Name: "o"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSpace(ctx, membership.Space{ID: space, OrganizationID: org, Name: "s"}); err != nil {
		t.Fatal(err)
	}
	// Every user added is an organization member, as the store requires.
	users := []membership.ID{id("User:1")}
	for i := range 3 {
		users = append(users, id(fmt.Sprintf("User:neighbour-%d", i)))
	}
	for _, u := range users {
		if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org, UserID: u, Role: membership.Predefined(membership.RoleMember)}); err != nil {
			t.Fatal(err)
		}
	}
	calls := 0
	if _, err := s.Write(ctx, addQuery(id("User:0"), space, id("User:1")), allowing(func(*membership.Facts) error {
		calls++
		for i := range 3 {
			if _, err := s.PutSpaceMember(ctx, space, id(fmt.Sprintf("User:neighbour-%d", i)), membership.Predefined(membership.RoleMember)); err != nil {
				t.Error(err)
			}
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("check ran %d times, want 1: other users' adds are no change to these facts", calls)
	}
}
