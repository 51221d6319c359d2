package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

// factsOf returns the facts the store reads for q, through Read and through
// Write, which must agree.
func factsOf(t *testing.T, s Store, q membership.Query) membership.Facts {
	t.Helper()
	var written membership.Facts
	_, err := writeSpace(context.Background(), s, q, func(f *membership.Facts) (membership.Change, error) {
		written = *f
		return membership.Change{}, errDenied
	})
	if err != errDenied {
		t.Fatalf("Write returned %v, want decide's error unchanged", err)
	}
	read, _, err := s.Read(context.Background(), q)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if diff := cmp.Diff(written, *read); diff != "" {
		t.Errorf("Read and Write read different facts (-write +read):\n%s", diff)
	}
	return written
}

func testFacts(t *testing.T, s Store) {
	seed(t, s)
	existing := upsert(t, s, target.ID, annotator)
	q := addQuery(target.ID, membership.Custom(binder.ID))
	q.Role.Spelling = membership.SpellingUpper

	got := factsOf(t, s, q)
	targetOrg := seededOrgMember(t, got.TargetOrganizationMember, org.ID, target.ID, membership.Custom(reviewer.ID))
	want := membership.Facts{
		Query:                    q,
		Actor:                    &actor,
		Space:                    &space,
		Organization:             &org,
		ActorOrganizationRole:    membership.Grant{Role: orgAdmin},
		ActorSpaceRole:           membership.Grant{Role: membership.Custom(binder.ID), CustomRole: &binder},
		Target:                   &target,
		TargetOrganizationRole:   membership.Grant{Role: membership.Custom(reviewer.ID), CustomRole: &reviewer},
		TargetOrganizationMember: targetOrg,
		Existing:                 &existing,
		CustomRole:               &binder,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
}

// seededOrgMember returns the organization membership that the world
// seeded, as facts should hold it: got's store-generated id, which must be
// an ID, with the rest as seeded.
func seededOrgMember(t *testing.T, got *membership.OrganizationMember, orgID, user membership.ID, role membership.RoleAssignment) *membership.OrganizationMember {
	t.Helper()
	m := &membership.OrganizationMember{OrganizationID: orgID, UserID: user, Role: role}
	if got == nil {
		t.Errorf("facts hold no membership of %s in organization %s", user, orgID)
		return m
	}
	if !got.ID.Valid() {
		t.Errorf("organization membership id %q is not an ID", got.ID)
	}
	m.ID = got.ID
	return m
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
		name  string
		query membership.Query
		want  membership.Facts
	}{{
		name:  "no space",
		query: membership.Query{Operation: membership.OperationAdd, Actor: actor.ID, SpaceID: id("Space:none"), UserID: target.ID, Role: member},
		want:  membership.Facts{Actor: &actor, Target: &target},
	}, {
		name:  "no actor, no target, no custom role",
		query: membership.Query{Operation: membership.OperationAdd, Actor: id("User:none"), SpaceID: space.ID, UserID: id("User:none2"), Role: ghost},
		want:  membership.Facts{Space: &space, Organization: &org},
	}, {
		name:  "custom grant of a missing role",
		query: membership.Query{Operation: membership.OperationAdd, Actor: outsider.ID, SpaceID: space.ID, UserID: target.ID, Role: member},
		want: membership.Facts{
			Actor: &outsider, Space: &space, Organization: &org, Target: &target,
			ActorOrganizationRole:  membership.Grant{Role: ghost},
			TargetOrganizationRole: membership.Grant{Role: membership.Custom(reviewer.ID), CustomRole: &reviewer},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.Query = tc.query
			got := factsOf(t, s, tc.query)
			if tc.want.TargetOrganizationRole.Held() {
				tc.want.TargetOrganizationMember = seededOrgMember(t, got.TargetOrganizationMember, org.ID, tc.query.UserID, tc.want.TargetOrganizationRole.Role)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

// testFactsOfEachOperation: a remove reads no requested role, a list no
// target; the page comes with the facts.
func testFactsOfEachOperation(t *testing.T, s Store) {
	seed(t, s)
	existing := upsert(t, s, target.ID, annotator)
	common := membership.Facts{
		Actor:                 &actor,
		Space:                 &space,
		Organization:          &org,
		ActorOrganizationRole: membership.Grant{Role: orgAdmin},
		ActorSpaceRole:        membership.Grant{Role: membership.Custom(binder.ID), CustomRole: &binder},
	}
	removal := common
	removal.Query = removeQuery(target.ID)
	removal.Target = &target
	removal.TargetOrganizationRole = membership.Grant{Role: membership.Custom(reviewer.ID), CustomRole: &reviewer}
	removal.Existing = &existing
	got := factsOf(t, s, removal.Query)
	removal.TargetOrganizationMember = seededOrgMember(t, got.TargetOrganizationMember, org.ID, target.ID, membership.Custom(reviewer.ID))
	if diff := cmp.Diff(removal, got); diff != "" {
		t.Errorf("facts of a remove (-want +got):\n%s", diff)
	}

	list := common
	list.Query = listQuery("", 10)
	f, page, err := s.Read(context.Background(), list.Query)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(list, *f); diff != "" {
		t.Errorf("facts of a list (-want +got):\n%s", diff)
	}
	if len(page.Members) != 2 || page.More {
		t.Errorf("page %+v, want the actor's and the target's memberships and no more", page)
	}
	if f, page, err := s.Read(context.Background(), removal.Query); err != nil || len(page.Members) != 0 || page.More || f.Existing == nil {
		t.Errorf("Read without a page = %+v, %+v, %v; want facts and no page", f, page, err)
	}
}
