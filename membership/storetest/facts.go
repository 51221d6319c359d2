package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

// factsOf returns the facts the store passes to check for req.
func factsOf(t *testing.T, s Store, req membership.AddUserRequest) membership.Facts {
	t.Helper()
	var got membership.Facts
	_, err := s.UpsertMembership(context.Background(), req, func(f *membership.Facts) error {
		got = *f
		return errDenied
	})
	if err != errDenied {
		t.Fatalf("UpsertMembership returned %v, want the check's error unchanged", err)
	}
	return got
}

func testFacts(t *testing.T, s Store) {
	seed(t, s)
	existing := upsert(t, s, request(target.ID, annotator))
	req := request(target.ID, membership.Custom(binder.ID))
	req.Role.Spelling = membership.SpellingUpper

	got := factsOf(t, s, req)
	want := membership.Facts{
		Operation:              membership.OperationAdd,
		Request:                req,
		Actor:                  &actor,
		Space:                  &space,
		Organization:           &org,
		ActorOrganizationRole:  membership.Grant{Role: orgAdmin},
		ActorSpaceRole:         membership.Grant{Role: membership.Custom(binder.ID), CustomRole: &binder},
		Target:                 &target,
		TargetOrganizationRole: membership.Grant{Role: membership.Custom(reviewer.ID), CustomRole: &reviewer},
		Existing:               &existing,
		CustomRole:             &binder,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
}

func testFactsOfMissingRecords(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	// A custom role held in the organization that does not exist.
	ghost := membership.Custom(id("Role:ghost"))
	if err := s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: org.ID, UserID: outsider.ID, Role: ghost}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  membership.AddUserRequest
		want membership.Facts
	}{{
		name: "no space",
		req:  membership.AddUserRequest{Actor: actor.ID, SpaceID: id("Space:none"), UserID: target.ID, Role: member},
		want: membership.Facts{Actor: &actor, Target: &target},
	}, {
		name: "no actor, no target, no custom role",
		req:  membership.AddUserRequest{Actor: id("User:none"), SpaceID: space.ID, UserID: id("User:none2"), Role: ghost},
		want: membership.Facts{Space: &space, Organization: &org},
	}, {
		name: "custom grant of a missing role",
		req:  membership.AddUserRequest{Actor: outsider.ID, SpaceID: space.ID, UserID: target.ID, Role: member},
		want: membership.Facts{
			Actor: &outsider, Space: &space, Organization: &org, Target: &target,
			ActorOrganizationRole:  membership.Grant{Role: ghost},
			TargetOrganizationRole: membership.Grant{Role: membership.Custom(reviewer.ID), CustomRole: &reviewer},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.Operation, tc.want.Request = membership.OperationAdd, tc.req
			if diff := cmp.Diff(tc.want, factsOf(t, s, tc.req)); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}
