package pgstore

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
)

// TestFactsMatchMemstore seeds the demo fixture into pgstore and memstore
// and compares the facts both gather for every combination of its actors,
// spaces, users and roles, and of IDs that name nothing. Membership IDs are
// each store's own; they are compared with what each store lists.
func TestFactsMatchMemstore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := newTestStore(t)
	mem := memstore.New()
	demo := fixture.Demo()
	// Add a custom role held in a space, which the demo lacks.
	demo.SpaceMembers = append(demo.SpaceMembers, fixture.SpaceMember{
		SpaceID: demo.Spaces[0].ID, UserID: demo.Users[4].ID, Role: membership.Custom(demo.Roles[1].ID),
	})
	for _, s := range []membership.Seeder{pg, mem} {
		if err := fixture.Seed(ctx, s, demo); err != nil {
			t.Fatal(err)
		}
	}

	missing := id("Nothing:1")
	users := []membership.ID{missing}
	for _, u := range demo.Users {
		users = append(users, u.ID)
	}
	spaces := []membership.ID{missing}
	for _, s := range demo.Spaces {
		spaces = append(spaces, s.ID)
	}
	roles := []membership.RoleAssignment{
		membership.Predefined(membership.RoleAdmin),
		membership.Predefined(membership.RoleAnnotator),
		membership.Custom(missing),
	}
	for _, r := range demo.Roles {
		roles = append(roles, membership.Custom(r.ID))
	}

	ignoreIDs := cmp.Options{cmpopts.IgnoreFields(membership.Membership{}, "ID"), cmpopts.IgnoreFields(membership.OrganizationMember{}, "ID")}
	compared := 0
	for _, actor := range users {
		for _, space := range spaces {
			for _, user := range users {
				for _, role := range roles {
					req := membership.AddUserRequest{Actor: actor, SpaceID: space, UserID: user, Role: role}
					want, got := gatherFacts(t, mem, req), gatherFacts(t, pg, req)
					if diff := cmp.Diff(want, got, ignoreIDs); diff != "" {
						t.Fatalf("facts of %+v (-memstore +pgstore):\n%s", req, diff)
					}
					if got.Existing != nil {
						if stored := memberIDs(t, pg, space)[user]; got.Existing.ID != stored {
							t.Fatalf("facts of %+v: existing membership %s, pgstore lists %s", req, got.Existing.ID, stored)
						}
					}
					compared++
				}
			}
		}
	}
	orgs := []membership.ID{missing}
	for _, o := range demo.Organizations {
		orgs = append(orgs, o.ID)
	}
	for _, op := range []membership.Operation{membership.OperationOrgAdd, membership.OperationOrgRemove} {
		for _, actor := range users {
			for _, org := range orgs {
				for _, user := range users {
					q := membership.Query{Operation: op, Actor: actor, OrganizationID: org, UserID: user}
					if op == membership.OperationOrgAdd {
						q.Role = roles[compared%len(roles)]
					}
					want, got := readFacts(t, mem, q), readFacts(t, pg, q)
					if diff := cmp.Diff(want, got, ignoreIDs); diff != "" {
						t.Fatalf("facts of %+v (-memstore +pgstore):\n%s", q, diff)
					}
					compared++
				}
			}
		}
	}
	t.Logf("compared the facts of %d requests", compared)
}

// readFacts returns the facts s reads for q.
func readFacts(t *testing.T, s membership.Store, q membership.Query) *membership.Facts {
	t.Helper()
	f, _, err := s.Read(context.Background(), q)
	if err != nil {
		t.Fatalf("Read(%+v): %v", q, err)
	}
	return f
}

// gatherFacts returns the facts s gives check for req, writing nothing.
func gatherFacts(t *testing.T, s membership.Store, req membership.AddUserRequest) membership.Facts {
	t.Helper()
	var got membership.Facts
	if _, err := upsert(context.Background(), s, req, func(f *membership.Facts) error {
		got = *f
		return errDenied
	}); err != errDenied {
		t.Fatalf("Write(%+v) returned %v, want the check's error", req, err)
	}
	return got
}
