package rego_test

import (
	"context"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/spaceauthz/spaceauthz/rego"
)

// testRuleHead matches the head of a test rule in opa fmt layout: a line that
// starts with the rule name (a data-driven test is test_name[case] if ...).
var testRuleHead = regexp.MustCompile(`(?m)^(test_[A-Za-z0-9_]*)`)

// TestRego runs every Rego unit test of the embedded policy (rego.Files, with
// data.json as data) through OPA's tester, one Go subtest per Rego test and
// one nested subtest per case of a data-driven test.
func TestRego(t *testing.T) {
	modules := loadModules(t)
	wantTests := testRules(t)
	if len(wantTests) == 0 {
		t.Fatal("no test_ rules found in the *_test.rego files")
	}
	store := inmem.NewFromObject(loadData(t))

	ch, err := tester.NewRunner().
		SetStore(store).
		SetModules(modules).
		SetDefaultRegoVersion(ast.RegoV1).
		RaiseBuiltinErrors(true).
		RunTests(context.Background(), nil)
	if err != nil {
		t.Fatalf("compile the policy and its tests: %v", err)
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	slices.SortFunc(results, func(a, b *tester.Result) int {
		return strings.Compare(a.Package+"."+a.Name, b.Package+"."+b.Name)
	})

	ran := make(map[string]bool, len(results))
	for _, r := range results {
		ran[r.Name] = true
		t.Run(strings.TrimPrefix(r.Package, "data.")+"."+r.Name, func(t *testing.T) {
			check(t, r)
		})
	}

	// A loader that drops a file or a rule must not pass silently.
	if len(results) < len(wantTests) {
		t.Errorf("%d Rego tests ran, want at least %d (one per test_ rule)", len(results), len(wantTests))
	}
	for _, name := range wantTests {
		if !ran[name] {
			t.Errorf("Rego test %s did not run", name)
		}
	}
}

// check fails t when the Rego test r failed or raised an error.
func check(t *testing.T, r *tester.Result) {
	t.Helper()
	where := ""
	if r.Location != nil {
		where = r.Location.String() + ": "
	}
	switch {
	case r.Skip:
		t.Skip("todo_test_ rule")
	case r.Error != nil:
		t.Fatalf("%serror: %v", where, r.Error)
	case len(r.SubResults) > 0:
		checkCases(t, where, r.SubResults)
		if r.Fail && !t.Failed() {
			t.Errorf("%sfailed", where)
		}
	case r.Fail:
		t.Errorf("%sfailed (run `opa test rego -v --explain fails` for a trace)", where)
	}
}

// checkCases fails one nested subtest per failed case of a data-driven test.
func checkCases(t *testing.T, where string, cases tester.SubResultMap) {
	t.Helper()
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		sr := cases[name]
		t.Run(name, func(t *testing.T) {
			if len(sr.SubResults) > 0 {
				checkCases(t, where, sr.SubResults)
			}
			if sr.Fail && !t.Failed() {
				t.Errorf("%scase %q failed", where, name)
			}
		})
	}
}

// loadModules parses every embedded .rego file (policy and tests) as Rego v1.
func loadModules(t *testing.T) map[string]*ast.Module {
	t.Helper()
	names, err := fs.Glob(rego.Files, "*.rego")
	if err != nil {
		t.Fatal(err)
	}
	modules := make(map[string]*ast.Module, len(names))
	for _, name := range names {
		src, err := fs.ReadFile(rego.Files, name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		modules[name] = m
	}
	return modules
}

// testRules returns the names of the test_ rules in the *_test.rego files of
// the package directory, read from disk and from the text, independently of
// the embedding and of the parser, so that neither can lose a test unnoticed.
func testRules(t *testing.T) []string {
	t.Helper()
	dir := os.DirFS(".")
	names, err := fs.Glob(dir, "*_test.rego")
	if err != nil {
		t.Fatal(err)
	}
	var tests []string
	for _, name := range names {
		src, err := fs.ReadFile(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, match := range testRuleHead.FindAllStringSubmatch(string(src), -1) {
			tests = append(tests, match[1])
		}
	}
	return tests
}

// loadData reads the embedded data.json (the predefined-role table).
func loadData(t *testing.T) map[string]any {
	t.Helper()
	src, err := fs.ReadFile(rego.Files, "data.json")
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := util.UnmarshalJSON(src, &data); err != nil {
		t.Fatalf("parse data.json: %v", err)
	}
	return data
}
