package membership_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

// id makes a test ID from a readable name.
func id(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

func TestParseID(t *testing.T) {
	t.Parallel()
	longest := strings.Repeat("QUJD", membership.MaxIDLength/4)
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"the documented example", "RW50aXR5OjEyMzQ1", true},
		{"one padding", "T3JnOjE=", true},
		{"two padding", "U3BhY2U6MQ==", true},
		{"plus and slash", "+/+/", true},
		{"longest", longest, true},
		{"empty", "", false},
		{"decodes to nothing", "====", false},
		{"too long", longest + "QUJD", false},
		{"unpadded", "T3JnOjE", false},
		{"url alphabet", "-_-_", false},
		{"non-zero padding bits", "T3JnOjF=", false},
		{"newline inside", "T3Jn\nOjE=", false},
		{"space", "T3Jn OjE=", false},
		{"padding inside", "T3==OjE=", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, err := membership.ParseID(tc.in)
			if tc.ok {
				if err != nil || string(id) != tc.in {
					t.Errorf("ParseID(%q) = %q, %v; want the ID back", tc.in, id, err)
				}
				return
			}
			if !errors.Is(err, membership.ErrInvalidID) {
				t.Errorf("ParseID(%q) = %q, %v; want ErrInvalidID", tc.in, id, err)
			}
		})
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"RW50aXR5OjEyMzQ1", "T3JnOjE=", "", "====", "T3Jn\nOjE="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := membership.ParseID(s)
		if err != nil {
			return
		}
		if len(id) == 0 || len(id) > membership.MaxIDLength || strings.ContainsAny(string(id), "\r\n ") {
			t.Errorf("ParseID accepted %q", s)
		}
	})
}
