package membership_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

// FuzzParseListAuditLogsRequest parses arbitrary query strings and actors
// as the HTTP example does: it never panics; an error is a
// *membership.Error of a class the input checks of a read of the audit log
// may answer, with a short detail; a request it accepts carries what it was
// given, has its start not after its end, and validates again.
func FuzzParseListAuditLogsRequest(f *testing.F) {
	for _, seed := range []struct {
		actor membership.ID
		query string
	}{
		{fuzzAda, ""},
		{fuzzAda, "limit=10&operation_type=MUTATION"},
		{fuzzAda, "start_time=2026-01-01T00:00:00Z&end_time=2026-02-01T00:00:00.5%2B02:00"},
		{fuzzAda, "start_time=2026-03-01T00:00:00Z&end_time=2026-02-01T00:00:00Z"},
		{fuzzAda, "user_id=VXNlcjox&cursor=YTE6"},
		{fuzzAda, "user_id=User:1"},
		{fuzzAda, "limit=1&limit=1"},
		{fuzzAda, "operation_type="},
		{"", "limit=1"},
	} {
		f.Add(string(seed.actor), seed.query)
	}
	f.Fuzz(func(t *testing.T, actor, query string) {
		params, _ := url.ParseQuery(query)
		req, err := membership.ParseListAuditLogsRequest(membership.ID(actor), params)
		if err != nil {
			e, ok := errors.AsType[*membership.Error](err)
			if !ok {
				t.Fatalf("an error that is not a *membership.Error: %T %v", err, err)
			}
			switch {
			case errors.Is(err, membership.ErrInvalidField), errors.Is(err, membership.ErrInvalidID), errors.Is(err, membership.ErrUnauthenticated):
			default:
				t.Fatalf("an error of class %s: %v", e.Code, err)
			}
			if p := membership.ProblemFor(err); p.Status < 400 || p.Status >= 500 || len(p.Detail) > fuzzMaxDetail {
				t.Fatalf("problem %+v", p)
			}
			return
		}
		if req.Limit < 0 || req.Limit > membership.MaxPageSize || req.Actor != membership.ID(actor) ||
			req.Cursor != params.Get("cursor") || string(req.UserID) != params.Get("user_id") || req.OperationType != params.Get("operation_type") {
			t.Fatalf("request %+v for actor %q and %v", req, actor, params)
		}
		if !req.Since.IsZero() && !req.Until.IsZero() && req.Since.After(req.Until) {
			t.Fatalf("accepted a window that ends before it starts: %+v", req)
		}
		if err := req.Validate(); err != nil {
			t.Fatalf("an accepted request does not validate: %v", err)
		}
	})
}
