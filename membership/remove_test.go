package membership_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

func remove(actor, spaceID, userID membership.ID) membership.RemoveUserRequest {
	return membership.RemoveUserRequest{Actor: actor, SpaceID: spaceID, UserID: userID}
}

// runRemoves runs removes through the whole stack (default policy,
// memstore), each on a fresh world, and asserts the outcome: a success
// removes exactly that membership, a failure removes nothing.
func runRemoves(t *testing.T, cases []struct {
	name string
	req  membership.RemoveUserRequest
	want *membership.Error
}) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store, svc := newWorld(t)
			before := spaceMembers(t, store, spaceS)
			err := svc.RemoveUserFromSpace(context.Background(), tc.req)
			want := before
			if tc.want == nil {
				if err != nil {
					t.Fatalf("RemoveUserFromSpace: %v, want success", err)
				}
				want = map[membership.ID]membership.Membership{}
				for u, m := range before {
					if u != tc.req.UserID || tc.req.SpaceID != spaceS {
						want[u] = m
					}
				}
			} else {
				if !errors.Is(err, tc.want) {
					t.Fatalf("RemoveUserFromSpace: %v, want %s", err, tc.want.Code)
				}
				var e *membership.Error
				if !errors.As(err, &e) || e.Status != tc.want.Status {
					t.Errorf("error %v has status %d, want %d", err, e.Status, tc.want.Status)
				}
			}
			if diff := cmp.Diff(want, spaceMembers(t, store, spaceS)); diff != "" {
				t.Errorf("memberships of the space (-want +got):\n%s", diff)
			}
		})
	}
}

type removeCase = struct {
	name string
	req  membership.RemoveUserRequest
	want *membership.Error
}

func TestRemoveChecks(t *testing.T) {
	runRemoves(t, []removeCase{
		// 1: an actor is present.
		{"no actor", remove("", spaceS, spaceMember), membership.ErrUnauthenticated},
		{"actor that is no user", remove(missing, spaceS, spaceMember), membership.ErrUnauthenticated},
		// 2: the ids are IDs.
		{"space id", remove(accountAdmin, "S", spaceMember), membership.ErrInvalidID},
		{"user id", remove(accountAdmin, spaceS, "not base64!"), membership.ErrInvalidID},
		{"empty user id", remove(accountAdmin, spaceS, ""), membership.ErrInvalidID},
		// 3: the space is visible.
		{"no such space", remove(accountAdmin, missing, spaceMember), membership.ErrSpaceNotFound},
		{"space of another account", remove(userB, spaceS, spaceMember), membership.ErrSpaceNotFound},
		{"private space to an organization reader", remove(orgReader, spaceP, spaceAdmin), membership.ErrSpaceNotFound},
		// 4: space admin, or ROLE_BINDING_DELETE; a space ADMIN only by a space admin.
		{"by the account admin", remove(accountAdmin, spaceS, spaceMember), nil},
		{"by the organization admin", remove(orgAdmin, spaceS, spaceMember), nil},
		{"by a space admin", remove(spaceAdmin, spaceS, spaceMember), nil},
		{"by a holder of ROLE_BINDING_DELETE", remove(orgRemover, spaceS, spaceMember), nil},
		{"by a holder of ROLE_BINDING_CREATE only", remove(orgBinder, spaceS, spaceMember), membership.ErrForbidden},
		{"by a space member", remove(spaceMember, spaceS, spaceBinder), membership.ErrForbidden},
		{"by an organization reader", remove(orgReader, spaceS, spaceMember), membership.ErrForbidden},
		{"a space admin by a holder of ROLE_BINDING_DELETE", remove(orgRemover, spaceS, spaceAdmin), membership.ErrForbidden},
		{"a space admin by the organization admin", remove(orgAdmin, spaceS, spaceAdmin), nil},
		{"oneself, as a space admin", remove(spaceAdmin, spaceS, spaceAdmin), nil},
		// 5: the user exists in the account.
		{"no such user", remove(accountAdmin, spaceS, missing), membership.ErrUserNotFound},
		{"user of another account", remove(accountAdmin, spaceS, userB), membership.ErrUserNotFound},
		// 6: the user is a member of the space.
		{"not a member", remove(accountAdmin, spaceS, target), membership.ErrMembershipNotFound},
		{"member of another space only", remove(accountAdmin, spaceP, spaceMember), membership.ErrMembershipNotFound},
	})
}

// TestRemoveCheckOrder pairs failures so that each must lose to the earlier
// check.
func TestRemoveCheckOrder(t *testing.T) {
	runRemoves(t, []removeCase{
		{"1 before 2", remove("", "bad", "bad"), membership.ErrUnauthenticated},
		{"2: space id before user id", remove(accountAdmin, "bad", "bad"), membership.ErrInvalidID},
		{"3 before 4", remove(orgReader, spaceP, spaceAdmin), membership.ErrSpaceNotFound},
		{"4 before 5: a caller without authority learns nothing of users", remove(orgReader, spaceS, missing), membership.ErrForbidden},
		{"4 before 6: nor of memberships", remove(orgBinder, spaceS, target), membership.ErrForbidden},
		{"5 before 6", remove(orgRemover, spaceS, missing), membership.ErrUserNotFound},
	})
}

// TestRemoveTwice: the second remove answers membership_not_found; the
// user keeps their account and organization role.
func TestRemoveTwice(t *testing.T) {
	t.Parallel()
	_, svc := newWorld(t)
	ctx := context.Background()
	if err := svc.RemoveUserFromSpace(ctx, remove(accountAdmin, spaceS, spaceMember)); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveUserFromSpace(ctx, remove(accountAdmin, spaceS, spaceMember)); !errors.Is(err, membership.ErrMembershipNotFound) {
		t.Errorf("second remove: %v, want membership_not_found", err)
	}
	// Still in the organization: an add succeeds without enrolment.
	if _, err := svc.AddUserToSpace(ctx, add(accountAdmin, spaceS, spaceMember, member)); err != nil {
		t.Errorf("adding the removed user again: %v", err)
	}
}
