package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// The organizations the organization tests use, beside orgResearch.
const (
	orgOther   = "T3JnOjI="     // Other Research, in the other account
	orgMissing = "T3JnOjk5"     // Org:99, nowhere
	orgLab     = "T3JnOjM="     // Org:3, added by labFixture
	spaceLab   = "U3BhY2U6NA==" // Space:4, lab-evals in Lab, added by labFixture

	// keyOutsider is Ken's: an account MEMBER who is in no organization.
	keyOutsider = "test-outsider-key"
)

// labFixture is the demo fixture plus a second organization of the same
// account, Lab, with one space, lab-evals. Barbara is a member of both
// organizations and of a space in each (and of red-team too), so that a
// removal from Research can be seen to reach every space of Research and
// no space of Lab. Ken gets an API key: he can see no organization.
func labFixture() *fixture.Fixture {
	f := fixture.Demo()
	f.Organizations = append(f.Organizations, membership.Organization{ID: orgLab, AccountID: accountOne, Name: "Lab"})
	f.Spaces = append(f.Spaces, membership.Space{ID: spaceLab, OrganizationID: orgLab, Name: "lab-evals"})
	f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{OrganizationID: orgLab,
		UserID: userBarbara, Role: membership.Predefined(membership.RoleMember)})
	f.SpaceMembers = append(f.SpaceMembers,
		fixture.SpaceMember{SpaceID: spaceLab, UserID: userBarbara, Role: membership.Predefined(membership.RoleMember)},
		fixture.SpaceMember{SpaceID: spaceRedTeam, UserID: userBarbara, Role: membership.Predefined(membership.RoleReadOnly)})
	f.APIKeys = append(f.APIKeys, fixture.APIKey{Key: keyOutsider, UserID: userKen})
	return f
}

// orgUsersPath is the path of /v2/organizations/{org_id}/users, escaped
// like usersPath.
func orgUsersPath(orgID string) string {
	return "/v2/organizations/" + escapeComponent(orgID) + "/users"
}

// orgUserPath is the path of /v2/organizations/{org_id}/users/{user_id}.
func orgUserPath(orgID, userID string) string {
	return orgUsersPath(orgID) + "/" + escapeComponent(userID)
}

// orgAdd and orgRemove are the calls of the two organization routes.
func orgAdd(key, org, body string) call {
	return call{key: key, path: orgUsersPath(org), body: body}
}

func orgRemove(key, org, user string) call {
	return call{method: http.MethodDelete, path: orgUserPath(org, user), key: key}
}

// orgMemberships returns every organization membership of the fixture's
// organizations, read from the store directly.
func (s *testServer) orgMemberships(t testing.TB) []membership.OrganizationMember {
	t.Helper()
	var all []membership.OrganizationMember
	for _, o := range s.fixture.Organizations {
		for _, u := range s.fixture.Users {
			q := membership.Query{Operation: membership.OperationOrgRemove, Actor: u.ID, OrganizationID: o.ID, UserID: u.ID}
			f, _, err := s.store.Read(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if f.TargetOrganizationMember != nil {
				all = append(all, *f.TargetOrganizationMember)
			}
		}
	}
	return all
}

var sortOrgMemberships = cmpopts.SortSlices(func(a, b membership.OrganizationMember) bool { return a.ID < b.ID })

// runOrgErrorCases runs the cases like runErrorCases, and checks too that
// no organization membership was written.
func runOrgErrorCases(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := labFixture()
			if tc.fixture != nil {
				f = tc.fixture()
			}
			s := startServer(t, f)
			before := s.orgMemberships(t)
			runErrorCase(t, s, tc)
			if diff := cmp.Diff(before, s.orgMemberships(t), sortOrgMemberships); diff != "" {
				t.Errorf("a refused request wrote an organization membership (-before +after):\n%s", diff)
			}
		})
	}
}

// TestOrganizationAddChecks walks the checks of an organization add in
// their order, one group per check.
func TestOrganizationAddChecks(t *testing.T) {
	t.Parallel()
	kenMember := predefinedBody(userKen, "PREDEFINED", "MEMBER")
	add := func(key, body string) call { return orgAdd(key, orgResearch, body) }
	rows := []checkRow{
		{"1_unauthenticated", []errorCase{
			{name: "no Authorization header", call: add("", kenMember),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
			{name: "unknown key", call: add("not-a-demo-key", kenMember),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
			{name: "before the media type", call: call{path: orgUsersPath(orgResearch), header: map[string]string{"Content-Type": "text/plain"}, body: kenMember},
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		}},
		{"2_invalid_json_or_id", []errorCase{
			{name: "not JSON", call: add(keyAdmin, `{"user_id": "VXNlcjo3",`),
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "empty body", call: add(keyAdmin, ``),
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "user_id a number", call: add(keyAdmin, `{"user_id": 7, "role": {"type": "PREDEFINED", "name": "MEMBER"}}`),
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "role a string", call: add(keyAdmin, `{"user_id": "VXNlcjo3", "role": "MEMBER"}`),
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "organization_id not an ID", call: orgAdd(keyAdmin, "Org:1", kenMember),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "organization_id dot-dot", call: call{key: keyAdmin, path: "/v2/organizations/%2E%2E/users", body: kenMember},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "organization_id too long", call: orgAdd(keyAdmin, strings.Repeat("QUFB", 129), kenMember),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "user_id not an ID", call: add(keyAdmin, predefinedBody("User:7", "PREDEFINED", "MEMBER")),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "role id not an ID", call: add(keyAdmin, customBody(userKen, "CUSTOM", "Binder")),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "organization_id before user_id", call: orgAdd(keyAdmin, "Org:1", predefinedBody("User:7", "PREDEFINED", "MEMBER")),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
		}},
		{"3_invalid_field", []errorCase{
			{name: "user_id missing", call: add(keyAdmin, `{"role": {"type": "PREDEFINED", "name": "MEMBER"}}`),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "role missing", call: add(keyAdmin, `{"user_id": "VXNlcjo3"}`),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "unknown field", call: add(keyAdmin, `{"user_id": "VXNlcjo3", "role": {"type": "PREDEFINED", "name": "MEMBER"}, "space_id": "U3BhY2U6MQ=="}`),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "unknown name", call: add(keyAdmin, predefinedBody(userKen, "PREDEFINED", "OWNER")),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "mixed spelling", call: add(keyAdmin, predefinedBody(userKen, "PREDEFINED", "read-only")),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "custom without id", call: add(keyAdmin, `{"user_id": "VXNlcjo3", "role": {"type": "CUSTOM"}}`),
				wantStatus: 422, wantCode: membership.CodeInvalidField},
		}},
		{"4_organization_not_found", []errorCase{
			{name: "no such organization", call: orgAdd(keyAdmin, orgMissing, kenMember),
				wantStatus: 404, wantCode: membership.CodeOrganizationNotFound},
			{name: "organization of another account", call: orgAdd(keyAdmin, orgOther, kenMember),
				wantStatus: 404, wantCode: membership.CodeOrganizationNotFound},
			{name: "actor of another account", call: add(keyOther, kenMember),
				wantStatus: 404, wantCode: membership.CodeOrganizationNotFound},
			{name: "actor in no organization", call: add(keyOutsider, kenMember),
				wantStatus: 404, wantCode: membership.CodeOrganizationNotFound},
			{name: "admin of another organization", call: orgAdd(keyOrgAdmin, orgLab, kenMember),
				wantStatus: 404, wantCode: membership.CodeOrganizationNotFound},
		}},
		{"5_forbidden", []errorCase{
			{name: "organization member", call: add(keyMember, kenMember),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "space admin", call: add(keySpaceAdmin, kenMember),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "custom role holding ROLE_BINDING_CREATE", call: add(keyBinder, kenMember),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "custom role assigned by a custom role", call: add(keyBinder, customBody(userKen, "CUSTOM", roleBinder)),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "unknown user is not revealed", call: add(keyMember, predefinedBody(userMissing, "PREDEFINED", "MEMBER")),
				wantStatus: 403, wantCode: membership.CodeForbidden},
		}},
		{"6_user_not_found", []errorCase{
			{name: "no such user", call: add(keyAdmin, predefinedBody(userMissing, "PREDEFINED", "MEMBER")),
				wantStatus: 404, wantCode: membership.CodeUserNotFound},
			{name: "user of another account", call: add(keyOrgAdmin, predefinedBody(userEve, "PREDEFINED", "MEMBER")),
				wantStatus: 404, wantCode: membership.CodeUserNotFound},
		}},
		{"7_role_not_found", []errorCase{
			{name: "no such custom role", call: add(keyAdmin, customBody(userKen, "CUSTOM", roleMissing)),
				wantStatus: 404, wantCode: membership.CodeRoleNotFound},
		}},
		{"8_annotator_role_required", []errorCase{
			{name: "annotator given member", call: add(keyAdmin, predefinedBody(userAnn, "PREDEFINED", "MEMBER")),
				wantStatus: 400, wantCode: membership.CodeAnnotatorRoleRequired},
			{name: "annotator given a custom role", call: add(keyOrgAdmin, customBody(userAnn, "custom", roleReviewer)),
				wantStatus: 400, wantCode: membership.CodeAnnotatorRoleRequired},
		}},
		{"9_annotator_role_not_allowed", []errorCase{
			{name: "member given annotator", call: add(keyAdmin, predefinedBody(userKen, "PREDEFINED", "ANNOTATOR")),
				wantStatus: 400, wantCode: membership.CodeAnnotatorRoleNotAllowed},
			{name: "lower-case spelling", call: add(keyOrgAdmin, predefinedBody(userBarbara, "predefined", "annotator")),
				wantStatus: 400, wantCode: membership.CodeAnnotatorRoleNotAllowed},
		}},
	}
	runCheckRows(t, rows, runOrgErrorCases)
}

// TestOrganizationAddTransport covers what the add route checks before the
// body is parsed, as the space add does: the media type and the body size.
func TestOrganizationAddTransport(t *testing.T) {
	t.Parallel()
	okBody := predefinedBody(userKen, "PREDEFINED", "MEMBER")
	runOrgErrorCases(t, []errorCase{
		{name: "text/plain", call: call{key: keyAdmin, path: orgUsersPath(orgResearch), header: map[string]string{"Content-Type": "text/plain"}, body: okBody},
			wantStatus: 415, wantCode: codeUnsupportedMediaType},
		{name: "no Content-Type", call: call{key: keyAdmin, path: orgUsersPath(orgResearch), header: map[string]string{"Content-Type": ""}, body: okBody},
			wantStatus: 415, wantCode: codeUnsupportedMediaType},
		{name: "too large", call: orgAdd(keyAdmin, orgResearch, okBody+strings.Repeat(" ", maxBodyBytes)),
			wantStatus: 413, wantCode: codeBodyTooLarge},
		{name: "too large, chunked", call: call{key: keyAdmin, path: orgUsersPath(orgResearch), body: okBody + strings.Repeat(" ", maxBodyBytes), chunked: true},
			wantStatus: 413, wantCode: codeBodyTooLarge},
		{name: "PUT users", call: call{method: http.MethodPut, key: keyAdmin, path: orgUsersPath(orgResearch), body: okBody},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: orgUsersAllow},
		{name: "GET user", call: call{method: http.MethodGet, key: keyAdmin, path: orgUserPath(orgResearch, userKen)},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: orgUserAllow},
		{name: "trailing slash", call: call{key: keyAdmin, path: orgUsersPath(orgResearch) + "/", body: okBody},
			wantStatus: 404, wantCode: codeRouteNotFound},
	})
}

// wireOrgMembership is an organization membership as the response spells
// it.
type wireOrgMembership struct {
	ID             string         `json:"id"`
	OrganizationID string         `json:"organization_id"`
	UserID         string         `json:"user_id"`
	Role           map[string]any `json:"role"`
}

// decodeOrgMembership checks a 200 answer and decodes its organization
// membership strictly.
func decodeOrgMembership(t testing.TB, resp *http.Response, body []byte) wireOrgMembership {
	t.Helper()
	m := decodeOK[wireOrgMembership](t, resp, body, "an organization membership")
	checkMembershipID(t, m.ID)
	return m
}

// TestOrganizationAddSucceeds covers the allowed adds: both kinds of
// organization admin, both spellings of the role enums, and a custom role's
// display name. The answer carries the role as the request spelled it, the
// store the role itself, and no space membership changes.
func TestOrganizationAddSucceeds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		key       string
		body      string
		wantUser  string
		wantRole  map[string]any
		canonical membership.RoleAssignment
	}{
		{"account admin, upper case", keyAdmin, predefinedBody(userKen, "PREDEFINED", "MEMBER"), userKen,
			map[string]any{"type": "PREDEFINED", "name": "MEMBER"}, membership.Predefined(membership.RoleMember)},
		{"account admin, lower case", keyAdmin, predefinedBody(userKen, "predefined", "read-only"), userKen,
			map[string]any{"type": "predefined", "name": "read-only"}, membership.Predefined(membership.RoleReadOnly)},
		{"organization admin makes an admin", keyOrgAdmin, predefinedBody(userKen, "predefined", "admin"), userKen,
			map[string]any{"type": "predefined", "name": "admin"}, membership.Predefined(membership.RoleAdmin)},
		{"annotator gets annotator", keyOrgAdmin, predefinedBody(userAnn, "PREDEFINED", "ANNOTATOR"), userAnn,
			map[string]any{"type": "PREDEFINED", "name": "ANNOTATOR"}, membership.Predefined(membership.RoleAnnotator)},
		{"custom role, upper case", keyAdmin, customBody(userKen, "CUSTOM", roleReviewer), userKen,
			map[string]any{"type": "CUSTOM", "id": roleReviewer, "name": "Reviewer"}, membership.Custom(roleReviewer)},
		{"custom role, lower case", keyOrgAdmin, customBody(userBarbara, "custom", roleBinder), userBarbara,
			map[string]any{"type": "custom", "id": roleBinder, "name": "Binder"}, membership.Custom(roleBinder)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, labFixture())
			spacesBefore := s.memberships(t)
			resp, body := s.do(t, orgAdd(tc.key, orgResearch, tc.body))
			got := decodeOrgMembership(t, resp, body)
			want := wireOrgMembership{ID: got.ID, OrganizationID: orgResearch, UserID: tc.wantUser, Role: tc.wantRole}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("membership (-want +got):\n%s", diff)
			}
			stored := findOrgMember(s.orgMemberships(t), orgResearch, tc.wantUser)
			if stored == nil || string(stored.ID) != got.ID || stored.Role.Canonical() != tc.canonical {
				t.Errorf("stored membership %+v, want id %s and role %+v", stored, got.ID, tc.canonical)
			}
			if diff := cmp.Diff(spacesBefore, s.memberships(t), sortMemberships); diff != "" {
				t.Errorf("an organization add changed space memberships (-before +after):\n%s", diff)
			}
		})
	}
}

// findOrgMember returns the membership of user in org, or nil.
func findOrgMember(all []membership.OrganizationMember, org, user string) *membership.OrganizationMember {
	i := slices.IndexFunc(all, func(m membership.OrganizationMember) bool {
		return m.OrganizationID == membership.ID(org) && m.UserID == membership.ID(user)
	})
	if i < 0 {
		return nil
	}
	return &all[i]
}

// TestOrganizationAddUpserts adds a new member, changes their role, and
// adds the same role again: one membership throughout, with one id; and an
// existing member of the fixture keeps the id the store gave them.
func TestOrganizationAddUpserts(t *testing.T) {
	t.Parallel()
	s := startServer(t, labFixture())
	resp, body := s.do(t, orgAdd(keyAdmin, orgResearch, predefinedBody(userKen, "PREDEFINED", "MEMBER")))
	first := decodeOrgMembership(t, resp, body)
	for _, b := range []string{
		predefinedBody(userKen, "predefined", "admin"),
		predefinedBody(userKen, "predefined", "admin"),
		customBody(userKen, "CUSTOM", roleReviewer),
	} {
		resp, body := s.do(t, orgAdd(keyAdmin, orgResearch, b))
		if got := decodeOrgMembership(t, resp, body); got.ID != first.ID {
			t.Errorf("upsert %s: id %s, want %s", b, got.ID, first.ID)
		}
	}
	if m := findOrgMember(s.orgMemberships(t), orgResearch, userKen); m == nil || m.Role.Canonical() != membership.Custom(roleReviewer) {
		t.Errorf("stored membership %+v, want the custom role %s", m, roleReviewer)
	}

	seeded := findOrgMember(s.orgMemberships(t), orgResearch, userBarbara)
	if seeded == nil {
		t.Fatal("the fixture has no membership of Barbara in Research")
	}
	resp, body = s.do(t, orgAdd(keyOrgAdmin, orgResearch, predefinedBody(userBarbara, "PREDEFINED", "READ_ONLY")))
	if got := decodeOrgMembership(t, resp, body); got.ID != string(seeded.ID) {
		t.Errorf("upsert of a seeded membership: id %s, want %s", got.ID, seeded.ID)
	}
}

// TestOrganizationRemoveChecks walks the checks of an organization remove
// in their order, one group per check.
func TestOrganizationRemoveChecks(t *testing.T) {
	t.Parallel()
	rm := func(key, user string) call { return orgRemove(key, orgResearch, user) }
	rows := []checkRow{
		{"1_unauthenticated", []errorCase{
			{name: "no Authorization header", call: rm("", userBarbara),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
			{name: "unknown key", call: rm("not-a-demo-key", userBarbara),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
			{name: "before the ids", call: orgRemove("", "Org:1", "User:4"),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		}},
		{"2_invalid_id", []errorCase{
			{name: "organization_id not an ID", call: orgRemove(keyAdmin, "Org:1", userBarbara),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "organization_id dot-dot", call: call{method: http.MethodDelete, path: "/v2/organizations/%2E%2E/users/" + userBarbara, key: keyAdmin},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "user_id not an ID", call: rm(keyAdmin, "User:4"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "user_id unpadded", call: rm(keyAdmin, "VXNlcjo5OQ"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "organization_id before user_id", call: orgRemove(keyAdmin, "Org:1", "User:4"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
		}},
		{"3_organization_not_found", []errorCase{
			{name: "no such organization", call: orgRemove(keyAdmin, orgMissing, userBarbara),
				wantStatus: 404, wantCode: membership.CodeOrganizationNotFound},
			{name: "organization of another account", call: orgRemove(keyAdmin, orgOther, userEve),
				wantStatus: 404, wantCode: membership.CodeOrganizationNotFound},
			{name: "actor of another account", call: rm(keyOther, userBarbara),
				wantStatus: 404, wantCode: membership.CodeOrganizationNotFound},
			{name: "actor in no organization", call: rm(keyOutsider, userBarbara),
				wantStatus: 404, wantCode: membership.CodeOrganizationNotFound},
			{name: "admin of another organization", call: orgRemove(keyOrgAdmin, orgLab, userBarbara),
				wantStatus: 404, wantCode: membership.CodeOrganizationNotFound},
		}},
		{"4_forbidden", []errorCase{
			{name: "organization member removes a member", call: rm(keyMember, userLinus),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "organization member removes herself", call: rm(keyMember, userBarbara),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "space admin", call: rm(keySpaceAdmin, userBarbara),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "custom role", call: rm(keyBinder, userBarbara),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "unknown user is not revealed", call: rm(keyMember, userMissing),
				wantStatus: 403, wantCode: membership.CodeForbidden},
		}},
		{"5_user_not_found", []errorCase{
			{name: "no such user", call: rm(keyAdmin, userMissing),
				wantStatus: 404, wantCode: membership.CodeUserNotFound},
			{name: "user of another account", call: rm(keyOrgAdmin, userEve),
				wantStatus: 404, wantCode: membership.CodeUserNotFound},
		}},
		{"6_membership_not_found", []errorCase{
			{name: "user not in the organization", call: rm(keyAdmin, userKen),
				wantStatus: 404, wantCode: membership.CodeMembershipNotFound},
		}},
	}
	runCheckRows(t, rows, runOrgErrorCases)
}

// listedUsers returns the user ids that GET /v2/spaces/{space_id}/users
// answers the account admin with.
func listedUsers(t testing.TB, s *testServer, space string) []string {
	t.Helper()
	resp, body := s.do(t, call{method: http.MethodGet, path: usersPath(space), key: keyAdmin})
	var users []string
	for _, m := range decodePage(t, resp, body, space, 100).Members {
		users = append(users, m.UserID)
	}
	return users
}

// TestOrganizationRemoveCascades removes Barbara from Research, by each
// kind of organization admin: 204, and she is gone from every space of
// Research as the space list shows it, still in Lab and its space; the
// other members stay; removing again is 404, and she can no longer be added
// to a space of Research.
func TestOrganizationRemoveCascades(t *testing.T) {
	t.Parallel()
	for name, key := range map[string]string{"account admin": keyAdmin, "organization admin": keyOrgAdmin} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, labFixture())
			for _, sp := range []string{spaceLLMEvals, spaceRedTeam, spaceLab} {
				if !slices.Contains(listedUsers(t, s, sp), userBarbara) {
					t.Fatalf("the fixture has no membership of Barbara in %s", sp)
				}
			}
			orgBefore := s.orgMemberships(t)

			resp, body := s.do(t, orgRemove(key, orgResearch, userBarbara))
			checkNoContent(t, resp, body)

			for _, sp := range []string{spaceLLMEvals, spaceRedTeam} {
				if got := listedUsers(t, s, sp); slices.Contains(got, userBarbara) {
					t.Errorf("space %s still lists Barbara: %v", sp, got)
				}
			}
			if got := listedUsers(t, s, spaceLLMEvals); !slices.Contains(got, userLinus) {
				t.Errorf("the cascade took Linus from llm-evals too: %v", got)
			}
			if got := listedUsers(t, s, spaceLab); !slices.Contains(got, userBarbara) {
				t.Errorf("the space of another organization lost Barbara: %v", got)
			}
			var want []membership.OrganizationMember
			for _, m := range orgBefore {
				if m.OrganizationID != orgResearch || m.UserID != userBarbara {
					want = append(want, m)
				}
			}
			if diff := cmp.Diff(want, s.orgMemberships(t), sortOrgMemberships); diff != "" {
				t.Errorf("organization memberships after the remove (-want +got):\n%s", diff)
			}

			resp, body = s.do(t, orgRemove(key, orgResearch, userBarbara))
			checkProblem(t, resp, body, http.StatusNotFound, membership.CodeMembershipNotFound)
			resp, body = s.do(t, call{key: keyAdmin, path: usersPath(spaceLLMEvals), body: predefinedBody(userBarbara, "PREDEFINED", "MEMBER")})
			if code := problemCode(t, body); code != membership.CodeUserNotInOrganization {
				t.Errorf("adding her to a space of Research: %d %s, want %s", resp.StatusCode, code, membership.CodeUserNotInOrganization)
			}

			// Back in the organization she is in none of its spaces: the
			// cascade did not merely hide them.
			resp, body = s.do(t, orgAdd(key, orgResearch, predefinedBody(userBarbara, "PREDEFINED", "MEMBER")))
			decodeOrgMembership(t, resp, body)
			if got := listedUsers(t, s, spaceLLMEvals); slices.Contains(got, userBarbara) {
				t.Errorf("a new organization membership brought back a space membership: %v", got)
			}
		})
	}
}

// TestOrganizationPathIDs adds and removes through organization and user
// ids that hold "/", "+" and "=", in the escapings a client may use: the
// routes match and the answer carries the decoded ids.
func TestOrganizationPathIDs(t *testing.T) {
	t.Parallel()
	const (
		orgPlusSlash = "T3Jn+/+/"
		orgSlashes   = "T3Jn++//AQ=="
		userSlash    = "VXNlcjr7/74="
		roleSlash    = "Um9sZTr7/w=="
	)
	reserved := func(t *testing.T) *fixture.Fixture {
		f := loadTestFixture(t, "reserved_chars.json")
		for _, id := range []membership.ID{orgPlusSlash, orgSlashes} {
			f.Organizations = append(f.Organizations, membership.Organization{ID: id, AccountID: accountOne, Name: "reserved " + string(id)})
		}
		return f
	}
	tests := []struct {
		name, org, addPath, removePath string
	}{
		{"encodeURIComponent", orgPlusSlash, orgUsersPath(orgPlusSlash), orgUserPath(orgPlusSlash, userSlash)},
		{"lower-case escapes", orgPlusSlash, "/v2/organizations/T3Jn%2b%2f%2b%2f/users", "/v2/organizations/T3Jn%2b%2f%2b%2f/users/VXNlcjr7%2f74%3d"},
		{"plus and padding left as is", orgSlashes, "/v2/organizations/T3Jn++%2F%2FAQ==/users", "/v2/organizations/T3Jn++%2F%2FAQ==/users/VXNlcjr7%2F74="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, reserved(t))
			resp, body := s.do(t, call{key: "reserved-admin-key", path: tc.addPath, body: customBody(userSlash, "CUSTOM", roleSlash)})
			got := decodeOrgMembership(t, resp, body)
			want := wireOrgMembership{ID: got.ID, OrganizationID: tc.org, UserID: userSlash,
				Role: map[string]any{"type": "CUSTOM", "id": roleSlash, "name": "Slasher"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("membership (-want +got):\n%s", diff)
			}
			resp, body = s.do(t, call{method: http.MethodDelete, key: "reserved-admin-key", path: tc.removePath})
			checkNoContent(t, resp, body)
			if m := findOrgMember(s.orgMemberships(t), tc.org, userSlash); m != nil {
				t.Errorf("membership %+v left after the remove", m)
			}
		})
	}
}

// TestOrganizationRequestLog checks that the organization routes are
// logged like the space routes: route pattern, status, actor, error_code.
func TestOrganizationRequestLog(t *testing.T) {
	t.Parallel()
	s := startServer(t, labFixture())
	s.do(t, orgAdd(keyOrgAdmin, orgResearch, predefinedBody(userKen, "PREDEFINED", "MEMBER")))
	s.do(t, orgAdd(keyMember, orgResearch, predefinedBody(userKen, "PREDEFINED", "MEMBER")))
	s.do(t, orgRemove(keyOrgAdmin, orgResearch, userKen))
	s.do(t, orgRemove(keyOrgAdmin, orgResearch, userKen))
	s.Close()

	type record struct {
		Route     string `json:"route"`
		Status    int    `json:"status"`
		Actor     string `json:"actor"`
		ErrorCode string `json:"error_code"`
	}
	var got []record
	for line := range strings.Lines(s.logs.String()) {
		var r record
		if err := json.Unmarshal([]byte(line), &r, json.RejectUnknownMembers(false)); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		got = append(got, r)
	}
	const (
		add    = "POST " + orgUsersRoute
		remove = "DELETE " + orgUserRoute
	)
	want := []record{
		{Route: add, Status: 200, Actor: userGrace},
		{Route: add, Status: 403, Actor: userBarbara, ErrorCode: "forbidden"},
		{Route: remove, Status: 204, Actor: userGrace},
		{Route: remove, Status: 404, Actor: userGrace, ErrorCode: "membership_not_found"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
}
