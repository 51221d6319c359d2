package policytest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/spaceauthz/spaceauthz/policy"
	defaultpolicy "github.com/spaceauthz/spaceauthz/rego"
)

// RunRegoTests runs the Rego tests (test_ rules, in files named
// *_test.rego or not) of the host's policy found at paths, against the
// default policy plus the host's modules and data, with OPA's tester. Each
// path is one of:
//
//   - a bundle, a directory or a gzipped tarball (.tar.gz, .tgz), read as
//     policy.ReadBundle reads it: Rego v1 modules, and data placed by its
//     directory (a/b/data.json is data.a.b);
//   - a .rego file, a Rego v1 module;
//   - a .json, .yaml or .yml file, a data document merged at the root of
//     data.
//
// Each Rego test runs as a subtest of t named after its package and rule
// (a data-driven test has one nested subtest per case), and a failure names
// the test's file and line, the expression that failed and the test's print
// output. A todo_test_ rule is skipped.
//
// RunRegoTests fails t at once, before any subtest, when the policy (the
// default one, the modules that are not *_test.rego files, the data) is not
// one policy.New accepts, as for data whose top-level keys clash or a module
// that does not compile, and when paths hold no test at all.
func RunRegoTests(t *testing.T, paths ...string) {
	t.Helper()
	runRegoTests(goTest{t}, paths)
}

func runRegoTests(t suite, paths []string) {
	t.Helper()
	host, err := readHostPolicy(paths)
	if err != nil {
		t.Fatalf("policytest: %v", err)
	}
	if _, err := policy.New(host.options()...); err != nil {
		t.Fatalf("policytest: policy.New refuses the policy of %s: %v", strings.Join(paths, ", "), err)
	}
	results, err := host.runTests(t.Context())
	if err != nil {
		t.Fatalf("policytest: %v", err)
	}
	if len(results) == 0 {
		t.Fatalf("policytest: no Rego test (a test_ rule) in %s", strings.Join(paths, ", "))
	}
	for _, r := range results {
		t.subtest(strings.TrimPrefix(r.Package, "data.")+"."+r.Name, func(t suite) {
			reportRegoTest(t, r)
		})
	}
}

// hostPolicy is what the paths of RunRegoTests hold.
type hostPolicy struct {
	modules []defaultpolicy.Module // every module, tests included
	data    []map[string]any       // one document per path that has data
}

func isRegoTest(m defaultpolicy.Module) bool { return strings.HasSuffix(m.Name, "_test.rego") }

// options returns the policy the modules and data make, without the tests,
// as policy.New takes it.
func (h *hostPolicy) options() []policy.Option {
	var opts []policy.Option
	for _, m := range h.modules {
		if !isRegoTest(m) {
			opts = append(opts, policy.WithModule(m.Name, m.Source))
		}
	}
	for _, doc := range h.data {
		opts = append(opts, policy.WithData(doc))
	}
	return opts
}

func readHostPolicy(paths []string) (*hostPolicy, error) {
	if len(paths) == 0 {
		return nil, errors.New("no path to read Rego tests from")
	}
	h := &hostPolicy{}
	for _, path := range paths {
		info, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		switch ext := filepath.Ext(path); {
		case info.IsDir(), strings.HasSuffix(path, ".tar.gz"), ext == ".tgz":
			err = h.readBundle(path)
		case ext == ".rego":
			var src []byte
			if src, err = os.ReadFile(path); err == nil {
				h.modules = append(h.modules, defaultpolicy.Module{Name: path, Source: string(src)})
			}
		case ext == ".json", ext == ".yaml", ext == ".yml":
			err = h.readData(path)
		default:
			err = fmt.Errorf("%s: not a bundle (a directory, .tar.gz or .tgz), nor a .rego, .json, .yaml or .yml file", path)
		}
		if err != nil {
			return nil, err
		}
	}
	return h, nil
}

// readBundle reads a bundle as policy.ReadBundle does; its modules are
// named by their paths on disk (inside the tarball for one), so that a
// failure's file:line leads to them.
func (h *hostPolicy) readBundle(path string) error {
	b, err := policy.ReadBundle(path)
	if err != nil {
		return err
	}
	h.modules = append(h.modules, b.Modules()...)
	h.modules = append(h.modules, b.Tests()...)
	if len(b.Data()) > 0 {
		h.data = append(h.data, b.Data())
	}
	return nil
}

func (h *hostPolicy) readData(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := util.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc) > 0 {
		h.data = append(h.data, doc)
	}
	return nil
}

// runTests runs every test of the default policy and the host's modules,
// with the default data and the host's, and returns the results ordered by
// package and name.
func (h *hostPolicy) runTests(ctx context.Context) ([]*tester.Result, error) {
	defaults, data, err := defaultpolicy.Policy()
	if err != nil {
		return nil, err
	}
	modules := make(map[string]*ast.Module, len(defaults)+len(h.modules))
	for _, m := range slices.Concat(defaults, h.modules) {
		if _, dup := modules[m.Name]; dup {
			return nil, fmt.Errorf("two modules named %s", m.Name)
		}
		parsed, err := ast.ParseModuleWithOpts(m.Name, m.Source, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, err
		}
		modules[m.Name] = parsed
	}
	for _, doc := range h.data {
		for k, v := range doc {
			if _, clash := data[k]; clash {
				return nil, fmt.Errorf("data: two documents define data.%s", k)
			}
			data[k] = v
		}
	}
	// Tracing lets a failure name the expression that failed.
	ch, err := tester.NewRunner().
		SetStore(inmem.NewFromObject(data)).
		SetModules(modules).
		SetDefaultRegoVersion(ast.RegoV1).
		RaiseBuiltinErrors(true).
		EnableTracing(true).
		RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("compile the policy and its tests: %w", err)
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	slices.SortFunc(results, func(a, b *tester.Result) int {
		return strings.Compare(a.Package+"."+a.Name, b.Package+"."+b.Name)
	})
	return results, nil
}

// reportRegoTest fails t when the Rego test r failed or raised an error.
func reportRegoTest(t suite, r *tester.Result) {
	t.Helper()
	where := r.Name
	if r.Location != nil {
		where = fmt.Sprintf("%s:%d: %s", r.Location.File, r.Location.Row, r.Name)
	}
	switch {
	case r.Skip:
		t.Skip("todo_test_ rule")
	case r.Error != nil:
		t.Errorf("%s: error: %v%s", where, r.Error, printed(r.Output))
	case len(r.SubResults) > 0:
		reportRegoCases(t, where, r.SubResults)
		if r.Fail && !t.Failed() {
			t.Errorf("%s failed%s%s", where, failedAt(r.Trace), printed(r.Output))
		}
	case r.Fail:
		t.Errorf("%s failed%s%s", where, failedAt(r.Trace), printed(r.Output))
	}
}

// reportRegoCases runs one subtest per case of a data-driven test, failing
// those that failed.
func reportRegoCases(t suite, where string, cases tester.SubResultMap) {
	t.Helper()
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		sr := cases[name]
		t.subtest(name, func(t suite) {
			if len(sr.SubResults) > 0 {
				reportRegoCases(t, where, sr.SubResults)
			}
			if sr.Fail && !t.Failed() {
				t.Errorf("%s: case %q failed%s", where, name, failedAt(sr.Trace))
			}
		})
	}
}

// failedAt names the expression whose failure failed a test, as `opa test
// --explain fails` would: the last one to fail in a query of the test, but
// inside an every, whose body says more than the every itself.
func failedAt(trace []*topdown.Event) string {
	for _, e := range slices.Backward(trace) {
		if e.Op != topdown.FailOp || e.Location == nil || e.QueryID == 0 {
			continue
		}
		expr, ok := e.Node.(*ast.Expr)
		if !ok {
			continue
		}
		if _, isEvery := expr.Terms.(*ast.Every); isEvery {
			continue
		}
		// The expression as written: the compiled one has local variables
		// of the compiler's own in it.
		return fmt.Sprintf("\n  at %s:%d: %s", e.Location.File, e.Location.Row, e.Location.Text)
	}
	return ""
}

// printed returns what a test printed, indented under the failure.
func printed(output []byte) string {
	out := strings.TrimSpace(string(output))
	if out == "" {
		return ""
	}
	return "\n  printed:\n    " + strings.ReplaceAll(out, "\n", "\n    ")
}
