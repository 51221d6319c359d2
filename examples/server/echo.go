package main

import (
	"strconv"
	"unicode/utf8"
)

// maxEcho bounds what a problem detail repeats of the client's own request
// (its method, its path): enough to recognise it, never a path of 30 KB sent
// back whole. It is the bound the library applies to the names it echoes.
const maxEcho = 64

// clip shortens s to at most maxEcho bytes, on a rune boundary, marking a
// cut with "...".
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// quote clips s and quotes it as a Go string, so that control characters
// and quotes in client input cannot shape the message around it.
func quote(s string) string { return strconv.Quote(clip(s)) }
