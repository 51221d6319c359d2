package membership_test

import (
	"context"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The test world: account A with organization O, public space S and private
// space P; one user per way of holding (or lacking) authority; and account B
// with records that A must never see.
var (
	acctA, acctB = id("Account:A"), id("Account:B")
	orgO, orgB   = id("Org:O"), id("Org:B")
	spaceS       = id("Space:S")
	spaceP       = id("Space:P")
	spaceB       = id("Space:B")
	binder       = id("Role:binder")
	reviewer     = id("Role:reviewer")
	remover      = id("Role:remover")
	roleB        = id("Role:B")

	accountAdmin = id("User:account-admin") // account ADMIN, in no organization
	orgAdmin     = id("User:org-admin")     // organization predefined ADMIN
	spaceAdmin   = id("User:space-admin")   // predefined ADMIN member of S
	orgBinder    = id("User:org-binder")    // custom Binder role on O
	orgRemover   = id("User:org-remover")   // custom Remover role on O
	spaceBinder  = id("User:space-binder")  // custom Binder role on S
	spaceMember  = id("User:space-member")  // predefined MEMBER of S
	orgReader    = id("User:org-reader")    // READ_ONLY on O, in no space
	target       = id("User:target")        // MEMBER of O
	annotatorU   = id("User:annotator")     // account ANNOTATOR, MEMBER of O
	stranger     = id("User:stranger")      // not in O
	userB        = id("User:B")             // account ADMIN of B
	missing      = id("Nothing:here")
)

var (
	admin      = membership.Predefined(membership.RoleAdmin)
	member     = membership.Predefined(membership.RoleMember)
	readOnly   = membership.Predefined(membership.RoleReadOnly)
	annotator  = membership.Predefined(membership.RoleAnnotator)
	customBind = membership.Custom(binder)
)

func user(uid, account membership.ID, role membership.AccountRole) membership.User {
	return membership.User{ID: uid, AccountID: account, Name: "name", Email: "user@example.com", Role: role}
}

func world() *fixture.Fixture {
	orgMember := func(org, u membership.ID, r membership.RoleAssignment) membership.OrganizationMember {
		return membership.OrganizationMember{OrganizationID: org, UserID: u, Role: r}
	}
	spaceMemberOf := func(s, u membership.ID, r membership.RoleAssignment) fixture.SpaceMember {
		return fixture.SpaceMember{SpaceID: s, UserID: u, Role: r}
	}
	return &fixture.Fixture{
		Accounts: []membership.Account{{ID: acctA}, {ID: acctB}},
		Users: []membership.User{
			user(accountAdmin, acctA, membership.AccountAdmin),
			user(orgAdmin, acctA, membership.AccountMember),
			user(spaceAdmin, acctA, membership.AccountMember),
			user(orgBinder, acctA, membership.AccountMember),
			user(orgRemover, acctA, membership.AccountMember),
			user(spaceBinder, acctA, membership.AccountMember),
			user(spaceMember, acctA, membership.AccountMember),
			user(orgReader, acctA, membership.AccountMember),
			user(target, acctA, membership.AccountMember),
			user(annotatorU, acctA, membership.AccountAnnotator),
			user(stranger, acctA, membership.AccountMember),
			user(userB, acctB, membership.AccountAdmin),
		},
		Organizations: []membership.Organization{
			{ID: orgO, AccountID: acctA, Name: "O"},
			{ID: orgB, AccountID: acctB, Name: "B"},
		},
		OrganizationMembers: []membership.OrganizationMember{
			orgMember(orgO, orgAdmin, admin),
			orgMember(orgO, spaceAdmin, member),
			orgMember(orgO, orgBinder, customBind),
			orgMember(orgO, orgRemover, membership.Custom(remover)),
			orgMember(orgO, spaceBinder, member),
			orgMember(orgO, spaceMember, member),
			orgMember(orgO, orgReader, readOnly),
			orgMember(orgO, target, member),
			orgMember(orgO, annotatorU, member),
			orgMember(orgB, userB, admin),
		},
		Spaces: []membership.Space{
			{ID: spaceS, OrganizationID: orgO, Name: "S"},
			{ID: spaceP, OrganizationID: orgO, Name: "P", IsPrivate: true},
			{ID: spaceB, OrganizationID: orgB, Name: "B"},
		},
		Roles: []membership.CustomRole{
			{ID: binder, AccountID: acctA, Name: "Binder", Permissions: []membership.Permission{membership.PermissionRoleBindingCreate}},
			{ID: reviewer, AccountID: acctA, Name: "Reviewer", Permissions: []membership.Permission{"PROJECT_READ"}},
			{ID: remover, AccountID: acctA, Name: "Remover", Permissions: []membership.Permission{membership.PermissionRoleBindingDelete}},
			{ID: roleB, AccountID: acctB, Name: "B", Permissions: []membership.Permission{membership.PermissionRoleBindingCreate}},
		},
		SpaceMembers: []fixture.SpaceMember{
			spaceMemberOf(spaceS, spaceAdmin, admin),
			spaceMemberOf(spaceS, spaceBinder, customBind),
			spaceMemberOf(spaceS, spaceMember, member),
			spaceMemberOf(spaceP, spaceAdmin, admin),
		},
	}
}

// newWorld returns a memstore seeded with the world, and a service on it
// with the default policy and the given policy options.
func newWorld(t testing.TB, opts ...policy.Option) (*memstore.Store, *membership.Service) {
	t.Helper()
	store := memstore.New()
	if err := fixture.Seed(context.Background(), store, world()); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	engine, err := policy.New(opts...)
	if err != nil {
		t.Fatalf("policy.New: %v", err)
	}
	svc, err := membership.NewService(store, engine)
	if err != nil {
		t.Fatal(err)
	}
	return store, svc
}

func add(actor, spaceID, userID membership.ID, role membership.RoleAssignment) membership.AddUserRequest {
	return membership.AddUserRequest{Actor: actor, SpaceID: spaceID, UserID: userID, Role: role}
}
