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

// remove is the call of DELETE /v2/spaces/{space_id}/users/{user_id} with
// key.
func remove(key, space, user string) call {
	return call{method: http.MethodDelete, path: userPath(space, user), key: key}
}

// TestRemoveChecks walks the checks of a remove in their order, one group
// per check, over HTTP against the demo fixture (and Dora, who holds
// ROLE_BINDING_DELETE, where a case needs her).
func TestRemoveChecks(t *testing.T) {
	t.Parallel()
	withDora := unbinderFixture
	rows := []checkRow{
		{"1_unauthenticated", []errorCase{
			{name: "no Authorization header", call: remove("", spaceLLMEvals, userBarbara),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
			{name: "unknown key", call: remove("not-a-demo-key", spaceLLMEvals, userBarbara),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: invalidTokenChallenge},
			{name: "before the ids", call: remove("", "Space:1", "User:4"),
				wantStatus: 401, wantCode: membership.CodeUnauthenticated, wantChallenge: bearerChallenge},
		}},
		{"2_invalid_id", []errorCase{
			{name: "space_id not an ID", call: remove(keyAdmin, "Space:1", userBarbara),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "space_id too long", call: remove(keyAdmin, strings.Repeat("QUFB", 129), userBarbara),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "space_id dot-dot", call: call{method: http.MethodDelete, path: "/v2/spaces/%2E%2E/users/" + userBarbara, key: keyAdmin},
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "user_id not an ID", call: remove(keyAdmin, spaceLLMEvals, "User:4"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "user_id unpadded", call: remove(keyAdmin, spaceLLMEvals, "VXNlcjo5OQ"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
			{name: "space_id before user_id", call: remove(keyAdmin, "Space:1", "User:4"),
				wantStatus: 400, wantCode: membership.CodeInvalidID},
		}},
		{"3_space_not_found", []errorCase{
			{name: "no such space", call: remove(keyAdmin, spaceMissing, userBarbara),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "private space the actor cannot read", call: remove(keyMember, spaceRedTeam, userGrace),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "space of another account", call: remove(keyAdmin, spaceOtherEvals, userEve),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
			{name: "actor of another account", call: remove(keyOther, spaceLLMEvals, userBarbara),
				wantStatus: 404, wantCode: membership.CodeSpaceNotFound},
		}},
		{"4_forbidden", []errorCase{
			{name: "space member removes the space admin", call: remove(keyMember, spaceLLMEvals, userLinus),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "space member removes herself", call: remove(keyMember, spaceLLMEvals, userBarbara),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "holder of ROLE_BINDING_CREATE only", call: remove(keyBinder, spaceLLMEvals, userBarbara),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "holder of ROLE_BINDING_DELETE removes a space admin", call: remove(keyUnbinder, spaceLLMEvals, userLinus),
				wantStatus: 403, wantCode: membership.CodeForbidden, fixture: withDora},
			{name: "unknown user is not revealed", call: remove(keyMember, spaceLLMEvals, userMissing),
				wantStatus: 403, wantCode: membership.CodeForbidden},
			{name: "non-member is not revealed", call: remove(keyBinder, spaceLLMEvals, userGrace),
				wantStatus: 403, wantCode: membership.CodeForbidden},
		}},
		{"5_user_not_found", []errorCase{
			{name: "no such user", call: remove(keyAdmin, spaceLLMEvals, userMissing),
				wantStatus: 404, wantCode: membership.CodeUserNotFound},
			{name: "user of another account", call: remove(keyAdmin, spaceLLMEvals, userEve),
				wantStatus: 404, wantCode: membership.CodeUserNotFound},
			{name: "holder of ROLE_BINDING_DELETE, no such user", call: remove(keyUnbinder, spaceLLMEvals, userMissing),
				wantStatus: 404, wantCode: membership.CodeUserNotFound, fixture: withDora},
		}},
		{"6_membership_not_found", []errorCase{
			{name: "user not in the space", call: remove(keyAdmin, spaceLLMEvals, userGrace),
				wantStatus: 404, wantCode: membership.CodeMembershipNotFound},
			{name: "user not in the organization", call: remove(keyAdmin, spaceLLMEvals, userKen),
				wantStatus: 404, wantCode: membership.CodeMembershipNotFound},
			{name: "empty private space", call: remove(keyOrgAdmin, spaceRedTeam, userBarbara),
				wantStatus: 404, wantCode: membership.CodeMembershipNotFound},
			{name: "holder of ROLE_BINDING_DELETE, not a member", call: remove(keyUnbinder, spaceLLMEvals, userAlan),
				wantStatus: 404, wantCode: membership.CodeMembershipNotFound, fixture: withDora},
		}},
	}
	runCheckRows(t, rows, runErrorCases)
}

// TestRemoveSucceeds covers the allowed removes, one per kind of authority:
// 204 with no body, the one membership gone and every other one kept, a
// second remove answering 404 membership_not_found, and the user still in
// the organization (the account admin can add them back).
func TestRemoveSucceeds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fixture     func() *fixture.Fixture
		setup       []call // adds that make the membership to remove
		key         string
		space, user string
		// again is the answer to the same remove again, 404
		// membership_not_found when empty.
		again membership.Code
	}{
		{name: "account admin removes a member", key: keyAdmin, space: spaceLLMEvals, user: userBarbara},
		{name: "account admin removes the space admin", key: keyAdmin, space: spaceLLMEvals, user: userLinus},
		{name: "organization admin removes the space admin", key: keyOrgAdmin, space: spaceLLMEvals, user: userLinus},
		{name: "space admin removes a member", key: keySpaceAdmin, space: spaceLLMEvals, user: userBarbara},
		// Removing himself, he is no space admin any more: he may not even
		// learn that he is gone.
		{name: "space admin removes himself", key: keySpaceAdmin, space: spaceLLMEvals, user: userLinus,
			again: membership.CodeForbidden},
		{name: "holder of ROLE_BINDING_DELETE removes a member", fixture: unbinderFixture,
			key: keyUnbinder, space: spaceLLMEvals, user: userBarbara},
		{name: "holder of ROLE_BINDING_DELETE removes a custom role", fixture: unbinderFixture,
			setup: []call{{key: keyBinder, body: customBody(userAlan, "CUSTOM", roleReviewer)}},
			key:   keyUnbinder, space: spaceLLMEvals, user: userAlan},
		{name: "organization admin in a private space",
			setup: []call{{key: keyOrgAdmin, path: usersPath(spaceRedTeam), body: predefinedBody(userBarbara, "PREDEFINED", "READ_ONLY")}},
			key:   keyOrgAdmin, space: spaceRedTeam, user: userBarbara},
		{name: "an annotator", setup: []call{{key: keyAdmin, body: predefinedBody(userAnn, "predefined", "annotator")}},
			key: keySpaceAdmin, space: spaceLLMEvals, user: userAnn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var f *fixture.Fixture
			if tc.fixture != nil {
				f = tc.fixture()
			}
			s := startServer(t, f)
			for _, c := range tc.setup {
				resp, body := s.do(t, c)
				decodeMembership(t, resp, body)
			}
			before := s.memberships(t)

			resp, body := s.do(t, remove(tc.key, tc.space, tc.user))
			checkNoContent(t, resp, body)
			var want []membership.Membership
			for _, m := range before {
				if m.SpaceID != membership.ID(tc.space) || m.UserID != membership.ID(tc.user) {
					want = append(want, m)
				}
			}
			if len(want) != len(before)-1 {
				t.Fatalf("the fixture has no membership of %s in %s to remove", tc.user, tc.space)
			}
			if diff := cmp.Diff(want, s.memberships(t), sortMemberships); diff != "" {
				t.Errorf("memberships after the remove (-want +got):\n%s", diff)
			}

			again := tc.again
			if again == "" {
				again = membership.CodeMembershipNotFound
			}
			resp, body = s.do(t, remove(tc.key, tc.space, tc.user))
			if code := problemCode(t, body); code != again {
				t.Errorf("second remove: %d %s, want %s", resp.StatusCode, code, again)
			}

			// The user is still in the organization: the account admin can
			// add them back, which check 8 of an add would refuse otherwise.
			role := "READ_ONLY"
			if tc.user == userAnn {
				role = "ANNOTATOR" // the only role an annotator may have
			}
			resp, body = s.do(t, call{key: keyAdmin, path: usersPath(tc.space), body: predefinedBody(tc.user, "PREDEFINED", role)})
			decodeMembership(t, resp, body)
		})
	}
}

// TestRemoveTwice removes a membership and then removes it again: 204, then
// 404 membership_not_found, as the contract promises.
func TestRemoveTwice(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	resp, body := s.do(t, remove(keyAdmin, spaceLLMEvals, userBarbara))
	checkNoContent(t, resp, body)
	resp, body = s.do(t, remove(keyAdmin, spaceLLMEvals, userBarbara))
	checkProblem(t, resp, body, http.StatusNotFound, membership.CodeMembershipNotFound)
}

// TestRemoveReadsNoBody sends bodies with a remove: none is read, so none
// is refused, whatever its media type, size or content.
func TestRemoveReadsNoBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    call
	}{
		{"JSON", call{body: `{"user_id": "VXNlcjoy"}`}},
		{"not JSON", call{body: `{`}},
		{"text/plain", call{header: map[string]string{"Content-Type": "text/plain"}, body: "remove Barbara"}},
		{"no Content-Type", call{header: map[string]string{"Content-Type": ""}, body: "x"}},
		{"larger than an add may send", call{header: map[string]string{"Content-Type": "text/plain"}, body: strings.Repeat("x", maxBodyBytes+1)}},
		{"larger, chunked", call{body: strings.Repeat("x", maxBodyBytes+1), chunked: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, nil)
			c := tc.c
			c.method, c.path, c.key = http.MethodDelete, userPath(spaceLLMEvals, userBarbara), keyAdmin
			resp, body := s.do(t, c)
			checkNoContent(t, resp, body)
		})
	}
}

// TestRemovePathIDs removes users whose ids hold "/", "+" and "=", in every
// escaping a client may use: the route matches, both ids are decoded, and
// the membership goes.
func TestRemovePathIDs(t *testing.T) {
	t.Parallel()
	const (
		spacePlusSlash = "U3BhY2U6+/+/"
		spaceSlashes   = "U3BhY2U6++//AQ=="
		userSlash      = "VXNlcjr7/74="
	)
	tests := []struct {
		name, space, path string
	}{
		{"encodeURIComponent", spacePlusSlash, userPath(spacePlusSlash, userSlash)},
		{"lower-case escapes", spacePlusSlash, "/v2/spaces/U3BhY2U6%2b%2f%2b%2f/users/VXNlcjr7%2f74%3d"},
		{"plus and padding left as is", spacePlusSlash, "/v2/spaces/U3BhY2U6+%2F+%2F/users/VXNlcjr7%2F74="},
		{"double slash inside the space id", spaceSlashes, userPath(spaceSlashes, userSlash)},
		{"double slash, padding left as is", spaceSlashes, "/v2/spaces/U3BhY2U6++%2F%2FAQ==/users/VXNlcjr7%2F74="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, loadTestFixture(t, "reserved_chars.json"))
			resp, body := s.do(t, call{key: "reserved-admin-key", path: usersPath(tc.space), body: predefinedBody(userSlash, "PREDEFINED", "MEMBER")})
			decodeMembership(t, resp, body)

			resp, body = s.do(t, call{method: http.MethodDelete, key: "reserved-admin-key", path: tc.path})
			checkNoContent(t, resp, body)
			if got := s.memberships(t); len(got) != 0 {
				t.Errorf("memberships after the remove: %v, want none", got)
			}
		})
	}

	t.Run("unescaped slash", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, loadTestFixture(t, "reserved_chars.json"))
		resp, body := s.do(t, call{method: http.MethodDelete, key: "reserved-admin-key", path: "/v2/spaces/U3BhY2U6%2B%2F%2B%2F/users/VXNlcjr7/74="})
		checkProblem(t, resp, body, http.StatusNotFound, codeRouteNotFound)
	})
}

// checkNoContent checks a 204 answer: no body, and so no Content-Type.
func checkNoContent(t testing.TB, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status = %d, want 204; body %s", resp.StatusCode, body)
	}
	if len(body) != 0 {
		t.Errorf("a 204 with a body: %q", body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		t.Errorf("a 204 with Content-Type %q", ct)
	}
}

// problemCode returns the error_code of a problem document.
func problemCode(t testing.TB, body []byte) membership.Code {
	t.Helper()
	var p membership.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not a problem document: %v\n%s", err, body)
	}
	return p.ErrorCode
}
