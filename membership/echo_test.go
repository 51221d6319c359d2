package membership

import (
	"strings"
	"testing"
)

func TestClipAndQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"GET /", "GET /"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), strings.Repeat("a", 64) + "..."},
		// A cut never splits a rune: "é" is two bytes, the 64th byte is
		// the first of one.
		{strings.Repeat("a", 63) + strings.Repeat("é", 4), strings.Repeat("a", 63) + "..."},
	}
	for _, tc := range tests {
		if got := clip(tc.in); got != tc.want {
			t.Errorf("clip(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got, want := QuoteInput("a\"b\n"), `"a\"b\n"`; got != want {
		t.Errorf("QuoteInput = %s, want %s", got, want)
	}
}
