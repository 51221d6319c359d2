package membership_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

const (
	validSpace = "U3BhY2U6MQ=="
	validUser  = "VXNlcjox"
	validRole  = "Um9sZTox"
)

func TestParseAddUserRequest(t *testing.T) {
	t.Parallel()
	actor := id("User:actor")
	for _, tc := range []struct {
		name  string
		space string
		body  string
		want  membership.AddUserRequest
	}{
		{"lower predefined", validSpace, `{"user_id":"VXNlcjox","role":{"type":"predefined","name":"read-only"}}`,
			membership.AddUserRequest{Actor: actor, SpaceID: validSpace, UserID: validUser, Role: membership.Predefined(membership.RoleReadOnly)}},
		{"upper predefined", validSpace, `{"role":{"name":"READ_ONLY","type":"PREDEFINED"},"user_id":"VXNlcjox"}`,
			membership.AddUserRequest{Actor: actor, SpaceID: validSpace, UserID: validUser, Role: membership.RoleAssignment{Kind: membership.RoleKindPredefined, Name: membership.RoleReadOnly, Spelling: membership.SpellingUpper}}},
		{"lower custom", validSpace, `{"user_id":"VXNlcjox","role":{"type":"custom","id":"Um9sZTox"}}`,
			membership.AddUserRequest{Actor: actor, SpaceID: validSpace, UserID: validUser, Role: membership.Custom(validRole)}},
		{"upper custom, whitespace", validSpace, " {\"user_id\" : \"VXNlcjox\",\n \"role\": {\"type\": \"CUSTOM\", \"id\": \"Um9sZTox\"}}\n",
			membership.AddUserRequest{Actor: actor, SpaceID: validSpace, UserID: validUser, Role: membership.RoleAssignment{Kind: membership.RoleKindCustom, ID: validRole, Spelling: membership.SpellingUpper}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := membership.ParseAddUserRequest(actor, tc.space, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAddUserRequestErrors(t *testing.T) {
	t.Parallel()
	actor := id("User:actor")
	for _, tc := range []struct {
		name  string
		actor membership.ID
		space string
		body  string
		want  *membership.Error
		field string
	}{
		// Check 1.
		{"no actor", "", validSpace, `not even json`, membership.ErrUnauthenticated, ""},
		// Check 2: syntax and types.
		{"empty body", actor, validSpace, ``, membership.ErrInvalidJSON, ""},
		{"syntax", actor, validSpace, `{"user_id":`, membership.ErrInvalidJSON, ""},
		{"trailing garbage", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"custom","id":"Um9sZTox"}} x`, membership.ErrInvalidJSON, ""},
		{"array body", actor, validSpace, `[]`, membership.ErrInvalidJSON, ""},
		{"null body", actor, validSpace, `null`, membership.ErrInvalidJSON, ""},
		{"number user_id", actor, validSpace, `{"user_id":5,"role":{"type":"custom","id":"Um9sZTox"}}`, membership.ErrInvalidJSON, "user_id"},
		{"string role", actor, validSpace, `{"user_id":"VXNlcjox","role":"admin"}`, membership.ErrInvalidJSON, "role"},
		{"boolean type", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":true,"name":"admin"}}`, membership.ErrInvalidJSON, "role.type"},
		{"invalid UTF-8", actor, validSpace, "{\"user_id\":\"\xff\"}", membership.ErrInvalidJSON, ""},
		{"type error after a duplicate", actor, validSpace, `{"user_id":"VXNlcjox","user_id":"VXNlcjox","role":7}`, membership.ErrInvalidJSON, "role"},
		// Check 2: IDs.
		{"space id", actor, "U3BhY2U6MQ", `{"user_id":"VXNlcjox","role":{"type":"admin"}}`, membership.ErrInvalidID, "space_id"},
		{"user id", actor, validSpace, `{"user_id":"VXNlcjox!","role":{"type":"predefined","name":"admin"}}`, membership.ErrInvalidID, "user_id"},
		{"empty user id", actor, validSpace, `{"user_id":"","role":{"type":"predefined","name":"admin"}}`, membership.ErrInvalidID, "user_id"},
		{"role id", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"custom","id":"no!pe"}}`, membership.ErrInvalidID, "role.id"},
		{"bad id before unknown field", actor, validSpace, `{"user_id":"x","extra":1}`, membership.ErrInvalidID, "user_id"},
		// Check 3.
		{"no user_id", actor, validSpace, `{"role":{"type":"predefined","name":"admin"}}`, membership.ErrInvalidField, "user_id"},
		{"null user_id", actor, validSpace, `{"user_id":null,"role":{"type":"predefined","name":"admin"}}`, membership.ErrInvalidField, "user_id"},
		{"no role", actor, validSpace, `{"user_id":"VXNlcjox"}`, membership.ErrInvalidField, "role"},
		{"no type", actor, validSpace, `{"user_id":"VXNlcjox","role":{"name":"admin"}}`, membership.ErrInvalidField, "role.type"},
		{"unknown type", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"builtin","name":"admin"}}`, membership.ErrInvalidField, "role.type"},
		{"title-case type", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"Predefined","name":"admin"}}`, membership.ErrInvalidField, "role.type"},
		{"unknown name", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"predefined","name":"owner"}}`, membership.ErrInvalidField, "role.name"},
		{"underscore in lower spelling", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"predefined","name":"read_only"}}`, membership.ErrInvalidField, "role.name"},
		{"mixed spelling", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"PREDEFINED","name":"admin"}}`, membership.ErrInvalidField, "role.name"},
		{"mixed spelling the other way", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"predefined","name":"ADMIN"}}`, membership.ErrInvalidField, "role.name"},
		{"predefined without name", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"predefined"}}`, membership.ErrInvalidField, "role.name"},
		{"predefined with id", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"predefined","name":"admin","id":"Um9sZTox"}}`, membership.ErrInvalidField, "role.id"},
		{"custom without id", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"custom"}}`, membership.ErrInvalidField, "role.id"},
		{"custom with name", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"custom","id":"Um9sZTox","name":"Binder"}}`, membership.ErrInvalidField, "role.name"},
		{"unknown field", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"predefined","name":"admin"},"space_id":"U3BhY2U6MQ=="}`, membership.ErrInvalidField, "space_id"},
		{"unknown role field", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"predefined","name":"admin","scope":"all"}}`, membership.ErrInvalidField, "role.scope"},
		{"case-folded field", actor, validSpace, `{"User_Id":"VXNlcjox","role":{"type":"predefined","name":"admin"}}`, membership.ErrInvalidField, "User_Id"},
		{"duplicate field", actor, validSpace, `{"user_id":"VXNlcjox","user_id":"VXNlcjoy","role":{"type":"predefined","name":"admin"}}`, membership.ErrInvalidField, "user_id"},
		{"duplicate role field", actor, validSpace, `{"user_id":"VXNlcjox","role":{"type":"predefined","name":"admin","name":"member"}}`, membership.ErrInvalidField, "role.name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := membership.ParseAddUserRequest(tc.actor, tc.space, []byte(tc.body))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %s", err, tc.want.Code)
			}
			var e *membership.Error
			if errors.As(err, &e); e.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", e.Field, tc.field, err)
			}
		})
	}
}

func TestRoleAssignmentJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		role membership.RoleAssignment
		json string
	}{
		{"lower predefined", membership.Predefined(membership.RoleReadOnly), `{"type":"predefined","name":"read-only"}`},
		{"upper predefined", membership.RoleAssignment{Kind: membership.RoleKindPredefined, Name: membership.RoleAnnotator, Spelling: membership.SpellingUpper}, `{"type":"PREDEFINED","name":"ANNOTATOR"}`},
		{"lower custom", membership.Custom(validRole), `{"type":"custom","id":"Um9sZTox"}`},
		{"upper custom", membership.RoleAssignment{Kind: membership.RoleKindCustom, ID: validRole, Spelling: membership.SpellingUpper}, `{"type":"CUSTOM","id":"Um9sZTox"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.role.MarshalJSON()
			if err != nil || string(got) != tc.json {
				t.Fatalf("MarshalJSON = %s, %v; want %s", got, err, tc.json)
			}
			var back membership.RoleAssignment
			if err := back.UnmarshalJSON(got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.role, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	var bad membership.RoleAssignment
	if _, err := bad.MarshalJSON(); !errors.Is(err, membership.ErrInvalidField) {
		t.Errorf("marshalling the zero RoleAssignment: %v, want ErrInvalidField", err)
	}
}

func FuzzParseAddUserRequest(f *testing.F) {
	for _, s := range []string{
		`{"user_id":"VXNlcjox","role":{"type":"predefined","name":"read-only"}}`,
		`{"user_id":"VXNlcjox","role":{"type":"CUSTOM","id":"Um9sZTox"}}`,
		`{"user_id":"VXNlcjox","user_id":1}`,
		`{"role":{"type":"PREDEFINED","name":"admin"}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, err := membership.ParseAddUserRequest(id("User:actor"), validSpace, []byte(body))
		if err != nil {
			var e *membership.Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 {
				t.Fatalf("error %v is not a 4xx *Error", err)
			}
			return
		}
		if err := req.Validate(); err != nil {
			t.Fatalf("parsed request fails Validate: %v", err)
		}
		// The role answers in the spelling it arrived in.
		out, err := req.Role.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back membership.RoleAssignment
		if err := back.UnmarshalJSON(out); err != nil || back != req.Role {
			t.Fatalf("role %s does not round-trip: %+v, %v", out, back, err)
		}
	})
}
