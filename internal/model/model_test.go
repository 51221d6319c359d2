package model

import (
	"encoding/base64"
	"testing"
)

// The model is the yardstick of the service, so its own rules get a few
// direct cases from the contract: if one of these breaks, the model, not the
// library, is wrong.

func id(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

var (
	acct, other                 = id("acct"), id("other")
	org                         = id("org")
	public, private, foreign    = id("public"), id("private"), id("foreign")
	binder, remover, foreignAll = id("binder"), id("remover"), id("foreignAll")

	accountAdmin = id("accountAdmin") // account ADMIN, in no organization
	orgAdmin     = id("orgAdmin")     // organization ADMIN
	spaceAdmin   = id("spaceAdmin")   // predefined ADMIN of private, organization READ_ONLY
	orgBinder    = id("orgBinder")    // organization custom role with ROLE_BINDING_CREATE
	orgRemover   = id("orgRemover")   // organization custom role with ROLE_BINDING_DELETE
	orgForeign   = id("orgForeign")   // organization custom role of another account
	spaceMember  = id("spaceMember")  // MEMBER of private, organization MEMBER
	reader       = id("reader")       // organization READ_ONLY
	annotator    = id("annotator")    // account ANNOTATOR, organization ANNOTATOR
	outsider     = id("outsider")     // in no organization
	annotator2   = id("annotator2")   // account ANNOTATOR, in no organization
	otherAdmin   = id("otherAdmin")   // account ADMIN of the other account
	nobody       = id("nobody")
)

func testWorld() *World {
	w := NewWorld()
	for u, r := range map[string]AccountRole{
		accountAdmin: AccountAdmin, orgAdmin: AccountMember, spaceAdmin: AccountMember,
		orgBinder: AccountMember, orgRemover: AccountMember, orgForeign: AccountMember,
		spaceMember: AccountMember, reader: AccountMember, annotator: AccountAnnotator, outsider: AccountMember,
		annotator2: AccountAnnotator,
	} {
		w.Users[u] = User{Account: acct, Role: r}
	}
	w.Users[otherAdmin] = User{Account: other, Role: AccountAdmin}
	w.Orgs[org] = acct
	w.Orgs[id("otherOrg")] = other
	w.Spaces[public] = Space{Org: org}
	w.Spaces[private] = Space{Org: org, Private: true}
	w.Spaces[foreign] = Space{Org: id("otherOrg")}
	w.Roles[binder] = CustomRole{Account: acct, Perms: []string{RoleBindingCreate}}
	w.Roles[remover] = CustomRole{Account: acct, Perms: []string{RoleBindingDelete}}
	w.Roles[foreignAll] = CustomRole{Account: other, Perms: []string{RoleBindingCreate, RoleBindingDelete}}
	for u, r := range map[string]Role{
		orgAdmin: P(Admin), spaceAdmin: P(ReadOnly), orgBinder: C(binder), orgRemover: C(remover),
		orgForeign: C(foreignAll), reader: P(ReadOnly), annotator: P(Annotator), spaceMember: P(Member),
	} {
		w.OrgMembers[Key{org, u}] = Membership{ID: "o-" + u, Role: r}
	}
	w.SpaceMembers[Key{private, spaceAdmin}] = Membership{ID: id("m1"), Role: P(Admin)}
	w.SpaceMembers[Key{private, spaceMember}] = Membership{ID: id("m2"), Role: P(Member)}
	w.SpaceMembers[Key{public, spaceAdmin}] = Membership{ID: id("m3"), Role: P(Admin)}
	w.SpaceMembers[Key{public, reader}] = Membership{ID: id("m4"), Role: P(ReadOnly)}
	w.Orgs[id("org2")] = acct
	w.Spaces[id("public2")] = Space{Org: id("org2")}
	w.OrgMembers[Key{id("org2"), reader}] = Membership{ID: id("o2"), Role: P(Member)}
	w.SpaceMembers[Key{id("public2"), reader}] = Membership{ID: id("m5"), Role: P(Member)}
	return w
}

func TestAdd(t *testing.T) {
	for _, c := range []struct {
		name               string
		actor, space, user string
		role               Role
		want               Code
	}{
		{"no actor", "", public, reader, P(Member), Unauthenticated},
		{"an actor who is no user", nobody, public, reader, P(Member), Unauthenticated},
		{"an actor who is no user, with a bad space id", nobody, "not an id", reader, P(Member), Unauthenticated},
		{"bad space id", orgAdmin, "QQ", reader, P(Member), InvalidID},
		{"bad user id before a missing role", orgAdmin, public, "QQ", Role{}, InvalidID},
		{"no user", orgAdmin, public, "", P(Member), InvalidField},
		{"unknown predefined name", orgAdmin, public, reader, Role{Kind: Predefined, Name: "OWNER"}, InvalidField},
		{"custom role with a name", orgAdmin, public, reader, Role{Kind: Custom, ID: binder, Name: Member}, InvalidField},
		{"space of another account", otherAdmin, public, reader, P(Member), SpaceNotFound},
		{"private space, organization READ_ONLY", reader, private, outsider, P(Member), SpaceNotFound},
		{"public space, organization READ_ONLY, predefined role", reader, public, outsider, P(Member), Forbidden},
		{"space ADMIN gives a predefined role", spaceAdmin, public, reader, P(Member), OK},
		{"private space, space MEMBER, readable but no authority", spaceMember, private, reader, P(Member), Forbidden},
		{"binder gives a predefined role", orgBinder, public, reader, P(Member), Forbidden},
		{"binder gives a custom role", orgBinder, public, reader, C(binder), OK},
		{"binder changes a space ADMIN", orgBinder, public, spaceAdmin, C(binder), Forbidden},
		{"custom role of another account grants nothing", orgForeign, public, reader, C(binder), Forbidden},
		{"remover gives a custom role", orgRemover, public, reader, C(binder), Forbidden},
		{"forbidden comes before user not found", orgBinder, public, nobody, P(Member), Forbidden},
		{"missing target", orgAdmin, public, nobody, P(Member), UserNotFound},
		{"target of another account", orgAdmin, public, otherAdmin, P(Member), UserNotFound},
		{"custom role of another account", orgAdmin, public, reader, C(foreignAll), RoleNotFound},
		{"target outside the organization", orgAdmin, public, outsider, P(Member), UserNotInOrganization},
		{"account ADMIN outside the organization", accountAdmin, private, reader, P(Member), OK},
		{"annotator given MEMBER", orgAdmin, public, annotator, P(Member), AnnotatorRoleRequired},
		{"annotator given a custom role", orgAdmin, public, annotator, C(binder), AnnotatorRoleRequired},
		{"annotator given ANNOTATOR", orgAdmin, public, annotator, P(Annotator), OK},
		{"member given ANNOTATOR", orgAdmin, public, reader, P(Annotator), AnnotatorRoleNotAllowed},
		{"space admin changes a space ADMIN", spaceAdmin, public, spaceAdmin, P(Member), OK},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := testWorld().Add(c.actor, c.space, c.user, c.role); got != c.want {
				t.Errorf("Add = %q, want %q", got, c.want)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	for _, c := range []struct {
		name               string
		actor, space, user string
		want               Code
	}{
		{"an actor who is no user", nobody, public, reader, Unauthenticated},
		{"empty user id", orgAdmin, public, "", InvalidID},
		{"space of another account", otherAdmin, public, reader, SpaceNotFound},
		{"remover removes a READ_ONLY", orgRemover, public, reader, OK},
		{"remover removes a space ADMIN", orgRemover, public, spaceAdmin, Forbidden},
		{"binder removes", orgBinder, public, reader, Forbidden},
		{"organization ADMIN removes a space ADMIN", orgAdmin, public, spaceAdmin, OK},
		{"forbidden comes before user not found", reader, public, nobody, Forbidden},
		{"missing user", orgAdmin, public, nobody, UserNotFound},
		{"not a member", orgAdmin, public, outsider, MembershipNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := testWorld().Remove(c.actor, c.space, c.user); got != c.want {
				t.Errorf("Remove = %q, want %q", got, c.want)
			}
		})
	}
}

func TestOrgAdd(t *testing.T) {
	for _, c := range []struct {
		name             string
		actor, org, user string
		role             Role
		want             Code
	}{
		{"no actor", "", org, outsider, P(Member), Unauthenticated},
		{"an actor who is no user", nobody, org, outsider, P(Member), Unauthenticated},
		{"bad organization id", orgAdmin, "QQ", outsider, P(Member), InvalidID},
		{"bad user id before a missing role", orgAdmin, org, "QQ", Role{}, InvalidID},
		{"bad custom role id", orgAdmin, org, outsider, C("QQ"), InvalidID},
		{"no user", orgAdmin, org, "", P(Member), InvalidField},
		{"unknown predefined name", orgAdmin, org, outsider, Role{Kind: Predefined, Name: "OWNER"}, InvalidField},
		{"missing organization", accountAdmin, id("noOrg"), outsider, P(Member), OrganizationNotFound},
		{"organization of another account", otherAdmin, org, outsider, P(Member), OrganizationNotFound},
		{"an account member outside the organization cannot see it", outsider, org, reader, P(Member), OrganizationNotFound},
		{"a space member is no organization member", spaceAdmin, id("org2"), outsider, P(Member), OrganizationNotFound},
		{"organization READ_ONLY", reader, org, outsider, P(Member), Forbidden},
		{"binder gives a custom role", orgBinder, org, outsider, C(binder), Forbidden},
		{"forbidden comes before user not found", reader, org, nobody, P(Member), Forbidden},
		{"account ADMIN outside the organization", accountAdmin, org, outsider, P(Member), OK},
		{"organization ADMIN", orgAdmin, org, outsider, C(binder), OK},
		{"organization ADMIN demotes themselves", orgAdmin, org, orgAdmin, P(Member), OK},
		{"missing target", orgAdmin, org, nobody, P(Member), UserNotFound},
		{"target of another account", orgAdmin, org, otherAdmin, P(Member), UserNotFound},
		{"missing custom role", orgAdmin, org, outsider, C(id("noRole")), RoleNotFound},
		{"custom role of another account", orgAdmin, org, outsider, C(foreignAll), RoleNotFound},
		{"annotator given MEMBER", orgAdmin, org, annotator2, P(Member), AnnotatorRoleRequired},
		{"annotator given a custom role", orgAdmin, org, annotator, C(binder), AnnotatorRoleRequired},
		{"annotator given ANNOTATOR", orgAdmin, org, annotator2, P(Annotator), OK},
		{"member given ANNOTATOR", orgAdmin, org, reader, P(Annotator), AnnotatorRoleNotAllowed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := testWorld().OrgAdd(c.actor, c.org, c.user, c.role); got != c.want {
				t.Errorf("OrgAdd = %q, want %q", got, c.want)
			}
		})
	}
}

func TestOrgRemove(t *testing.T) {
	for _, c := range []struct {
		name             string
		actor, org, user string
		want             Code
	}{
		{"no actor", "", org, reader, Unauthenticated},
		{"an actor who is no user", nobody, org, reader, Unauthenticated},
		{"empty user id", orgAdmin, org, "", InvalidID},
		{"bad organization id", orgAdmin, "QR==", reader, InvalidID},
		{"organization of another account", otherAdmin, org, reader, OrganizationNotFound},
		{"outside the organization", outsider, org, reader, OrganizationNotFound},
		{"organization READ_ONLY", reader, org, spaceMember, Forbidden},
		{"remover removes", orgRemover, org, reader, Forbidden},
		{"forbidden comes before user not found", reader, org, nobody, Forbidden},
		{"missing user", orgAdmin, org, nobody, UserNotFound},
		{"user of another account", accountAdmin, org, otherAdmin, UserNotFound},
		{"not a member", orgAdmin, org, outsider, MembershipNotFound},
		{"organization ADMIN removes a space ADMIN", orgAdmin, org, spaceAdmin, OK},
		{"account ADMIN removes an organization ADMIN", accountAdmin, org, orgAdmin, OK},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := testWorld().OrgRemove(c.actor, c.org, c.user); got != c.want {
				t.Errorf("OrgRemove = %q, want %q", got, c.want)
			}
		})
	}
}

// An organization remove takes the user's memberships of that
// organization's spaces with it, and nothing else.
func TestDeleteOrgMember(t *testing.T) {
	w := testWorld()
	gone := w.DeleteOrgMember(org, reader)
	if len(gone) != 1 || gone[0] != (Key{public, reader}) {
		t.Errorf("DeleteOrgMember removed %v, want only reader's membership of public", gone)
	}
	if _, ok := w.OrgMembers[Key{org, reader}]; ok {
		t.Error("the organization membership is still there")
	}
	if _, ok := w.SpaceMembers[Key{id("public2"), reader}]; !ok {
		t.Error("the membership of a space of another organization went too")
	}
	if got := w.OrgRemove(orgAdmin, org, reader); got != MembershipNotFound {
		t.Errorf("removing again = %q, want %q", got, MembershipNotFound)
	}
	if o := w.Orphans(); len(o) != 0 {
		t.Errorf("orphans after the cascade: %v", o)
	}
	if o := testWorld().Orphans(); len(o) != 0 {
		t.Errorf("the test world has orphans: %v", o)
	}
}

// An upsert of an organization membership keeps its id.
func TestPutOrgMember(t *testing.T) {
	w := testWorld()
	if m := w.PutOrgMember(org, reader, P(Admin), "new"); m.ID != "o-"+reader || m.Role != P(Admin) {
		t.Errorf("upsert = %+v, want the old id and the new role", m)
	}
	if m := w.PutOrgMember(org, outsider, P(Member), "new"); m.ID != "new" {
		t.Errorf("insert = %+v, want the new id", m)
	}
}

func TestList(t *testing.T) {
	w := testWorld()
	w.Issued("c-public", public, spaceAdmin) // the first of the two, by id
	for _, c := range []struct {
		name         string
		actor, space string
		limit        int
		cursor       string
		want         Code
		members      int
		more         bool
	}{
		{"default limit", reader, public, 0, "", OK, 2, false},
		{"a page of one", reader, public, 1, "", OK, 1, true},
		{"after a cursor", reader, public, 1, "c-public", OK, 1, false},
		{"a cursor of another space", accountAdmin, private, 1, "c-public", InvalidField, 0, false},
		{"a cursor never issued", reader, public, 1, "c-nothing", InvalidField, 0, false},
		{"limit too large", reader, public, 101, "", InvalidField, 0, false},
		{"private space, organization READ_ONLY", reader, private, 0, "", SpaceNotFound, 0, false},
		{"private space, space MEMBER", spaceMember, private, 0, "", OK, 2, false},
		{"private space, organization ADMIN", orgAdmin, private, 0, "", OK, 2, false},
		{"organization member by a foreign custom role, public space", orgForeign, public, 0, "", OK, 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, members, more := w.List(c.actor, c.space, c.limit, c.cursor)
			if got != c.want || len(members) != c.members || more != c.more {
				t.Errorf("List = %q, %d members, more %v; want %q, %d, %v", got, len(members), more, c.want, c.members, c.more)
			}
		})
	}
}

// With ActorCheckedLate, an actor id that names no user passes check 1 and
// is refused after the input checks, as the library does it today.
func TestActorCheckedLate(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want Code
	}{
		{"add, bad space id", lateWorld().Add(nobody, "QQ", reader, P(Member)), InvalidID},
		{"add, bad role", lateWorld().Add(nobody, public, reader, Role{}), InvalidField},
		{"add, good input", lateWorld().Add(nobody, public, reader, P(Member)), Unauthenticated},
		{"add, malformed actor id", lateWorld().Add("QQ", "QQ", reader, P(Member)), Unauthenticated},
		{"remove, bad user id", lateWorld().Remove(nobody, public, ""), InvalidID},
		{"remove, good input", lateWorld().Remove(nobody, public, reader), Unauthenticated},
		{"organization add, bad organization id", lateWorld().OrgAdd(nobody, "QQ", reader, P(Member)), InvalidID},
		{"organization add, bad role", lateWorld().OrgAdd(nobody, org, reader, Role{}), InvalidField},
		{"organization add, good input", lateWorld().OrgAdd(nobody, org, reader, P(Member)), Unauthenticated},
		{"organization remove, bad user id", lateWorld().OrgRemove(nobody, org, ""), InvalidID},
		{"organization remove, good input", lateWorld().OrgRemove(nobody, org, reader), Unauthenticated},
		{"list, bad limit", first(lateWorld().List(nobody, public, 101, "")), InvalidField},
		{"list, good input", first(lateWorld().List(nobody, public, 0, "")), Unauthenticated},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
}

func lateWorld() *World {
	w := testWorld()
	w.ActorCheckedLate = true
	return w
}

func first(c Code, _ []Listed, _ bool) Code { return c }

func TestIsID(t *testing.T) {
	for s, want := range map[string]bool{
		"QQ==": true, "": false, "QQ": false, "QR==": false, // non-zero padding bits
		"Q\nQ==": false, "not an id": false,
	} {
		if IsID(s) != want {
			t.Errorf("IsID(%q) = %v, want %v", s, !want, want)
		}
	}
}
