package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// errorCase is a request the server must refuse with a problem document,
// writing nothing.
type errorCase struct {
	name       string
	call       call
	wantStatus int
	wantCode   membership.Code
	// wantChallenge is the WWW-Authenticate header of a 401.
	wantChallenge string
	// wantAllow is the Allow header of a 405.
	wantAllow string
	// fixture is the fixture of the server; the demo when nil.
	fixture func() *fixture.Fixture
}

// runErrorCases runs each case on a fresh server, checks the problem
// document against its golden file, and checks that nothing was written.
func runErrorCases(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var f *fixture.Fixture
			if tc.fixture != nil {
				f = tc.fixture()
			}
			runErrorCase(t, startServer(t, f), tc)
		})
	}
}

// runErrorCase sends the call of tc to s, checks the problem document
// against its golden file and the headers, and checks that no space
// membership was written.
func runErrorCase(t *testing.T, s *testServer, tc errorCase) {
	t.Helper()
	before := s.memberships(t)
	resp, body := s.do(t, tc.call)
	checkProblem(t, resp, body, tc.wantStatus, tc.wantCode)
	if got := resp.Header.Get("WWW-Authenticate"); got != tc.wantChallenge {
		t.Errorf("WWW-Authenticate = %q, want %q", got, tc.wantChallenge)
	}
	if got := resp.Header.Get("Allow"); got != tc.wantAllow {
		t.Errorf("Allow = %q, want %q", got, tc.wantAllow)
	}
	if diff := cmp.Diff(before, s.memberships(t), sortMemberships); diff != "" {
		t.Errorf("a refused request wrote (-before +after):\n%s", diff)
	}
}

// checkRow is one check of an operation's table, with the requests it
// must refuse.
type checkRow struct {
	row   string
	cases []errorCase
}

// runCheckRows runs each row as a parallel subtest named after it, its
// cases through run.
func runCheckRows(t *testing.T, rows []checkRow, run func(*testing.T, []errorCase)) {
	t.Helper()
	for _, r := range rows {
		t.Run(r.row, func(t *testing.T) {
			t.Parallel()
			run(t, r.cases)
		})
	}
}

// TestSpecChecks walks the checks of an add in their order, one group per
// check, over HTTP against the demo fixture.
func TestSpecChecks(t *testing.T) {
	t.Parallel()
	adminMember := predefinedBody(userGrace, "PREDEFINED", "MEMBER")
	rows := []checkRow{
		{"1_unauthenticated", []errorCase{
			{name: "no Authorization header", call: call{body: adminMember},
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
			{name: "unknown key", call: call{key: "not-a-demo-key", body: adminMember},
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
		}},
		{"2_invalid_json_or_id", []errorCase{
			{name: "not JSON", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy",`},
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "empty body", call: call{key: keyAdmin, body: ``},
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "array", call: call{key: keyAdmin, body: `[]`},
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "null", call: call{key: keyAdmin, body: `null`},
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "user_id a number", call: call{key: keyAdmin, body: `{"user_id": 2, "role": {"type": "PREDEFINED", "name": "MEMBER"}}`},
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "role a string", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy", "role": "MEMBER"}`},
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "type error before unknown field", call: call{key: keyAdmin, body: `{"extra": 1, "user_id": true}`},
				wantStatus: 400, wantCode: membership.CodeInvalidJSON},
			{name: "space_id not an ID", call: call{key: keyAdmin, path: usersPath("Space:1"), body: adminMember},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "space_id dot-dot", call: call{key: keyAdmin, path: "/v2/spaces/%2E%2E/users", body: adminMember},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "space_id too long", call: call{key: keyAdmin, path: usersPath(strings.Repeat("QUFB", 129)), body: adminMember},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "user_id not an ID", call: call{key: keyAdmin, body: predefinedBody("User:2", "PREDEFINED", "MEMBER")},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "user_id unpadded", call: call{key: keyAdmin, body: predefinedBody("U3BhY2U6MQ", "PREDEFINED", "MEMBER")},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "role id not an ID", call: call{key: keyAdmin, body: customBody(userGrace, "CUSTOM", "Binder")},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "invalid id before unknown field", call: call{key: keyAdmin, body: `{"user_id": "User:2", "role": {"type": "PREDEFINED", "name": "MEMBER"}, "extra": 1}`},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
		}},
		{"3_invalid_field", []errorCase{
			{name: "user_id missing", call: call{key: keyAdmin, body: `{"role": {"type": "PREDEFINED", "name": "MEMBER"}}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "user_id null", call: call{key: keyAdmin, body: `{"user_id": null, "role": {"type": "PREDEFINED", "name": "MEMBER"}}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "role missing", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy"}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "unknown field", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy", "role": {"type": "PREDEFINED", "name": "MEMBER"}, "note": "hi"}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "unknown role field", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy", "role": {"type": "PREDEFINED", "name": "MEMBER", "scope": "all"}}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "duplicate field", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy", "user_id": "VXNlcjoz", "role": {"type": "PREDEFINED", "name": "MEMBER"}}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "duplicate role field", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy", "role": {"type": "PREDEFINED", "name": "MEMBER", "name": "ADMIN"}}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "field name in another case", call: call{key: keyAdmin, body: `{"User_ID": "VXNlcjoy", "role": {"type": "PREDEFINED", "name": "MEMBER"}}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "unknown type", call: call{key: keyAdmin, body: predefinedBody(userGrace, "BUILTIN", "MEMBER")},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "type in title case", call: call{key: keyAdmin, body: predefinedBody(userGrace, "Predefined", "MEMBER")},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "unknown name", call: call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "OWNER")},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "mixed spelling", call: call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "member")},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "lower-case type with upper-case name", call: call{key: keyAdmin, body: predefinedBody(userGrace, "predefined", "READ_ONLY")},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "predefined without name", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy", "role": {"type": "PREDEFINED"}}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "predefined with id", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy", "role": {"type": "PREDEFINED", "name": "MEMBER", "id": "Um9sZTox"}}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "custom without id", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy", "role": {"type": "CUSTOM"}}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
			{name: "custom with name", call: call{key: keyAdmin, body: `{"user_id": "VXNlcjoy", "role": {"type": "CUSTOM", "id": "Um9sZTox", "name": "Binder"}}`},
				wantStatus: 422, wantCode: membership.CodeInvalidField},
		}},
		{"4_space_not_found", []errorCase{
			{name: "no such space", call: call{key: keyAdmin, path: usersPath(spaceMissing), body: adminMember},
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "private space the actor cannot read", call: call{key: keyBinder, path: usersPath(spaceRedTeam), body: customBody(userBarbara, "CUSTOM", roleReviewer)},
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "space of another account", call: call{key: keyAdmin, path: usersPath(spaceOtherEvals), body: adminMember},
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "actor of another account", call: call{key: keyOther, body: adminMember},
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
		}},
		{"5_forbidden", []errorCase{
			{name: "space member assigns a predefined role", call: call{key: keyMember, body: adminMember},
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "space member assigns a custom role", call: call{key: keyMember, body: customBody(userGrace, "CUSTOM", roleReviewer)},
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "role binder assigns a predefined role", call: call{key: keyBinder, body: adminMember},
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "unknown user is not revealed", call: call{key: keyMember, body: predefinedBody(userMissing, "PREDEFINED", "MEMBER")},
				wantStatus: 403, wantCode: membership.CodeForbidden},
			// Without this check a holder of ROLE_BINDING_CREATE could strip a
			// space of its admins by giving each of them a custom role.
			{name: "role binder gives a space admin a custom role", call: call{key: keyBinder, body: customBody(userLinus, "CUSTOM", roleReviewer)},
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "role binder gives a space admin a custom role, lower case", call: call{key: keyBinder, body: customBody(userLinus, "custom", roleBinder)},
				wantStatus: 403, wantCode: membership.CodeForbidden},
		}},
		{"6_user_not_found", []errorCase{
			{name: "no such user", call: call{key: keyAdmin, body: predefinedBody(userMissing, "PREDEFINED", "MEMBER")},
				wantStatus: 404, wantCode: membership.CodeUserNotFound},
			{name: "user of another account", call: call{key: keyAdmin, body: predefinedBody(userEve, "PREDEFINED", "MEMBER")},
				wantStatus: 404, wantCode: membership.CodeUserNotFound},
		}},
		{"7_role_not_found", []errorCase{
			{name: "no such custom role", call: call{key: keyAdmin, body: customBody(userGrace, "CUSTOM", roleMissing)},
				wantStatus: 404, wantCode: membership.CodeRoleNotFound},
		}},
		{"8_user_not_in_organization", []errorCase{
			{name: "user outside the organization", call: call{key: keyAdmin, body: predefinedBody(userKen, "PREDEFINED", "MEMBER")},
				wantStatus: 400, wantCode: membership.CodeUserNotInOrganization},
		}},
		{"9_annotator_role_required", []errorCase{
			{name: "annotator given member", call: call{key: keyAdmin, body: predefinedBody(userAnn, "PREDEFINED", "MEMBER")},
				wantStatus: 400, wantCode: membership.CodeAnnotatorRoleRequired},
			{name: "annotator given a custom role", call: call{key: keyAdmin, body: customBody(userAnn, "custom", roleReviewer)},
				wantStatus: 400, wantCode: membership.CodeAnnotatorRoleRequired},
		}},
		{"10_annotator_role_not_allowed", []errorCase{
			{name: "member given annotator", call: call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "ANNOTATOR")},
				wantStatus: 400, wantCode: membership.CodeAnnotatorRoleNotAllowed},
			{name: "lower-case spelling", call: call{key: keyAdmin, body: predefinedBody(userGrace, "predefined", "annotator")},
				wantStatus: 400, wantCode: membership.CodeAnnotatorRoleNotAllowed},
		}},
	}
	runCheckRows(t, rows, runErrorCases)
}

// wireMembership is a membership as the response spells it.
type wireMembership struct {
	ID      string         `json:"id"`
	UserID  string         `json:"user_id"`
	SpaceID string         `json:"space_id"`
	Role    map[string]any `json:"role"`
}

// decodeMembership checks a 200 answer and decodes its membership strictly.
func decodeMembership(t testing.TB, resp *http.Response, body []byte) wireMembership {
	t.Helper()
	m := decodeOK[wireMembership](t, resp, body, "a membership")
	checkMembershipID(t, m.ID)
	return m
}

// decodeOK checks a 200 JSON answer and decodes its body strictly as a T,
// what the body should be.
func decodeOK[T any](t testing.TB, resp *http.Response, body []byte, what string) T {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var v T
	if err := json.Unmarshal(body, &v, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("the body is not %s: %v\n%s", what, err, body)
	}
	return v
}

// checkMembershipID checks that the store gave a membership an ID.
func checkMembershipID(t testing.TB, id string) {
	t.Helper()
	if !membership.ID(id).Valid() {
		t.Errorf("membership id %q is not an ID", id)
	}
}

// TestAddSucceeds covers the allowed adds: every kind of authority, both
// spellings of the role enums, and a custom role's display name.
func TestAddSucceeds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		key       string
		space     string
		body      string
		wantUser  string
		wantRole  map[string]any
		canonical membership.RoleAssignment
	}{
		{"account admin, upper case", keyAdmin, spaceLLMEvals, predefinedBody(userGrace, "PREDEFINED", "MEMBER"), userGrace,
			map[string]any{"type": "PREDEFINED", "name": "MEMBER"}, membership.Predefined(membership.RoleMember)},
		{"account admin, lower case", keyAdmin, spaceLLMEvals, predefinedBody(userGrace, "predefined", "read-only"), userGrace,
			map[string]any{"type": "predefined", "name": "read-only"}, membership.Predefined(membership.RoleReadOnly)},
		{"organization admin in a private space", keyOrgAdmin, spaceRedTeam, predefinedBody(userBarbara, "PREDEFINED", "READ_ONLY"), userBarbara,
			map[string]any{"type": "PREDEFINED", "name": "READ_ONLY"}, membership.Predefined(membership.RoleReadOnly)},
		{"space admin", keySpaceAdmin, spaceLLMEvals, predefinedBody(userGrace, "predefined", "admin"), userGrace,
			map[string]any{"type": "predefined", "name": "admin"}, membership.Predefined(membership.RoleAdmin)},
		{"annotator gets annotator", keyAdmin, spaceLLMEvals, predefinedBody(userAnn, "PREDEFINED", "ANNOTATOR"), userAnn,
			map[string]any{"type": "PREDEFINED", "name": "ANNOTATOR"}, membership.Predefined(membership.RoleAnnotator)},
		{"custom role, upper case", keyBinder, spaceLLMEvals, customBody(userGrace, "CUSTOM", roleReviewer), userGrace,
			map[string]any{"type": "CUSTOM", "id": roleReviewer, "name": "Reviewer"}, membership.Custom(roleReviewer)},
		{"custom role, lower case", keyBinder, spaceLLMEvals, customBody(userGrace, "custom", roleBinder), userGrace,
			map[string]any{"type": "custom", "id": roleBinder, "name": "Binder"}, membership.Custom(roleBinder)},
		{"space admin assigns a custom role", keySpaceAdmin, spaceLLMEvals, customBody(userAlan, "CUSTOM", roleBinder), userAlan,
			map[string]any{"type": "CUSTOM", "id": roleBinder, "name": "Binder"}, membership.Custom(roleBinder)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, nil)
			before := s.memberships(t)
			resp, body := s.do(t, call{key: tc.key, path: usersPath(tc.space), body: tc.body})
			got := decodeMembership(t, resp, body)
			want := wireMembership{ID: got.ID, UserID: tc.wantUser, SpaceID: tc.space, Role: tc.wantRole}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("membership (-want +got):\n%s", diff)
			}
			// The store holds exactly the new membership more, in canonical form.
			stored := membership.Membership{ID: membership.ID(got.ID), UserID: membership.ID(tc.wantUser), SpaceID: membership.ID(tc.space), Role: tc.canonical}
			if diff := cmp.Diff(append(before, stored), s.memberships(t), sortMemberships); diff != "" {
				t.Errorf("memberships (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUpsertKeepsID adds the same user again and again: the membership keeps
// its id and takes each new role, answering in each request's spelling.
func TestUpsertKeepsID(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	steps := []struct {
		body     string
		wantRole map[string]any
	}{
		{predefinedBody(userGrace, "PREDEFINED", "MEMBER"), map[string]any{"type": "PREDEFINED", "name": "MEMBER"}},
		{predefinedBody(userGrace, "PREDEFINED", "ADMIN"), map[string]any{"type": "PREDEFINED", "name": "ADMIN"}},
		{predefinedBody(userGrace, "PREDEFINED", "ADMIN"), map[string]any{"type": "PREDEFINED", "name": "ADMIN"}},
		{predefinedBody(userGrace, "predefined", "admin"), map[string]any{"type": "predefined", "name": "admin"}},
		{customBody(userGrace, "CUSTOM", roleReviewer), map[string]any{"type": "CUSTOM", "id": roleReviewer, "name": "Reviewer"}},
	}
	var id string
	for i, step := range steps {
		resp, body := s.do(t, call{key: keyAdmin, body: step.body})
		got := decodeMembership(t, resp, body)
		if i == 0 {
			id = got.ID
		}
		want := wireMembership{ID: id, UserID: userGrace, SpaceID: spaceLLMEvals, Role: step.wantRole}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("step %d: membership (-want +got):\n%s", i, diff)
		}
	}

	// A membership from the fixture keeps the id the store gave it.
	var seeded membership.Membership
	for _, m := range s.memberships(t) {
		if m.UserID == userBarbara && m.SpaceID == spaceLLMEvals {
			seeded = m
		}
	}
	resp, body := s.do(t, call{key: keyAdmin, body: predefinedBody(userBarbara, "PREDEFINED", "READ_ONLY")})
	if got := decodeMembership(t, resp, body); got.ID != string(seeded.ID) {
		t.Errorf("Barbara's membership id = %q, want the seeded %q", got.ID, seeded.ID)
	}
}

// TestAuthentication covers the Authorization header: the accepted forms
// and every way of getting a 401, which comes before anything else.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	okBody := predefinedBody(userGrace, "PREDEFINED", "MEMBER")
	runErrorCases(t, []errorCase{
		{name: "no header", call: call{body: okBody},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		{name: "empty header", call: call{header: map[string]string{"Authorization": " "}, body: okBody},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		{name: "basic scheme", call: call{header: map[string]string{"Authorization": "Basic ZGVtbzpkZW1v"}, body: okBody},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		{name: "bearer without key", call: call{header: map[string]string{"Authorization": "Bearer"}, body: okBody},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		{name: "key without scheme", call: call{header: map[string]string{"Authorization": keyAdmin}, body: okBody},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		{name: "two keys", call: call{header: map[string]string{"Authorization": "Bearer " + keyAdmin + " " + keyAdmin}, body: okBody},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		{name: "unknown key", call: call{key: "demo-root-key", body: okBody},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
		{name: "prefix of a key", call: call{key: keyAdmin[:len(keyAdmin)-1], body: okBody},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
		{name: "key in another case", call: call{key: strings.ToUpper(keyAdmin), body: okBody},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
		{name: "before the media type", call: call{key: "demo-root-key", header: map[string]string{"Content-Type": "text/plain"}, body: okBody},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
		{name: "before the body size", call: call{body: strings.Repeat(" ", maxBodyBytes+1)},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		{name: "before the body is parsed", call: call{body: `{`},
			wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
	})

	accepted := []struct{ name, header string }{
		{"canonical", "Bearer " + keyAdmin},
		{"scheme in lower case", "bearer " + keyAdmin},
		{"scheme in upper case", "BEARER " + keyAdmin},
		{"several spaces", "Bearer   " + keyAdmin},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, nil)
			resp, body := s.do(t, call{header: map[string]string{"Authorization": tc.header}, body: okBody})
			decodeMembership(t, resp, body)
		})
	}

	t.Run("two headers", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, nil)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+usersPath(spaceLLMEvals), strings.NewReader(okBody))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Add("Authorization", "Bearer "+keyAdmin)
		req.Header.Add("Authorization", "Bearer "+keyAdmin)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", resp.StatusCode)
		}
	})
}

// TestMediaType covers the Content-Type check (415), which comes after
// authentication and before the body size.
func TestMediaType(t *testing.T) {
	t.Parallel()
	okBody := predefinedBody(userGrace, "PREDEFINED", "MEMBER")
	ct := func(v string) map[string]string { return map[string]string{"Content-Type": v} }
	runErrorCases(t, []errorCase{
		{name: "missing", call: call{key: keyAdmin, header: ct(""), body: okBody},
			wantStatus: 415, wantCode: codeUnsupportedMediaType},
		{name: "text/plain", call: call{key: keyAdmin, header: ct("text/plain"), body: okBody},
			wantStatus: 415, wantCode: codeUnsupportedMediaType},
		{name: "form", call: call{key: keyAdmin, header: ct("application/x-www-form-urlencoded"), body: okBody},
			wantStatus: 415, wantCode: codeUnsupportedMediaType},
		{name: "json suffix", call: call{key: keyAdmin, header: ct("application/merge-patch+json"), body: okBody},
			wantStatus: 415, wantCode: codeUnsupportedMediaType},
		{name: "malformed", call: call{key: keyAdmin, header: ct("application/json; charset"), body: okBody},
			wantStatus: 415, wantCode: codeUnsupportedMediaType},
		{name: "latin1", call: call{key: keyAdmin, header: ct("application/json; charset=iso-8859-1"), body: okBody},
			wantStatus: 415, wantCode: codeUnsupportedMediaType},
		{name: "before the body size", call: call{key: keyAdmin, header: ct("text/plain"), body: strings.Repeat(" ", maxBodyBytes+1)},
			wantStatus: 415, wantCode: codeUnsupportedMediaType},
	})

	for _, v := range []string{
		"application/json",
		"application/json; charset=utf-8",
		"application/json;charset=UTF-8",
		"Application/JSON",
		`application/json; charset="utf-8"`,
		"application/json; version=2",
	} {
		t.Run("accepts "+v, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, nil)
			resp, body := s.do(t, call{key: keyAdmin, header: ct(v), body: okBody})
			decodeMembership(t, resp, body)
		})
	}
}

// TestBodySize covers the 64 KiB limit (413), announced or not, which
// comes before the body is parsed.
func TestBodySize(t *testing.T) {
	t.Parallel()
	okBody := predefinedBody(userGrace, "PREDEFINED", "MEMBER")
	padded := func(n int) string { return okBody + strings.Repeat(" ", n-len(okBody)) }
	runErrorCases(t, []errorCase{
		{name: "announced", call: call{key: keyAdmin, body: padded(maxBodyBytes + 1)},
			wantStatus: 413, wantCode: codeBodyTooLarge},
		{name: "chunked", call: call{key: keyAdmin, body: padded(maxBodyBytes + 1), chunked: true},
			wantStatus: 413, wantCode: codeBodyTooLarge},
		{name: "before the JSON is parsed", call: call{key: keyAdmin, body: "{" + strings.Repeat("x", 1<<20)},
			wantStatus: 413, wantCode: codeBodyTooLarge},
	})
	for _, chunked := range []bool{false, true} {
		name := "exactly 64 KiB"
		if chunked {
			name += ", chunked"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, nil)
			resp, body := s.do(t, call{key: keyAdmin, body: padded(maxBodyBytes), chunked: chunked})
			decodeMembership(t, resp, body)
		})
	}
}

// TestPathIDs sends space ids that hold "/", "+" and "=" in every escaping a
// client may use: the route matches, the id is decoded, and the answer
// carries the decoded id.
func TestPathIDs(t *testing.T) {
	t.Parallel()
	const (
		spacePlusSlash = "U3BhY2U6+/+/"     // Space:\xfb\xff\xbf
		spaceSlashes   = "U3BhY2U6++//AQ==" // decodes with "//" in the path
		userSlash      = "VXNlcjr7/74="
		roleSlash      = "Um9sZTr7/w=="
	)
	tests := []struct {
		name, path, space string
		body              string
		wantRole          map[string]any
	}{
		{"encodeURIComponent", usersPath(spacePlusSlash), spacePlusSlash,
			predefinedBody(userSlash, "PREDEFINED", "MEMBER"), map[string]any{"type": "PREDEFINED", "name": "MEMBER"}},
		{"lower-case escapes", "/v2/spaces/U3BhY2U6%2b%2f%2b%2f/users", spacePlusSlash,
			predefinedBody(userSlash, "predefined", "member"), map[string]any{"type": "predefined", "name": "member"}},
		{"plus left as is", "/v2/spaces/U3BhY2U6+%2F+%2F/users", spacePlusSlash,
			predefinedBody(userSlash, "PREDEFINED", "MEMBER"), map[string]any{"type": "PREDEFINED", "name": "MEMBER"}},
		{"double slash inside the id", usersPath(spaceSlashes), spaceSlashes,
			customBody(userSlash, "CUSTOM", roleSlash), map[string]any{"type": "CUSTOM", "id": roleSlash, "name": "Slasher"}},
		{"padding left as is", "/v2/spaces/U3BhY2U6++%2F%2FAQ==/users", spaceSlashes,
			predefinedBody(userSlash, "PREDEFINED", "READ_ONLY"), map[string]any{"type": "PREDEFINED", "name": "READ_ONLY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, loadTestFixture(t, "reserved_chars.json"))
			resp, body := s.do(t, call{key: "reserved-admin-key", path: tc.path, body: tc.body})
			got := decodeMembership(t, resp, body)
			want := wireMembership{ID: got.ID, UserID: userSlash, SpaceID: tc.space, Role: tc.wantRole}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("membership (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("unescaped slash", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, loadTestFixture(t, "reserved_chars.json"))
		resp, body := s.do(t, call{key: "reserved-admin-key", path: "/v2/spaces/U3BhY2U6+/+//users",
			body: predefinedBody(userSlash, "PREDEFINED", "MEMBER")})
		checkProblem(t, resp, body, http.StatusNotFound, codeRouteNotFound)
	})
}

// TestRoutes covers requests outside the routes: 405 with a truthful Allow
// header for a known path, 404 elsewhere, as problem documents, and paths
// that are not canonical, which are not redirected. A 405 or a 404 comes
// before authentication: neither says anything about the data.
func TestRoutes(t *testing.T) {
	t.Parallel()
	okBody := predefinedBody(userGrace, "PREDEFINED", "MEMBER")
	grace := userPath(spaceLLMEvals, userGrace)
	runErrorCases(t, []errorCase{
		{name: "PUT users", call: call{method: http.MethodPut, key: keyAdmin, body: okBody},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: usersAllow},
		{name: "DELETE users", call: call{method: http.MethodDelete},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: usersAllow},
		{name: "PATCH users", call: call{method: http.MethodPatch, key: keyAdmin, body: okBody},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: usersAllow},
		{name: "OPTIONS users", call: call{method: http.MethodOptions},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: usersAllow},
		{name: "GET user", call: call{method: http.MethodGet, path: grace, key: keyAdmin},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: userAllow},
		{name: "POST user", call: call{path: grace, key: keyAdmin, body: okBody},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: userAllow},
		{name: "PUT user", call: call{method: http.MethodPut, path: grace, key: keyAdmin, body: okBody},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: userAllow},
		{name: "root", call: call{method: http.MethodGet, path: "/"},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "spaces", call: call{path: "/v2/spaces", key: keyAdmin, body: okBody},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: spacesAllow},
		{name: "v1", call: call{path: "/v1/spaces/U3BhY2U6MQ==/users", key: keyAdmin, body: okBody},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "trailing slash", call: call{path: "/v2/spaces/U3BhY2U6MQ==/users/", key: keyAdmin, body: okBody},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "trailing slash after a user", call: call{method: http.MethodDelete, path: grace + "/", key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "empty space id", call: call{path: "/v2/spaces//users", key: keyAdmin, body: okBody},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "empty space id of a remove", call: call{method: http.MethodDelete, path: "/v2/spaces//users/" + userGrace, key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "below a user", call: call{method: http.MethodDelete, path: grace + "/roles", key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "dot-dot segment", call: call{path: "/v2/spaces/x/../U3BhY2U6MQ==/users", key: keyAdmin, body: okBody},
			wantStatus: 404, wantCode: codeRouteNotFound},
		{name: "dot-dot segment of a remove", call: call{method: http.MethodDelete, path: "/v2/spaces/x/../U3BhY2U6MQ==/users/" + userBarbara, key: keyAdmin},
			wantStatus: 404, wantCode: codeRouteNotFound},
	})
}

// TestAllowIsTruthful checks each method an Allow header lists: it reaches
// a handler of the route (here the 401 of a request without a key), never a
// 405. HEAD reaches the list because ServeMux routes HEAD to a GET pattern;
// if it ever stopped doing so, this test would say that usersAllow lies.
func TestAllowIsTruthful(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for path, allow := range map[string]string{
		"/v2/spaces":                          spacesAllow,
		spacePath(spaceLLMEvals):              spaceAllow,
		usersPath(spaceLLMEvals):              usersAllow,
		userPath(spaceLLMEvals, userBarbara):  userAllow,
		orgUsersPath(orgResearch):             orgUsersAllow,
		orgUserPath(orgResearch, userBarbara): orgUserAllow,
		auditRoute:                            auditAllow,
	} {
		for method := range strings.SplitSeq(allow, ", ") {
			resp, _ := s.do(t, call{method: method, path: path})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s without a key: status %d, want 401 from the route's handler", method, path, resp.StatusCode)
			}
		}
	}

	// HEAD is no method of a remove: a 405 that lists DELETE, without a
	// body, as for every HEAD.
	resp, body := s.do(t, call{method: http.MethodHead, path: userPath(spaceLLMEvals, userBarbara), key: keyAdmin})
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != userAllow || len(body) != 0 {
		t.Errorf("HEAD on a user: status %d, Allow %q, body %q; want 405, %q and no body", resp.StatusCode, resp.Header.Get("Allow"), body, userAllow)
	}
}

// TestRequestLog checks the request log: one record per request with
// method, route, status and duration, and never an API key.
func TestRequestLog(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	s.do(t, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")})
	s.do(t, call{key: keyMember, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")})
	s.do(t, call{key: "demo-secret-unknown-key", body: `{}`})
	s.do(t, call{method: http.MethodGet, path: "/nowhere", key: keyAdmin})
	s.do(t, call{method: http.MethodDelete, path: userPath(spaceLLMEvals, userBarbara), key: keySpaceAdmin})
	s.do(t, call{method: http.MethodDelete, path: userPath(spaceLLMEvals, userBarbara), key: keySpaceAdmin})
	s.do(t, call{method: http.MethodGet, key: keyMember})
	s.do(t, call{method: http.MethodGet, path: usersPath(spaceLLMEvals) + "?limit=0", key: keyAdmin})
	s.do(t, call{method: http.MethodPut, key: keyAdmin})
	s.do(t, getSpaceCall(keyMember, spaceRedTeam))
	s.do(t, listSpacesCall(keyAdmin, "limit=1"))
	s.Close() // every handler has returned

	logs := s.logs.String()
	keys := []string{"demo-secret-unknown-key"}
	for _, k := range s.fixture.APIKeys {
		keys = append(keys, k.Key)
	}
	for _, k := range keys {
		if strings.Contains(logs, k) {
			t.Errorf("the log holds the API key %q:\n%s", k, logs)
		}
	}
	type record struct {
		Msg       string  `json:"msg"`
		Method    string  `json:"method"`
		Route     string  `json:"route"`
		Status    int     `json:"status"`
		Duration  float64 `json:"duration"`
		Actor     string  `json:"actor"`
		ErrorCode string  `json:"error_code"`
	}
	var got []record
	for line := range strings.Lines(logs) {
		var r record
		if err := json.Unmarshal([]byte(line), &r, json.RejectUnknownMembers(false)); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r.Duration <= 0 {
			t.Errorf("log line without a duration: %s", line)
		}
		r.Duration = 0
		got = append(got, r)
	}
	const (
		add    = "POST /v2/spaces/{space_id}/users"
		remove = "DELETE /v2/spaces/{space_id}/users/{user_id}"
		list   = "GET /v2/spaces/{space_id}/users"
	)
	want := []record{
		{Msg: "request", Method: "POST", Route: add, Status: 200, Actor: userAda},
		{Msg: "request", Method: "POST", Route: add, Status: 403, Actor: userBarbara, ErrorCode: "forbidden"},
		{Msg: "request", Method: "POST", Route: add, Status: 401, ErrorCode: "unauthenticated"},
		{Msg: "request", Method: "GET", Route: "/", Status: 404, ErrorCode: "route_not_found"},
		{Msg: "request", Method: "DELETE", Route: remove, Status: 204, Actor: userLinus},
		{Msg: "request", Method: "DELETE", Route: remove, Status: 404, Actor: userLinus, ErrorCode: "membership_not_found"},
		{Msg: "request", Method: "GET", Route: list, Status: 200, Actor: userBarbara},
		{Msg: "request", Method: "GET", Route: list, Status: 422, Actor: userAda, ErrorCode: "invalid_field"},
		{Msg: "request", Method: "PUT", Route: usersRoute, Status: 405, ErrorCode: "method_not_allowed"},
		{Msg: "request", Method: "GET", Route: "GET " + spaceRoute, Status: 404, Actor: userBarbara, ErrorCode: "space_not_found"},
		{Msg: "request", Method: "GET", Route: "GET " + spacesRoute, Status: 200, Actor: userAda},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
}
