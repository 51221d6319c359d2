package storetest

import (
	"context"
	"encoding/base64"
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

// request asks to add user to the world's space with role, as the actor.
func request(user membership.ID, role membership.RoleAssignment) membership.AddUserRequest {
	return membership.AddUserRequest{Actor: actor.ID, SpaceID: space.ID, UserID: user, Role: role}
}

// allow is a check that allows everything.
func allow(*membership.Facts) error { return nil }

// upsert adds with allow and fails the test on error.
func upsert(t *testing.T, s Store, req membership.AddUserRequest) membership.Membership {
	t.Helper()
	m, err := s.UpsertMembership(context.Background(), req, allow)
	if err != nil {
		t.Fatalf("UpsertMembership(%v): %v", req, err)
	}
	return m
}

// members lists the memberships of the world's space, keyed by user.
func members(t *testing.T, s Store) map[membership.ID]membership.Membership {
	t.Helper()
	list, err := s.SpaceMembers(context.Background(), space.ID)
	if err != nil {
		t.Fatalf("SpaceMembers: %v", err)
	}
	byUser := make(map[membership.ID]membership.Membership, len(list))
	for _, m := range list {
		if _, dup := byUser[m.UserID]; dup {
			t.Errorf("two memberships of user %s in one space", m.UserID)
		}
		byUser[m.UserID] = m
	}
	return byUser
}

// newUsers seeds n more users of the world's organization.
func newUsers(t *testing.T, s Store, n int) []membership.ID {
	t.Helper()
	ctx := context.Background()
	ids := make([]membership.ID, n)
	for i := range ids {
		u := membership.User{ID: id(fmt.Sprintf("User:%d", i)), AccountID: account.ID, Name: "U", Email: "u@example.com", Role: membership.AccountMember}
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
