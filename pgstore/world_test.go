package pgstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

var errDenied = errors.New("pgstore test: denied by the check")

// allow is a check that allows everything.
func allow(*membership.Facts) error { return nil }

// id makes a test ID from a readable name.
func id(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

// world is what seedWorld writes: an account with an organization and a
// public space, an actor who is an organization ADMIN (and only an account
// MEMBER, so that demoting them in the organization takes their authority),
// users who are organization members, and a custom role.
type world struct {
	account membership.Account
	org     membership.Organization
	space   membership.Space
	actor   membership.User
	members []membership.ID
	role    membership.CustomRole
}

// worldMembers is how many organization members seedWorld creates.
const worldMembers = 16

func seedWorld(t testing.TB, s membership.Seeder) *world {
	t.Helper()
	return seedWorldWith(t, s, worldMembers)
}

func seedWorldWith(t testing.TB, s membership.Seeder, members int) *world {
	t.Helper()
	w := &world{
		account: membership.Account{ID: id("Account:1")},
		org:     membership.Organization{ID: id("Org:1"), AccountID: id("Account:1"), Name: "Research"},
		space:   membership.Space{ID: id("Space:1"), OrganizationID: id("Org:1"), Name: "llm-evals"},
		actor:   membership.User{ID: id("User:actor"), AccountID: id("Account:1"), Name: "Ada", Email: "ada@example.com", Role: membership.AccountMember},
		role:    membership.CustomRole{ID: id("Role:reviewer"), AccountID: id("Account:1"), Name: "Reviewer", Permissions: []membership.Permission{"PROJECT_READ"}},
	}
	f := &fixture.Fixture{
		Accounts:            []membership.Account{w.account},
		Users:               []membership.User{w.actor},
		Organizations:       []membership.Organization{w.org},
		Spaces:              []membership.Space{w.space},
		Roles:               []membership.CustomRole{w.role},
		OrganizationMembers: []membership.OrganizationMember{{OrganizationID: w.org.ID, UserID: w.actor.ID, Role: membership.Predefined(membership.RoleAdmin)}},
	}
	for i := range members {
		u := membership.User{ID: id(fmt.Sprintf("User:%d", i)), AccountID: w.account.ID, Name: "U", Email: "u@example.com", Role: membership.AccountMember}
		f.Users = append(f.Users, u)
		f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{OrganizationID: w.org.ID, UserID: u.ID, Role: membership.Predefined(membership.RoleMember)})
		w.members = append(w.members, u.ID)
	}
	if err := fixture.Seed(context.Background(), s, f); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	return w
}

// request asks, as the actor, to give user the role in the space.
func (w *world) request(user membership.ID, role membership.RoleAssignment) membership.AddUserRequest {
	return membership.AddUserRequest{Actor: w.actor.ID, SpaceID: w.space.ID, UserID: user, Role: role}
}

// upsert writes req as an add, deciding with check: the shape of most
// writes in these tests.
func upsert(ctx context.Context, s membership.Store, req membership.AddUserRequest, check func(*membership.Facts) error) (membership.Membership, error) {
	q := membership.Query{Operation: membership.OperationAdd, Actor: req.Actor, SpaceID: req.SpaceID, UserID: req.UserID, Role: req.Role}
	w, err := s.Write(ctx, q, func(f *membership.Facts) (membership.Change, error) {
		if err := check(f); err != nil {
			return membership.Change{}, err
		}
		return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangePut, Role: req.Role}, nil
	})
	return w.Space, err
}

// spaceMembers reads the memberships of a space, in user order.
func spaceMembers(ctx context.Context, s membership.Store, space membership.ID) ([]membership.Membership, error) {
	_, page, err := s.Read(ctx, membership.Query{Operation: membership.OperationList, SpaceID: space, Page: &membership.PageQuery{Limit: 100_000}})
	return page.Members, err
}
