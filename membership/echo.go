package membership

import (
	"strconv"
	"unicode/utf8"
)

// MaxEcho bounds what an error echoes of a client's own input (an unknown
// member or parameter name, a transport's method and path): enough to
// recognise it, never a 60 KB name sent back whole.
const MaxEcho = 64

// clip shortens s to at most MaxEcho bytes, on a rune boundary, marking a
// cut with "...".
func clip(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	cut := MaxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// QuoteInput returns client input for a problem detail: cut to MaxEcho
// bytes (on a rune boundary, marked "...") and quoted as a Go string, so
// that its length is bounded and control characters and quotes cannot shape
// the message around it. Transports use it for details of their own.
func QuoteInput(s string) string { return strconv.Quote(clip(s)) }
