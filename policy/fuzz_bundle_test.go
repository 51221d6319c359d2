package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spaceauthz/spaceauthz/policy"
)

// FuzzReadBundle feeds arbitrary bytes to ReadBundle as a .tar.gz, and
// what it reads to New: either may refuse, always with ErrInvalidPolicy,
// and neither may panic. A bundle New accepts extends the default policy,
// so it never allows what the default policy denies. The seed corpus
// (testdata/fuzz/FuzzReadBundle) holds a valid bundle, one with a failing
// Rego test, one with a module that does not parse, and damaged archives.
func FuzzReadBundle(f *testing.F) {
	denied := allowedFacts()
	denied.Target = nil
	f.Fuzz(func(t *testing.T, archive []byte) {
		path := filepath.Join(t.TempDir(), "bundle.tar.gz")
		if err := os.WriteFile(path, archive, 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := policy.ReadBundle(path)
		if err != nil {
			if !errors.Is(err, policy.ErrInvalidPolicy) {
				t.Fatalf("ReadBundle refused with %v, want ErrInvalidPolicy", err)
			}
			return
		}
		e, err := policy.New(policy.WithBundle(b))
		if err != nil {
			if !errors.Is(err, policy.ErrInvalidPolicy) {
				t.Fatalf("New refused with %v, want ErrInvalidPolicy", err)
			}
			return
		}
		if d, err := e.Decide(context.Background(), denied); err == nil && d.Allow {
			t.Fatalf("a bundle that extends the default policy allows what it denies: %+v", d)
		}
	})
}
