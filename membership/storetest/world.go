package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// id makes a test ID from a readable name.
func id(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

// The world every test seeds: one account with an organization and its two
// spaces, a second organization with a space of its own, an actor who is
// organization ADMIN and holds a custom role in the first space, targets in
// and out of the organization (the target is a member of both
// organizations), and custom roles. The spaces carry an explicit creation
// time, so that facts compare exactly.
var (
	account    = membership.Account{ID: id("Account:1")}
	org        = membership.Organization{ID: id("Org:1"), AccountID: account.ID, Name: "Research"}
	space      = membership.Space{ID: id("Space:1"), OrganizationID: org.ID, Name: "llm-evals", Description: "evaluations", CreatedAt: time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)}
	redTeam    = membership.Space{ID: id("Space:red-team"), OrganizationID: org.ID, Name: "red-team", IsPrivate: true, CreatedAt: time.Date(2026, 2, 3, 14, 0, 0, 0, time.UTC)}
	org2       = membership.Organization{ID: id("Org:2"), AccountID: account.ID, Name: "Other Research"}
	otherSpace = membership.Space{ID: id("Space:other"), OrganizationID: org2.ID, Name: "other-evals", CreatedAt: time.Date(2026, 3, 10, 8, 15, 0, 0, time.UTC)}
	actor      = membership.User{ID: id("User:actor"), AccountID: account.ID, Name: "Ada", Email: "ada@example.com", Role: membership.AccountMember}
	target     = membership.User{ID: id("User:target"), AccountID: account.ID, Name: "Bob", Email: "bob@example.com", Role: membership.AccountAnnotator}
	outsider   = membership.User{ID: id("User:outsider"), AccountID: account.ID, Name: "Ken", Email: "ken@example.com", Role: membership.AccountMember}
	binder     = membership.CustomRole{ID: id("Role:binder"), AccountID: account.ID, Name: "Binder", Permissions: []membership.Permission{membership.PermissionRoleBindingCreate}}
	reviewer   = membership.CustomRole{ID: id("Role:reviewer"), AccountID: account.ID, Name: "Reviewer", Permissions: []membership.Permission{"PROJECT_READ"}}
	orgAdmin   = membership.Predefined(membership.RoleAdmin)
	annotator  = membership.Predefined(membership.RoleAnnotator)
	member     = membership.Predefined(membership.RoleMember)
)

func world() *fixture.Fixture {
	return &fixture.Fixture{
		Accounts:      []membership.Account{account},
		Users:         []membership.User{actor, target, outsider},
		Organizations: []membership.Organization{org, org2},
		OrganizationMembers: []membership.OrganizationMember{
			{OrganizationID: org.ID, UserID: actor.ID, Role: orgAdmin},
			{OrganizationID: org.ID, UserID: target.ID, Role: membership.Custom(reviewer.ID)},
			{OrganizationID: org2.ID, UserID: target.ID, Role: member},
		},
		Spaces: []membership.Space{space, redTeam, otherSpace},
		Roles:  []membership.CustomRole{binder, reviewer},
		SpaceMembers: []fixture.SpaceMember{
			{SpaceID: space.ID, UserID: actor.ID, Role: membership.Custom(binder.ID)},
		},
	}
}

// seed writes the world into s.
func seed(t *testing.T, s Store) {
	t.Helper()
	if err := fixture.Seed(context.Background(), s, world()); err != nil {
		t.Fatalf("seeding: %v", err)
	}
}

// addQuery asks to give user the role in the world's space, as the actor.
func addQuery(user membership.ID, role membership.RoleAssignment) membership.Query {
	return membership.Query{Operation: membership.OperationAdd, Actor: actor.ID, SpaceID: space.ID, UserID: user, Role: role}
}

// removeQuery asks to remove user from the world's space, as the actor.
func removeQuery(user membership.ID) membership.Query {
	return membership.Query{Operation: membership.OperationRemove, Actor: actor.ID, SpaceID: space.ID, UserID: user}
}

// listQuery asks for a page of the world's space, as the actor.
func listQuery(after membership.ID, limit int) membership.Query {
	return membership.Query{Operation: membership.OperationList, Actor: actor.ID, SpaceID: space.ID, Page: &membership.PageQuery{After: after, Limit: limit}}
}

var errDenied = errors.New("storetest: denied by decide")

// put allows giving the query's role.
func put(f *membership.Facts) (membership.Change, error) {
	return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: f.Query.Role}, nil
}

// remove allows removing a member, and answers as the default policy does
// when there is none.
func remove(f *membership.Facts) (membership.Change, error) {
	if f.Existing == nil {
		return membership.Change{}, membership.ErrMembershipNotFound
	}
	return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete}, nil
}

// upsert gives user the role, allowed, and fails the test on error.
func upsert(t *testing.T, s Store, user membership.ID, role membership.RoleAssignment) membership.Membership {
	t.Helper()
	m, err := writeSpace(context.Background(), s, addQuery(user, role), put)
	if err != nil {
		t.Fatalf("Write(add %s %v): %v", user, role, err)
	}
	return m
}

// members lists the memberships of the world's space, keyed by user, page
// by page.
func members(t *testing.T, s Store) map[membership.ID]membership.Membership {
	t.Helper()
	byUser := map[membership.ID]membership.Membership{}
	for _, m := range walk(t, s, 100) {
		if _, dup := byUser[m.UserID]; dup {
			t.Errorf("user %s listed twice in one space", m.UserID)
		}
		byUser[m.UserID] = m
	}
	return byUser
}

// walk reads every page of the world's space, limit memberships at a time.
func walk(t *testing.T, s Store, limit int) []membership.Membership {
	t.Helper()
	var all []membership.Membership
	var after membership.ID
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("the walk does not end")
		}
		_, page, err := s.Read(context.Background(), listQuery(after, limit))
		if err != nil {
			t.Fatalf("Read(page after %q): %v", after, err)
		}
		if len(page.Members) > limit {
			t.Fatalf("a page of %d holds %d memberships", limit, len(page.Members))
		}
		all = append(all, page.Members...)
		if !page.More {
			return all
		}
		if len(page.Members) == 0 {
			t.Fatal("an empty page says more follow")
		}
		after = page.Members[len(page.Members)-1].UserID
	}
}

// newUsers seeds n more users of the world's organization, named after
// prefix.
func newUsers(t *testing.T, s Store, prefix string, n int) []membership.ID {
	t.Helper()
	ctx := context.Background()
	ids := make([]membership.ID, n)
	for i := range ids {
		u := membership.User{ID: id(fmt.Sprintf("User:%s%03d", prefix, i)), AccountID: account.ID, Name: "U", Email: "u@example.com", Role: membership.AccountMember}
		if err := s.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org.ID, UserID: u.ID, Role: member}); err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	return ids
}

// writeSpace is s.Write of a change at LevelSpace: it returns the space
// membership written.
func writeSpace(ctx context.Context, s Store, q membership.Query, decide func(*membership.Facts) (membership.Change, error)) (membership.Membership, error) {
	w, err := s.Write(ctx, q, decide)
	return w.Space, err
}

// orgAddQuery asks to give user the role in the world's organization, as
// the actor.
func orgAddQuery(user membership.ID, role membership.RoleAssignment) membership.Query {
	return membership.Query{Operation: membership.OperationOrgAdd, Actor: actor.ID, OrganizationID: org.ID, UserID: user, Role: role}
}

// orgRemoveQuery asks to remove user from the world's organization, as the
// actor.
func orgRemoveQuery(user membership.ID) membership.Query {
	return membership.Query{Operation: membership.OperationOrgRemove, Actor: actor.ID, OrganizationID: org.ID, UserID: user}
}

// orgPut allows giving the query's role in the organization.
func orgPut(f *membership.Facts) (membership.Change, error) {
	return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangePut, Role: f.Query.Role}, nil
}

// cascade allows removing an organization member with their memberships of
// its spaces, and answers as the default policy does when there is none.
func cascade(f *membership.Facts) (membership.Change, error) {
	if f.TargetOrganizationMember == nil {
		return membership.Change{}, membership.ErrMembershipNotFound
	}
	return membership.Change{Level: membership.LevelOrganization, Kind: membership.ChangeDeleteCascade}, nil
}

// orgUpsert gives user the role in the world's organization, allowed, and
// fails the test on error.
func orgUpsert(t *testing.T, s Store, user membership.ID, role membership.RoleAssignment) membership.OrganizationMember {
	t.Helper()
	w, err := s.Write(context.Background(), orgAddQuery(user, role), orgPut)
	if err != nil {
		t.Fatalf("Write(org add %s %v): %v", user, role, err)
	}
	return w.Organization
}

// upsertIn gives user the role in spaceID, allowed, and fails the test on
// error.
func upsertIn(t *testing.T, s Store, spaceID, user membership.ID, role membership.RoleAssignment) membership.Membership {
	t.Helper()
	q := addQuery(user, role)
	q.SpaceID = spaceID
	m, err := writeSpace(context.Background(), s, q, put)
	if err != nil {
		t.Fatalf("Write(add %s to %s %v): %v", user, spaceID, role, err)
	}
	return m
}

// orgMemberOf reads the membership of user in orgID, nil for none.
func orgMemberOf(t *testing.T, s Store, orgID, user membership.ID) *membership.OrganizationMember {
	t.Helper()
	q := orgRemoveQuery(user)
	q.OrganizationID = orgID
	f, _, err := s.Read(context.Background(), q)
	if err != nil {
		t.Fatalf("Read(organization %s, user %s): %v", orgID, user, err)
	}
	return f.TargetOrganizationMember
}

// spaceMemberOf reads the membership of user in spaceID, nil for none.
func spaceMemberOf(t *testing.T, s Store, spaceID, user membership.ID) *membership.Membership {
	t.Helper()
	q := removeQuery(user)
	q.SpaceID = spaceID
	f, _, err := s.Read(context.Background(), q)
	if err != nil {
		t.Fatalf("Read(space %s, user %s): %v", spaceID, user, err)
	}
	return f.Existing
}

// memberships is what the world's users hold, organization and space
// memberships, keyed by where and who; a missing key is no membership.
type memberships map[string]any

// holdings reads every membership the given users hold in the world's
// organizations and spaces.
func holdings(t *testing.T, s Store, users ...membership.ID) memberships {
	t.Helper()
	out := memberships{}
	for _, u := range users {
		for _, o := range []membership.ID{org.ID, org2.ID} {
			if m := orgMemberOf(t, s, o, u); m != nil {
				out["org "+string(o)+" user "+string(u)] = *m
			}
		}
		for _, sp := range []membership.ID{space.ID, redTeam.ID, otherSpace.ID} {
			if m := spaceMemberOf(t, s, sp, u); m != nil {
				out["space "+string(sp)+" user "+string(u)] = *m
			}
		}
	}
	return out
}
