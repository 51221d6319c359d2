package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// failingStore is a membership.Store that fails in the way its function
// says.
type failingStore func(ctx context.Context) error

func (f failingStore) UpsertMembership(ctx context.Context, _ membership.AddUserRequest, _ func(*membership.Facts) error) (membership.Membership, error) {
	return membership.Membership{}, f(ctx)
}

// TestStoreFailures checks the answers to a failing store: 500 internal or
// 503 unavailable, with the cause in the log and never in the answer.
func TestStoreFailures(t *testing.T) {
	t.Parallel()
	const secret = "SELECT * FROM space_members -- connection refused"
	tests := []struct {
		name       string
		store      failingStore
		timeout    time.Duration
		wantStatus int
		wantCode   membership.Code
		wantCause  string
	}{
		{"error", func(context.Context) error { return errors.New(secret) },
			time.Hour, 500, membership.CodeInternal, secret},
		{"unavailable", func(context.Context) error { return membership.Unavailable(errors.New(secret)) },
			time.Hour, 503, membership.CodeUnavailable, secret},
		{"timeout", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			time.Millisecond, 503, membership.CodeUnavailable, "context deadline exceeded"},
		{"panic", func(context.Context) error { panic(secret) },
			time.Hour, 500, membership.CodeInternal, "panic: " + secret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			engine, err := sharedEngine()
			if err != nil {
				t.Fatal(err)
			}
			svc, err := membership.NewService(tc.store, engine)
			if err != nil {
				t.Fatal(err)
			}
			auth, err := newAPIKeyAuthenticator(fixture.Demo().APIKeys)
			if err != nil {
				t.Fatal(err)
			}
			logs := new(syncBuffer)
			srv := httptest.NewServer(newHandler(svc, auth, slog.New(slog.NewJSONHandler(logs, nil)), tc.timeout))
			s := &testServer{Server: srv}
			resp, body := s.do(t, call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")})
			srv.Close()

			checkProblem(t, resp, body, tc.wantStatus, tc.wantCode)
			if strings.Contains(string(body), "SELECT") || strings.Contains(string(body), "panic") {
				t.Errorf("the answer leaks the cause: %s", body)
			}
			if !strings.Contains(logs.String(), tc.wantCause) {
				t.Errorf("the log does not hold the cause %q:\n%s", tc.wantCause, logs)
			}
		})
	}
}
