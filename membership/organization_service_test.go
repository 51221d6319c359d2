package membership_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/memstore"
)

func orgAdd(actor, orgID, userID membership.ID, role membership.RoleAssignment) membership.AddOrganizationUserRequest {
	return membership.AddOrganizationUserRequest{Actor: actor, OrganizationID: orgID, UserID: userID, Role: role}
}

func orgRemove(actor, orgID, userID membership.ID) membership.RemoveOrganizationUserRequest {
	return membership.RemoveOrganizationUserRequest{Actor: actor, OrganizationID: orgID, UserID: userID}
}

// organizationMember reads the membership of userID in orgID straight from
// the store, nil when there is none.
func organizationMember(t *testing.T, s *memstore.Store, orgID, userID membership.ID) *membership.OrganizationMember {
	t.Helper()
	f, _, err := s.Read(context.Background(), membership.Query{Operation: membership.OperationOrgRemove, Actor: userID, OrganizationID: orgID, UserID: userID})
	if err != nil {
		t.Fatal(err)
	}
	return f.TargetOrganizationMember
}

// orgState is what an organization operation may change: the target's
// organization membership and the memberships of every space.
type orgState struct {
	Member *membership.OrganizationMember
	Spaces map[membership.ID]map[membership.ID]membership.Membership
}

func readOrgState(t *testing.T, s *memstore.Store, orgID, userID membership.ID) orgState {
	t.Helper()
	st := orgState{Member: organizationMember(t, s, orgID, userID), Spaces: map[membership.ID]map[membership.ID]membership.Membership{}}
	for _, sp := range []membership.ID{spaceS, spaceP, spaceB} {
		st.Spaces[sp] = spaceMembers(t, s, sp)
	}
	return st
}

type orgCase struct {
	name string
	// run performs the operation; a nil want means it must succeed.
	run  func(context.Context, *membership.Service) error
	org  membership.ID
	user membership.ID
	want *membership.Error
}

func addCase(name string, req membership.AddOrganizationUserRequest, want *membership.Error) orgCase {
	return orgCase{name: name, org: req.OrganizationID, user: req.UserID, want: want, run: func(ctx context.Context, svc *membership.Service) error {
		_, err := svc.AddUserToOrganization(ctx, req)
		return err
	}}
}

func removeCaseOf(name string, req membership.RemoveOrganizationUserRequest, want *membership.Error) orgCase {
	return orgCase{name: name, org: req.OrganizationID, user: req.UserID, want: want, run: func(ctx context.Context, svc *membership.Service) error {
		return svc.RemoveUserFromOrganization(ctx, req)
	}}
}

// runOrgCases runs each case on a fresh world through the whole stack and
// checks that a failure has its class and status and writes nothing.
func runOrgCases(t *testing.T, cases []orgCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store, svc := newWorld(t)
			before := readOrgState(t, store, tc.org, tc.user)
			err := tc.run(context.Background(), svc)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("%v, want success", err)
				}
				return
			}
			var e *membership.Error
			if !errors.Is(err, tc.want) || !errors.As(err, &e) || e.Status != tc.want.Status {
				t.Fatalf("%v, want %d %s", err, tc.want.Status, tc.want.Code)
			}
			if p := membership.ProblemFor(err); p.ErrorCode != tc.want.Code || p.Status != tc.want.Status || p.Detail == "" {
				t.Errorf("problem document %+v does not answer %s", p, tc.want.Code)
			}
			if diff := cmp.Diff(before, readOrgState(t, store, tc.org, tc.user)); diff != "" {
				t.Errorf("a refused request wrote (-before +after):\n%s", diff)
			}
		})
	}
}

func TestAddUserToOrganizationChecks(t *testing.T) {
	runOrgCases(t, []orgCase{
		// 1: an actor is present.
		addCase("no actor", orgAdd("", orgO, stranger, member), membership.ErrUnauthenticated),
		addCase("actor that is no user", orgAdd(missing, orgO, stranger, member), membership.ErrUnauthenticated),
		// 2 and 3: ids and fields.
		addCase("organization id", orgAdd(accountAdmin, "O", stranger, member), membership.ErrInvalidID),
		addCase("user id", orgAdd(accountAdmin, orgO, "not base64!", member), membership.ErrInvalidID),
		addCase("no user", orgAdd(accountAdmin, orgO, "", member), membership.ErrInvalidField),
		addCase("no role", orgAdd(accountAdmin, orgO, stranger, membership.RoleAssignment{}), membership.ErrInvalidField),
		// 4: the organization is visible.
		addCase("no such organization", orgAdd(accountAdmin, missing, stranger, member), membership.ErrOrganizationNotFound),
		addCase("organization of another account", orgAdd(userB, orgO, stranger, member), membership.ErrOrganizationNotFound),
		addCase("organization the actor is not in", orgAdd(stranger, orgO, target, member), membership.ErrOrganizationNotFound),
		// 5: organization admin.
		addCase("by the account admin", orgAdd(accountAdmin, orgO, stranger, member), nil),
		addCase("by the organization admin", orgAdd(orgAdmin, orgO, stranger, readOnly), nil),
		addCase("by a space admin", orgAdd(spaceAdmin, orgO, stranger, member), membership.ErrForbidden),
		addCase("by a holder of ROLE_BINDING_CREATE", orgAdd(orgBinder, orgO, stranger, member), membership.ErrForbidden),
		addCase("a custom role by an organization reader", orgAdd(orgReader, orgO, stranger, customBind), membership.ErrForbidden),
		// 6: the target exists in the account.
		addCase("no such user", orgAdd(accountAdmin, orgO, missing, member), membership.ErrUserNotFound),
		addCase("user of another account", orgAdd(accountAdmin, orgO, userB, member), membership.ErrUserNotFound),
		// 7: the custom role exists in the account.
		addCase("custom role", orgAdd(orgAdmin, orgO, stranger, customBind), nil),
		addCase("no such custom role", orgAdd(accountAdmin, orgO, stranger, membership.Custom(missing)), membership.ErrRoleNotFound),
		addCase("custom role of another account", orgAdd(accountAdmin, orgO, stranger, membership.Custom(roleB)), membership.ErrRoleNotFound),
		// 8 and 9: the annotator pairing.
		addCase("annotator as annotator", orgAdd(accountAdmin, orgO, annotatorU, annotator), nil),
		addCase("annotator as member", orgAdd(accountAdmin, orgO, annotatorU, member), membership.ErrAnnotatorRoleRequired),
		addCase("annotator with a custom role", orgAdd(accountAdmin, orgO, annotatorU, customBind), membership.ErrAnnotatorRoleRequired),
		addCase("member as annotator", orgAdd(accountAdmin, orgO, stranger, annotator), membership.ErrAnnotatorRoleNotAllowed),
	})
}

func TestRemoveUserFromOrganizationChecks(t *testing.T) {
	runOrgCases(t, []orgCase{
		removeCaseOf("no actor", orgRemove("", orgO, target), membership.ErrUnauthenticated),
		removeCaseOf("organization id", orgRemove(accountAdmin, "O", target), membership.ErrInvalidID),
		removeCaseOf("user id", orgRemove(accountAdmin, orgO, ""), membership.ErrInvalidID),
		removeCaseOf("no such organization", orgRemove(accountAdmin, missing, target), membership.ErrOrganizationNotFound),
		removeCaseOf("organization of another account", orgRemove(userB, orgO, target), membership.ErrOrganizationNotFound),
		removeCaseOf("organization the actor is not in", orgRemove(stranger, orgO, target), membership.ErrOrganizationNotFound),
		removeCaseOf("by the account admin", orgRemove(accountAdmin, orgO, target), nil),
		removeCaseOf("by the organization admin", orgRemove(orgAdmin, orgO, spaceMember), nil),
		removeCaseOf("by a space admin", orgRemove(spaceAdmin, orgO, spaceMember), membership.ErrForbidden),
		removeCaseOf("by a holder of ROLE_BINDING_DELETE", orgRemove(orgRemover, orgO, target), membership.ErrForbidden),
		removeCaseOf("no such user", orgRemove(accountAdmin, orgO, missing), membership.ErrUserNotFound),
		removeCaseOf("user of another account", orgRemove(accountAdmin, orgO, userB), membership.ErrUserNotFound),
		removeCaseOf("not a member", orgRemove(accountAdmin, orgO, stranger), membership.ErrMembershipNotFound),
	})
}

// TestOrganizationCheckOrder pairs failures so that each must lose to the
// earlier check.
func TestOrganizationCheckOrder(t *testing.T) {
	runOrgCases(t, []orgCase{
		addCase("1 before 2", orgAdd("", "bad", "bad", member), membership.ErrUnauthenticated),
		addCase("4 before 5: a stranger learns nothing of the organization", orgAdd(stranger, orgO, missing, member), membership.ErrOrganizationNotFound),
		addCase("5 before 6: a non-admin learns nothing of users", orgAdd(orgReader, orgO, missing, member), membership.ErrForbidden),
		addCase("5 before 7", orgAdd(orgReader, orgO, stranger, membership.Custom(missing)), membership.ErrForbidden),
		addCase("6 before 7", orgAdd(accountAdmin, orgO, missing, membership.Custom(missing)), membership.ErrUserNotFound),
		addCase("7 before 8", orgAdd(accountAdmin, orgO, annotatorU, membership.Custom(missing)), membership.ErrRoleNotFound),
		removeCaseOf("3 before 4", orgRemove(stranger, orgO, missing), membership.ErrOrganizationNotFound),
		removeCaseOf("4 before 5", orgRemove(orgReader, orgO, missing), membership.ErrForbidden),
		removeCaseOf("4 before 6", orgRemove(orgReader, orgO, stranger), membership.ErrForbidden),
		removeCaseOf("5 before 6", orgRemove(orgAdmin, orgO, missing), membership.ErrUserNotFound),
	})
}

// TestAddUserToOrganizationUpserts: a new membership gets an id, a role
// change keeps it, the same role again changes nothing, and the answer uses
// the request's spelling.
func TestAddUserToOrganizationUpserts(t *testing.T) {
	t.Parallel()
	store, svc := newWorld(t)
	ctx := context.Background()
	upper := membership.RoleAssignment{Kind: membership.RoleKindPredefined, Name: membership.RoleReadOnly, Spelling: membership.SpellingUpper}
	first, err := svc.AddUserToOrganization(ctx, orgAdd(orgAdmin, orgO, stranger, upper))
	if err != nil {
		t.Fatal(err)
	}
	if !first.ID.Valid() || first.OrganizationID != orgO || first.UserID != stranger || first.Role != upper {
		t.Errorf("first add returned %+v", first)
	}
	spaces := readOrgState(t, store, orgO, stranger).Spaces
	changed, err := svc.AddUserToOrganization(ctx, orgAdd(orgAdmin, orgO, stranger, member))
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.AddUserToOrganization(ctx, orgAdd(orgAdmin, orgO, stranger, member))
	if err != nil {
		t.Fatal(err)
	}
	if changed.ID != first.ID || again != changed || !changed.Role.SameRole(member) {
		t.Errorf("role change %+v and repeat %+v, want the id %q kept and the member role", changed, again, first.ID)
	}
	if got := organizationMember(t, store, orgO, stranger); got == nil || got.ID != first.ID || !got.Role.SameRole(member) {
		t.Errorf("stored %+v, want id %q with the member role", got, first.ID)
	}
	if diff := cmp.Diff(spaces, readOrgState(t, store, orgO, stranger).Spaces); diff != "" {
		t.Errorf("an organization add touched space memberships (-before +after):\n%s", diff)
	}
}

// TestRemoveUserFromOrganizationCascades: the removal takes the user's
// memberships of every space of the organization, leaves everyone else's,
// and a second removal answers membership_not_found.
func TestRemoveUserFromOrganizationCascades(t *testing.T) {
	t.Parallel()
	store, svc := newWorld(t)
	ctx := context.Background()
	before := readOrgState(t, store, orgO, spaceAdmin)
	if err := svc.RemoveUserFromOrganization(ctx, orgRemove(orgAdmin, orgO, spaceAdmin)); err != nil {
		t.Fatal(err)
	}
	want := orgState{Spaces: map[membership.ID]map[membership.ID]membership.Membership{}}
	for sp, members := range before.Spaces {
		want.Spaces[sp] = map[membership.ID]membership.Membership{}
		for u, m := range members {
			if u != spaceAdmin {
				want.Spaces[sp][u] = m
			}
		}
	}
	if len(want.Spaces[spaceS]) == len(before.Spaces[spaceS]) || len(want.Spaces[spaceP]) == len(before.Spaces[spaceP]) {
		t.Fatal("the world gives the user no membership of both spaces; the test would prove nothing")
	}
	if diff := cmp.Diff(want, readOrgState(t, store, orgO, spaceAdmin)); diff != "" {
		t.Errorf("after the cascade (-want +got):\n%s", diff)
	}
	err := svc.RemoveUserFromOrganization(ctx, orgRemove(orgAdmin, orgO, spaceAdmin))
	if !errors.Is(err, membership.ErrMembershipNotFound) {
		t.Errorf("second removal: %v, want membership_not_found", err)
	}
	if p := membership.ProblemFor(err); p.Detail != "the user is not a member of the organization" {
		t.Errorf("second removal's detail %q does not speak of the organization", p.Detail)
	}
	// No longer in the organization: a space add is refused.
	if _, err := svc.AddUserToSpace(ctx, add(accountAdmin, spaceS, spaceAdmin, member)); !errors.Is(err, membership.ErrUserNotInOrganization) {
		t.Errorf("adding the removed user to a space: %v, want user_not_in_organization", err)
	}
}
