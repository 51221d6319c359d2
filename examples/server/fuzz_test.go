package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// FuzzAddSpaceUser sends arbitrary space ids, Content-Types and bodies with
// a valid key: every answer is a membership or a problem document of a
// client error whose status matches, never a server error.
func FuzzAddSpaceUser(f *testing.F) {
	f.Add(spaceLLMEvals, "application/json", predefinedBody(userGrace, "PREDEFINED", "MEMBER"))
	f.Add(spaceLLMEvals, "application/json", customBody(userGrace, "custom", roleBinder))
	f.Add("U3BhY2U6+/+/", "application/json; charset=utf-8", `{"user_id":"VXNlcjr7/74=","role":{"type":"PREDEFINED","name":"ADMIN"}}`)
	f.Add(spaceRedTeam, "application/json", `{"user_id":"VXNlcjoy","user_id":"VXNlcjoy"}`)
	f.Add("..", "text/plain", `{`)
	f.Add("", "application/json", `null`)

	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, spaceID, contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.URL.Path = "/v2/spaces/" + spaceID + "/users"
		req.URL.RawPath = usersPath(spaceID)
		req.Header.Set("Authorization", "Bearer "+keyAdmin)
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if rec.Code == http.StatusOK {
			var m wireMembership
			if err := json.Unmarshal(rec.Body.Bytes(), &m, json.RejectUnknownMembers(true)); err != nil {
				t.Fatalf("200 with a body that is not a membership: %v\n%s", err, rec.Body)
			}
			return
		}
		checkClientError(t, rec)
	})
}

// FuzzRemoveAndList sends removes and lists with arbitrary ids and query
// strings and a valid key: every answer is a 204, a page, or a problem
// document of a client error, never a server error.
func FuzzRemoveAndList(f *testing.F) {
	f.Add(spaceLLMEvals, userBarbara, "limit=1")
	f.Add(spaceLLMEvals, userMissing, "limit=1&cursor=bTE6VTNCaFkyVTZNUT09OlZYTmxjam8w")
	f.Add("U3BhY2U6+/+/", "VXNlcjr7/74=", "cursor=&limit=")
	f.Add(spaceRedTeam, "..", "limit=%zz;x")
	f.Add("", "", "limit=100&limit=100")

	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, spaceID, userID, query string) {
		req := httptest.NewRequest(http.MethodDelete, "/", nil)
		req.URL.Path = "/v2/spaces/" + spaceID + "/users/" + userID
		req.URL.RawPath = userPath(spaceID, userID)
		req.Header.Set("Authorization", "Bearer "+keyAdmin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			checkClientError(t, rec)
		}

		req = httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = "/v2/spaces/" + spaceID + "/users"
		req.URL.RawPath = usersPath(spaceID)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+keyAdmin)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			var p wirePage
			if err := json.Unmarshal(rec.Body.Bytes(), &p, json.RejectUnknownMembers(true)); err != nil {
				t.Fatalf("200 with a body that is not a page: %v\n%s", err, rec.Body)
			}
			return
		}
		checkClientError(t, rec)
	})
}

// fuzzHandler returns the server's handler on a fresh store seeded with the
// demo fixture.
func fuzzHandler(f testing.TB) http.Handler {
	engine, err := sharedEngine()
	if err != nil {
		f.Fatal(err)
	}
	demo := fixture.Demo()
	store, closeStore, err := openStore(f.Context(), "memory", seedAuto, demo, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(closeStore)
	svc, err := membership.NewService(store, engine)
	if err != nil {
		f.Fatal(err)
	}
	auth, err := newAPIKeyAuthenticator(demo.APIKeys)
	if err != nil {
		f.Fatal(err)
	}
	return newHandler(svc, auth, slog.New(slog.DiscardHandler), requestTimeout)
}

// checkClientError fails unless rec is a problem document of a client
// error whose status matches.
func checkClientError(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != membership.ProblemContentType {
		t.Fatalf("status %d with Content-Type %q", rec.Code, ct)
	}
	var p membership.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("status %d with a body that is not a problem document: %v\n%s", rec.Code, err, rec.Body)
	}
	if p.Status != rec.Code || rec.Code < 400 || rec.Code >= 500 {
		t.Fatalf("status %d, problem %+v", rec.Code, p)
	}
}

// FuzzGetAndListSpaces sends reads of arbitrary space ids and lists of
// spaces with arbitrary query strings, with a valid key: every answer is a
// space, a page of spaces or a problem document of a client error, never a
// server error.
func FuzzGetAndListSpaces(f *testing.F) {
	f.Add(spaceLLMEvals, "limit=1")
	f.Add(spaceRedTeam, "org_id=T3JnOjE%3D&name=EVALS&limit=100")
	f.Add("U3BhY2U6+/+/", "cursor=czE6NmUzNDBiOWNmZmIzN2E5ODpVM0JoWTJVNk1RPT0&limit=1")
	f.Add("..", "name=%zz;x")
	f.Add("", "org_id=&name=&limit=&cursor=")

	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, spaceID, query string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = "/v2/spaces/" + spaceID
		req.URL.RawPath = spacePath(spaceID)
		req.Header.Set("Authorization", "Bearer "+keyAdmin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			var sp wireSpace
			if err := json.Unmarshal(rec.Body.Bytes(), &sp, json.RejectUnknownMembers(true)); err != nil {
				t.Fatalf("200 with a body that is not a space: %v\n%s", err, rec.Body)
			}
		} else {
			checkClientError(t, rec)
		}

		req = httptest.NewRequest(http.MethodGet, "/v2/spaces", nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+keyAdmin)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			var p wireSpacePage
			if err := json.Unmarshal(rec.Body.Bytes(), &p, json.RejectUnknownMembers(true)); err != nil {
				t.Fatalf("200 with a body that is not a page of spaces: %v\n%s", err, rec.Body)
			}
			return
		}
		checkClientError(t, rec)
	})
}
