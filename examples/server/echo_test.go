package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/spaceauthz/spaceauthz/membership"
)

// TestEchoIsBounded sends requests whose method, path, query parameter or
// body member is tens of kilobytes long, each to the part of the server
// that names it in its detail: every answer is the expected problem
// document, with a short detail that quotes no more than membership.MaxEcho bytes of
// the input. The handler is called directly, so that nothing in front of
// it (the header limit of net/http) cuts the request first.
func TestEchoIsBounded(t *testing.T) {
	t.Parallel()
	const n = 60 << 10
	long := strings.Repeat("x", n)
	// A run of input longer than what a detail may echo.
	echoed := strings.Repeat("x", membership.MaxEcho+1)
	h := fuzzHandler(t)
	tests := []struct {
		name       string
		method     string
		target     string
		body       string
		wantStatus int
		wantCode   membership.Code
	}{
		{"long path", http.MethodGet, "/" + long, "", 404, codeRouteNotFound},
		{"long path below a route", http.MethodDelete, userPath(spaceLLMEvals, userBarbara) + "/" + long, "", 404, codeRouteNotFound},
		{"long path with quotes and escapes", http.MethodGet, "/%22%0A" + strings.Repeat("%22", n/3), "", 404, codeRouteNotFound},
		{"long method on a known route", long, usersPath(spaceLLMEvals), "", 405, codeMethodNotAllowed},
		{"long method on an unknown route", long, "/", "", 404, codeRouteNotFound},
		{"long unknown query parameter", http.MethodGet, usersPath(spaceLLMEvals) + "?" + long + "=1", "", 422, membership.CodeInvalidField},
		{"long unknown query parameter of the spaces", http.MethodGet, "/v2/spaces?" + long + "=1", "", 422, membership.CodeInvalidField},
		{"long name filter", http.MethodGet, "/v2/spaces?name=" + long, "", 422, membership.CodeInvalidField},
		{"long org_id", http.MethodGet, "/v2/spaces?org_id=" + long, "", 400, membership.CodeInvalidID},
		{"long space id", http.MethodGet, "/v2/spaces/" + long, "", 400, membership.CodeInvalidID},
		{"long unknown body member", http.MethodPost, usersPath(spaceLLMEvals),
			`{"user_id":"` + userGrace + `","role":{"type":"PREDEFINED","name":"MEMBER"},"` + long + `":1}`, 422, membership.CodeInvalidField},
		{"long unknown role member", http.MethodPost, usersPath(spaceLLMEvals),
			`{"user_id":"` + userGrace + `","role":{"type":"PREDEFINED","name":"MEMBER","` + long + `":1}}`, 422, membership.CodeInvalidField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/", strings.NewReader(tc.body))
			req.Method = tc.method
			var err error
			if req.URL, err = req.URL.Parse(tc.target); err != nil {
				t.Fatal(err)
			}
			req.RequestURI = tc.target
			req.Header.Set("Authorization", "Bearer "+keyAdmin)
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			checkShortProblem(t, rec.Code, rec.Header(), rec.Body.Bytes(), tc.wantStatus, tc.wantCode, echoed)
		})
	}
}

// TestEchoIsBoundedOverHTTP sends long paths to the server as run
// configures it: a path near the header limit reaches the handler and is
// answered with a short detail; a longer one is refused by net/http with
// 431, which echoes nothing either.
func TestEchoIsBoundedOverHTTP(t *testing.T) {
	t.Parallel()
	base := startHTTPServer(t, fuzzHandler(t), slog.New(slog.DiscardHandler), nil)
	echoed := strings.Repeat("x", membership.MaxEcho+1)
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantCode   membership.Code // empty: not an answer of the handler
	}{
		{"30 KB path", http.MethodGet, "/" + strings.Repeat("x", 30<<10), 404, codeRouteNotFound},
		{"30 KB method", strings.Repeat("X", 30<<10), usersPath(spaceLLMEvals), 405, codeMethodNotAllowed},
		{"60 KB path", http.MethodGet, "/" + strings.Repeat("x", 60<<10), http.StatusRequestHeaderFieldsTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), tc.method, base+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantCode == "" {
				if resp.StatusCode != tc.wantStatus || len(body) > 256 || strings.Contains(string(body), echoed) {
					t.Errorf("status %d, %d bytes of body %.100q; want %d and a short body", resp.StatusCode, len(body), body, tc.wantStatus)
				}
				return
			}
			checkShortProblem(t, resp.StatusCode, resp.Header, body, tc.wantStatus, tc.wantCode, echoed)
		})
	}
}

// checkShortProblem checks that an answer is a problem document of code,
// whose detail is short and does not hold echoed.
func checkShortProblem(t *testing.T, status int, h http.Header, body []byte, wantStatus int, wantCode membership.Code, echoed string) {
	t.Helper()
	if ct := h.Get("Content-Type"); status != wantStatus || ct != membership.ProblemContentType {
		t.Fatalf("status %d, Content-Type %q, want %d and a problem document; body %.200q", status, ct, wantStatus, body)
	}
	var p membership.Problem
	if err := json.Unmarshal(body, &p, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("not a problem document: %v; body %.200q", err, body)
	}
	if p.ErrorCode != wantCode {
		t.Errorf("error_code %q, want %q", p.ErrorCode, wantCode)
	}
	// membership.MaxEcho bytes of input, quoted (each byte at most \xNN), the "..."
	// of a cut and the fixed text around it.
	if len(p.Detail) > 4*membership.MaxEcho+100 || strings.Contains(p.Detail, echoed) {
		t.Errorf("a detail of %d bytes echoes the input: %.300q", len(p.Detail), p.Detail)
	}
	if len(body) > 1024 {
		t.Errorf("a problem document of %d bytes", len(body))
	}
}
