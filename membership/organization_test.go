package membership_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

const validOrganization = "T3JnOjE="

func TestParseAddOrganizationUserRequest(t *testing.T) {
	t.Parallel()
	actor := id("User:actor")
	got, err := membership.ParseAddOrganizationUserRequest(actor, validOrganization, []byte(`{"role":{"type":"PREDEFINED","name":"ANNOTATOR"},"user_id":"VXNlcjox"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := membership.AddOrganizationUserRequest{Actor: actor, OrganizationID: validOrganization, UserID: validUser,
		Role: membership.RoleAssignment{Kind: membership.RoleKindPredefined, Name: membership.RoleAnnotator, Spelling: membership.SpellingUpper}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if q := got.Query(); q.Operation != membership.OperationOrgAdd || q.OrganizationID != validOrganization || q.SpaceID != "" {
		t.Errorf("Query() = %+v, want an org_add of the organization and no space", q)
	}
}

// TestOrganizationInputChecks runs the input checks of both organization
// operations in their order: the actor, then the ids, then the fields.
func TestOrganizationInputChecks(t *testing.T) {
	t.Parallel()
	actor := id("User:actor")
	add := func(a membership.ID, org, body string) error {
		_, err := membership.ParseAddOrganizationUserRequest(a, org, []byte(body))
		return err
	}
	remove := func(a membership.ID, org, user string) error {
		_, err := membership.ParseRemoveOrganizationUserRequest(a, org, user)
		return err
	}
	for _, tc := range []struct {
		name  string
		err   error
		want  *membership.Error
		field string
	}{
		{"add: no actor, bad everything", add("", "not an id", `{`), membership.ErrUnauthenticated, ""},
		{"add: bad JSON before a bad organization id", add(actor, "not an id", `{"user_id": 1}`), membership.ErrInvalidJSON, "user_id"},
		{"add: bad organization id", add(actor, "not an id", `{"user_id":"VXNlcjox"}`), membership.ErrInvalidID, "organization_id"},
		{"add: bad user id", add(actor, validOrganization, `{"user_id":"%%","role":{"type":"predefined","name":"member"}}`), membership.ErrInvalidID, "user_id"},
		{"add: bad custom role id", add(actor, validOrganization, `{"user_id":"VXNlcjox","role":{"type":"custom","id":"%%"}}`), membership.ErrInvalidID, "role.id"},
		{"add: no user", add(actor, validOrganization, `{"role":{"type":"predefined","name":"member"}}`), membership.ErrInvalidField, "user_id"},
		{"add: unknown member", add(actor, validOrganization, `{"user_id":"VXNlcjox","role":{"type":"predefined","name":"member"},"space_id":"x"}`), membership.ErrInvalidField, "space_id"},
		{"add: mixed spelling", add(actor, validOrganization, `{"user_id":"VXNlcjox","role":{"type":"PREDEFINED","name":"member"}}`), membership.ErrInvalidField, "role.name"},
		{"remove: no actor", remove("", "not an id", "not an id"), membership.ErrUnauthenticated, ""},
		{"remove: bad organization id", remove(actor, "not an id", "not an id"), membership.ErrInvalidID, "organization_id"},
		{"remove: bad user id", remove(actor, validOrganization, "not an id"), membership.ErrInvalidID, "user_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var e *membership.Error
			if !errors.As(tc.err, &e) || !errors.Is(tc.err, tc.want) {
				t.Fatalf("error %v, want %s", tc.err, tc.want.Code)
			}
			if e.Field != tc.field {
				t.Errorf("field %q, want %q", e.Field, tc.field)
			}
		})
	}
}
