// Package golden compares rendered output with golden files under
// testdata/, and rewrites them when a test runs with -update:
//
//	go test ./membership -run TestProblemDocuments -update
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ instead of comparing with them")

// Check compares got with the file testdata/name, or writes got there under
// -update. name may hold slashes for subfolders.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// CheckSection compares got with the part of the file at path (relative to
// the test's package) that stands between the lines begin and end, or
// rewrites that part under -update: for a table in the docs that code
// derives, so that the docs cannot drift from the code.
func CheckSection(t testing.TB, path, begin, end string, got []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i, j := strings.Index(text, begin+"\n"), strings.Index(text, "\n"+end)
	if i < 0 || j < i {
		t.Fatalf("%s has no section between %q and %q", path, begin, end)
	}
	start := i + len(begin) + 1
	if *update {
		out := text[:start] + string(got) + text[j+1:]
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(text[start:j+1], string(got)); diff != "" {
		t.Errorf("%s: the section between %q and %q differs (-file +code); run with -update:\n%s", path, begin, end, diff)
	}
}
