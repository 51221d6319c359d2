package membership_test

import (
	"errors"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

func TestDecisionErr(t *testing.T) {
	t.Parallel()
	v := func(code membership.Code) membership.Violation {
		return membership.Violation{Code: code, Rule: string(code)}
	}
	for _, tc := range []struct {
		name   string
		d      membership.Decision
		code   membership.Code // "" means allowed
		status int
	}{
		{"allow", membership.Decision{Allow: true}, "", 0},
		{"single", membership.Decision{Violations: []membership.Violation{v(membership.CodeRoleNotFound)}}, membership.CodeRoleNotFound, 404},
		{"earliest check wins", membership.Decision{Violations: []membership.Violation{
			v(membership.CodeAnnotatorRoleNotAllowed), v(membership.CodeUserNotFound), v(membership.CodeForbidden), v(membership.CodeUserNotInOrganization),
		}}, membership.CodeForbidden, 403},
		{"host code after every known one", membership.Decision{Violations: []membership.Violation{
			{Code: "space_archived", Status: 409}, v(membership.CodeAnnotatorRoleNotAllowed),
		}}, membership.CodeAnnotatorRoleNotAllowed, 400},
		{"host code with status", membership.Decision{Violations: []membership.Violation{{Code: "space_archived", Status: 409}}}, "space_archived", 409},
		{"host code defaults to 403", membership.Decision{Violations: []membership.Violation{{Code: "space_archived"}}}, "space_archived", 403},
		{"host code with a status out of range", membership.Decision{Violations: []membership.Violation{{Code: "space_archived", Status: 200}}}, "space_archived", 403},
		{"host codes in code order", membership.Decision{Violations: []membership.Violation{{Code: "zz"}, {Code: "aa"}}}, "aa", 403},
		{"deny without reason", membership.Decision{}, membership.CodeInternal, 500},
		{"allow with a reason", membership.Decision{Allow: true, Violations: []membership.Violation{v(membership.CodeForbidden)}}, membership.CodeInternal, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.d.Err()
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			var e *membership.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Status != tc.status {
				t.Errorf("Err() = %+v, want %s with status %d", err, tc.code, tc.status)
			}
		})
	}
}
