package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	defaultpolicy "github.com/spaceauthz/spaceauthz/rego"
)

// ErrPolicyTestFailed is wrapped (with ErrInvalidPolicy) by the error New
// and Reload return when a Rego test of a bundle fails.
var ErrPolicyTestFailed = errors.New("a Rego test failed")

// runTests runs the Rego tests against the policy (its parsed modules and
// data) with OPA's tester, and fails naming the file, line and name of each
// test that failed or raised an error.
func runTests(policy map[string]*ast.Module, tests []defaultpolicy.Module, data map[string]any) error {
	if len(tests) == 0 {
		return nil
	}
	modules := make(map[string]*ast.Module, len(policy)+len(tests))
	for name, m := range policy {
		modules[name] = m.Copy()
	}
	for _, t := range tests {
		if _, dup := modules[t.Name]; dup {
			return fmt.Errorf("%w: two modules named %q", ErrInvalidPolicy, t.Name)
		}
		mod, err := ast.ParseModuleWithOpts(t.Name, t.Source, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
		}
		modules[t.Name] = mod
	}
	ch, err := tester.NewRunner().
		SetStore(inmem.NewFromObject(data)).
		SetModules(modules).
		SetDefaultRegoVersion(ast.RegoV1).
		RaiseBuiltinErrors(true).
		RunTests(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("%w: compiling the Rego tests: %w", ErrInvalidPolicy, err)
	}
	var failed []string
	for r := range ch {
		if !r.Fail && r.Error == nil {
			continue
		}
		what := r.Package + "." + r.Name
		if r.Location != nil {
			what = r.Location.String() + ": " + what
		}
		if r.Error != nil {
			what += ": " + r.Error.Error()
		}
		failed = append(failed, what)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %w: %s", ErrInvalidPolicy, ErrPolicyTestFailed, strings.Join(failed, "; "))
	}
	return nil
}
