package policy

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/spaceauthz/spaceauthz/internal/golden"
	"github.com/spaceauthz/spaceauthz/membership"
)

func testID(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

func decodeTestID(id membership.ID) string {
	raw, err := base64.StdEncoding.DecodeString(string(id))
	if err != nil {
		return ""
	}
	return string(raw)
}

// TestInputDocument pins the input document the package doc describes, for
// facts with every field set, and for facts with nothing found.
func TestInputDocument(t *testing.T) {
	t.Parallel()
	account := testID("Account:1")
	binder := &membership.CustomRole{ID: testID("Role:1"), AccountID: account, Name: "Binder", Permissions: []membership.Permission{membership.PermissionRoleBindingCreate}}
	full := &membership.Facts{
		Query: membership.Query{Operation: membership.OperationAdd, Actor: testID("User:1"), SpaceID: testID("Space:1"), UserID: testID("User:2"),
			Role: membership.RoleAssignment{Kind: membership.RoleKindCustom, ID: binder.ID, Spelling: membership.SpellingLower}},
		Actor:                  &membership.User{ID: testID("User:1"), AccountID: account, Name: "Ada", Email: "ada@example.com", Role: membership.AccountMember},
		Space:                  &membership.Space{ID: testID("Space:1"), OrganizationID: testID("Org:1"), Name: "llm-evals", IsPrivate: true},
		Organization:           &membership.Organization{ID: testID("Org:1"), AccountID: account, Name: "Research"},
		ActorOrganizationRole:  membership.Grant{Role: membership.Custom(binder.ID), CustomRole: binder},
		ActorSpaceRole:         membership.Grant{Role: membership.Predefined(membership.RoleAdmin)},
		Target:                 &membership.User{ID: testID("User:2"), AccountID: account, Name: "Ann", Email: "ann@example.com", Role: membership.AccountAnnotator},
		TargetOrganizationRole: membership.Grant{Role: membership.Predefined(membership.RoleReadOnly)},
		Existing:               &membership.Membership{ID: testID("Membership:1"), UserID: testID("User:2"), SpaceID: testID("Space:1"), Role: membership.Predefined(membership.RoleAnnotator)},
		CustomRole:             binder,
	}
	empty := &membership.Facts{Query: membership.Query{Operation: membership.OperationList, Actor: testID("User:9"), SpaceID: testID("Space:9")}}

	var out []byte
	for _, f := range []*membership.Facts{full, empty} {
		raw, err := json.MarshalIndent(InputDocument(f), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, raw...), '\n')
	}
	golden.Check(t, "input.golden", out)
}
