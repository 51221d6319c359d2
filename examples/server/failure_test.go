package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// failingStore is a membership.Store whose every read and write fails in
// the way its function says.
type failingStore func(ctx context.Context) error

func (f failingStore) Read(ctx context.Context, _ membership.Query) (*membership.Facts, membership.Page, error) {
	return nil, membership.Page{}, f(ctx)
}

func (f failingStore) ListSpaces(ctx context.Context, _ membership.SpaceQuery, _ func(*membership.Facts) (bool, error)) (membership.SpaceList, error) {
	return membership.SpaceList{}, f(ctx)
}

func (f failingStore) AuditLog(ctx context.Context, _ membership.AuditQuery) (membership.AuditPage, error) {
	return membership.AuditPage{}, f(ctx)
}

func (f failingStore) Write(ctx context.Context, _ membership.Query, _ func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
	return membership.Written{}, f(ctx)
}

// TestStoreFailures checks the answers of every route to a failing store:
// 500 internal or 503 unavailable, with the cause in the log and never in
// the answer. The timeout case shows that each operation gets the
// per-request timeout.
func TestStoreFailures(t *testing.T) {
	t.Parallel()
	const secret = "SELECT * FROM space_members -- connection refused"
	failures := []struct {
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
	operations := []struct {
		name string
		call call
	}{
		{"add", call{key: keyAdmin, body: predefinedBody(userGrace, "PREDEFINED", "MEMBER")}},
		{"remove", call{method: http.MethodDelete, path: userPath(spaceLLMEvals, userBarbara), key: keyAdmin}},
		{"list", call{method: http.MethodGet, key: keyAdmin}},
		{"get space", getSpaceCall(keyAdmin, spaceLLMEvals)},
		{"list spaces", listSpacesCall(keyAdmin, "limit=1")},
		{"organization add", orgAdd(keyAdmin, orgResearch, predefinedBody(userKen, "PREDEFINED", "MEMBER"))},
		{"organization remove", orgRemove(keyAdmin, orgResearch, userBarbara)},
	}
	for _, tc := range failures {
		for _, op := range operations {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
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
				resp, body := s.do(t, op.call)
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
}
