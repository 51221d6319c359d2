package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// id makes a test ID from a readable name.
func id(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

// The world every test seeds: one account with an organization, a space,
// an actor who is organization ADMIN and holds a custom role in the space,
// targets in and out of the organization, and custom roles.
var (
	account   = membership.Account{ID: id("Account:1")}
	org       = membership.Organization{ID: id("Org:1"), AccountID: account.ID, Name: "Research"}
	space     = membership.Space{ID: id("Space:1"), OrganizationID: org.ID, Name: "llm-evals"}
	actor     = membership.User{ID: id("User:actor"), AccountID: account.ID, Name: "Ada", Email: "ada@example.com", Role: membership.AccountMember}
	target    = membership.User{ID: id("User:target"), AccountID: account.ID, Name: "Bob", Email: "bob@example.com", Role: membership.AccountAnnotator}
	outsider  = membership.User{ID: id("User:outsider"), AccountID: account.ID, Name: "Ken", Email: "ken@example.com", Role: membership.AccountMember}
	binder    = membership.CustomRole{ID: id("Role:binder"), AccountID: account.ID, Name: "Binder", Permissions: []membership.Permission{membership.PermissionRoleBindingCreate}}
	reviewer  = membership.CustomRole{ID: id("Role:reviewer"), AccountID: account.ID, Name: "Reviewer", Permissions: []membership.Permission{"PROJECT_READ"}}
	orgAdmin  = membership.Predefined(membership.RoleAdmin)
	annotator = membership.Predefined(membership.RoleAnnotator)
	member    = membership.Predefined(membership.RoleMember)
)

func world() *fixture.Fixture {
	return &fixture.Fixture{
		Accounts:      []membership.Account{account},
		Users:         []membership.User{actor, target, outsider},
		Organizations: []membership.Organization{org},
		OrganizationMembers: []membership.OrganizationMember{
			{OrganizationID: org.ID, UserID: actor.ID, Role: orgAdmin},
			{OrganizationID: org.ID, UserID: target.ID, Role: membership.Custom(reviewer.ID)},
		},
		Spaces: []membership.Space{space},
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
	return membership.Change{Kind: membership.ChangePut, Role: f.Query.Role}, nil
}

// remove allows removing a member, and answers as the default policy does
// when there is none.
func remove(f *membership.Facts) (membership.Change, error) {
	if f.Existing == nil {
		return membership.Change{}, membership.ErrMembershipNotFound
	}
	return membership.Change{Kind: membership.ChangeDelete}, nil
}

// upsert gives user the role, allowed, and fails the test on error.
func upsert(t *testing.T, s Store, user membership.ID, role membership.RoleAssignment) membership.Membership {
	t.Helper()
	m, err := s.Write(context.Background(), addQuery(user, role), put)
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
