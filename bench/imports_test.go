package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLibraryKeepsPeerEnginesOut: the peer engines the benchmarks compare
// against are the benchmarks' business; no library package may depend on
// them.
func TestLibraryKeepsPeerEnginesOut(t *testing.T) {
	t.Parallel()
	library := []string{"../membership/...", "../policy/...", "../rego/...", "../memstore/..."}
	out, err := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, library...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed no dependencies")
	}
	for _, dep := range deps {
		if strings.Contains(dep, "cedar-policy") {
			t.Errorf("a library package depends on %s", dep)
		}
	}
}
