package membership_test

import (
	"errors"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

func TestParseRoles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want membership.PredefinedRole
	}{
		{"admin", membership.RoleAdmin}, {"ADMIN", membership.RoleAdmin},
		{"read-only", membership.RoleReadOnly}, {"READ_ONLY", membership.RoleReadOnly},
		{"annotator", membership.RoleAnnotator}, {"MEMBER", membership.RoleMember},
		{"read_only", 0}, {"Admin", 0}, {"", 0}, {"owner", 0},
	} {
		got, err := membership.ParsePredefinedRole(tc.in)
		if tc.want == 0 {
			if !errors.Is(err, membership.ErrInvalidField) {
				t.Errorf("ParsePredefinedRole(%q) = %v, %v; want ErrInvalidField", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParsePredefinedRole(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for in, want := range map[string]membership.AccountRole{"ADMIN": membership.AccountAdmin, "annotator": membership.AccountAnnotator, "READ_ONLY": 0, "": 0} {
		got, err := membership.ParseAccountRole(in)
		if (want == 0) != errors.Is(err, membership.ErrInvalidField) || got != want {
			t.Errorf("ParseAccountRole(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
