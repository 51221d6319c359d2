package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
)

// TestStalledClients covers clients that stop sending part way through a
// request, against the server as run builds it with short read timeouts: a
// stalled body is answered 408 request_timeout once the read timeout
// passes, and nothing is written; stalled headers get the connection
// closed without an answer.
func TestStalledClients(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil) // for its store and logs; the requests go to the server below
	engine, err := sharedEngine()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := membership.NewService(s.store, engine)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := newAPIKeyAuthenticator(s.fixture.APIKeys)
	if err != nil {
		t.Fatal(err)
	}
	logs := new(syncBuffer)
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	const timeout = 200 * time.Millisecond
	base := startHTTPServer(t, newHandler(svc, auth, logger, requestTimeout), logger, func(srv *http.Server) {
		srv.ReadHeaderTimeout, srv.ReadTimeout = timeout, timeout
	})
	addr := strings.TrimPrefix(base, "http://")
	before := s.memberships(t)

	body := predefinedBody(userGrace, "PREDEFINED", "MEMBER")
	tests := []struct {
		name    string
		partial string
		want    loadOutcome
	}{
		{"body", fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			usersPath(spaceLLMEvals), addr, keyAdmin, len(body), body[:len(body)-1]), loadOutcome{408, codeRequestTimeout}},
		{"chunked body", fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n",
			usersPath(spaceLLMEvals), addr, keyAdmin, len(body), body), loadOutcome{408, codeRequestTimeout}},
		{"headers", fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n", usersPath(spaceLLMEvals), addr, keyAdmin),
			loadOutcome{status: statusClosed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cl := &loadClient{ctx: context.Background(), addr: addr}
			start := time.Now()
			got, err := cl.raw(tc.partial)
			if err != nil || got != tc.want {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
			if d := time.Since(start); d < timeout {
				t.Errorf("answered after %v, before the read timeout of %v", d, timeout)
			}
		})
	}
	t.Cleanup(func() {
		// After the subtests: nothing was written.
		if after := s.memberships(t); len(after) != len(before) {
			t.Errorf("memberships %v after stalled requests, want %v", after, before)
		}
	})
}
