package policytest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

// fakeT is a suite that records what a runner reports instead of failing
// the test that runs it. Subtests run one at a time, to the end, on a
// goroutine of their own (so that Fatalf and Skip can end them).
type fakeT struct {
	testing.TB // nil: calling a method not defined below panics

	name    string
	parent  *fakeT
	log     *fakeLog
	failed  bool
	skipped bool
}

// fakeLog is what the tests of a fakeT reported, by test name.
type fakeLog struct {
	mu       sync.Mutex
	messages map[string][]string
	failed   []string // names of the tests that failed, in order
	skipped  []string
}

// runFake runs f on a new fakeT and returns what its tests reported.
func runFake(f func(suite)) (*fakeT, *fakeLog) {
	log := &fakeLog{messages: map[string][]string{}}
	root := &fakeT{name: "Test", log: log}
	root.run(f)
	return root, log
}

func (f *fakeT) run(fn func(suite)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	f.log.mu.Lock()
	defer f.log.mu.Unlock()
	if f.failed {
		f.log.failed = append(f.log.failed, f.name)
	}
	if f.skipped {
		f.log.skipped = append(f.log.skipped, f.name)
	}
}

func (f *fakeT) subtest(name string, fn func(suite)) bool {
	child := &fakeT{name: f.name + "/" + name, parent: f, log: f.log}
	child.run(fn)
	return !child.failed
}

func (f *fakeT) record(msg string) {
	f.log.mu.Lock()
	defer f.log.mu.Unlock()
	f.log.messages[f.name] = append(f.log.messages[f.name], msg)
	for t := f; t != nil; t = t.parent {
		t.failed = true
	}
}

func (f *fakeT) Helper()                           {}
func (f *fakeT) Parallel()                         {}
func (f *fakeT) Name() string                      { return f.name }
func (f *fakeT) Context() context.Context          { return context.Background() }
func (f *fakeT) Failed() bool                      { return f.failed }
func (f *fakeT) Error(args ...any)                 { f.record(fmt.Sprint(args...)) }
func (f *fakeT) Errorf(format string, args ...any) { f.record(fmt.Sprintf(format, args...)) }
func (f *fakeT) Fatalf(format string, args ...any) {
	f.record(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (f *fakeT) Skip(args ...any) {
	f.skipped = true
	runtime.Goexit()
}

// TestRunFailsWithAReport: Run fails the subtest of a case that gets
// another outcome than it wants, and only that one, with the report.
func TestRunFailsWithAReport(t *testing.T) {
	t.Parallel()
	cases := []Case{
		{Name: "right", Facts: Add().Facts(), Want: Allow()},
		{Name: "wrong", Facts: Add().ActorSpaceRole(Predefined(membership.RoleMember)).Facts(), Want: Allow()},
		{Name: "invalid", Facts: Add().Facts()},
	}
	root, log := runFake(func(s suite) { run(s, NewEngine(t), cases) })
	if !root.failed {
		t.Fatal("Run passed")
	}
	if want := []string{"Test/wrong", "Test/invalid", "Test"}; !slices.Equal(log.failed, want) {
		t.Errorf("failed tests %q, want %q", log.failed, want)
	}
	want := `want allow, got deny 403 forbidden by space_admin
diff (-want +got):
  policytest.Outcome{
- 	Allow:  true,
+ 	Allow:  false,
- 	Code:   "",
+ 	Code:   "forbidden",
- 	Rule:   "",
+ 	Rule:   "space_admin",
- 	Status: 0,
+ 	Status: 403,
  }
rules that fired, in check order:
  space_admin: forbidden`
	if diff := cmp.Diff([]string{want}, log.messages["Test/wrong"]); diff != "" {
		t.Errorf("report of the wrong case (-want +got):\n%s", diff)
	}
	if msgs := log.messages["Test/invalid"]; len(msgs) != 1 || !strings.Contains(msgs[0], "invalid case: no expectation") {
		t.Errorf("report of the invalid case %q", msgs)
	}
}

func TestRunWithoutCasesFails(t *testing.T) {
	t.Parallel()
	root, log := runFake(func(s suite) { run(s, NewEngine(t), nil) })
	if !root.failed || len(log.messages["Test"]) != 1 {
		t.Errorf("Run of no case: failed %v, messages %q; want one failure", root.failed, log.messages)
	}
}

// TestRunRegoTestsFails: wrong Rego tests fail their own subtests, naming
// the test's file and line and the expression that failed; right ones pass,
// and a todo_test_ rule is skipped.
func TestRunRegoTestsFails(t *testing.T) {
	t.Parallel()
	root, log := runFake(func(s suite) { runRegoTests(s, []string{"testdata/failing"}) })
	if !root.failed {
		t.Fatal("RunRegoTests passed")
	}
	wantFailed := []string{
		"Test/failing_test.test_space_admin_by_role/READ_ONLY",
		"Test/failing_test.test_space_admin_by_role",
		"Test/failing_test.test_space_member_adds",
		"Test",
	}
	if !slices.Equal(log.failed, wantFailed) {
		t.Errorf("failed tests %q, want %q", log.failed, wantFailed)
	}
	if want := []string{"Test/failing_test.todo_test_archived_space"}; !slices.Equal(log.skipped, want) {
		t.Errorf("skipped tests %q, want %q", log.skipped, want)
	}
	for name, wants := range map[string][]string{
		"Test/failing_test.test_space_member_adds": {
			"testdata/failing/failing_test.rego:30: test_space_member_adds failed\n",
			"\n  at testdata/failing/failing_test.rego:33: spaceauthz.decision.allow with input as member_adds",
			"\n  printed:\n    violations: {{\"code\": \"forbidden\", \"rule\": \"space_admin\"}}",
		},
		"Test/failing_test.test_space_admin_by_role/READ_ONLY": {
			`testdata/failing/failing_test.rego:37: test_space_admin_by_role: case "READ_ONLY" failed`,
			"\n  at testdata/failing/failing_test.rego:40: admin == spaceauthz.decision.allow with input as facts",
		},
	} {
		msgs := log.messages[name]
		if len(msgs) != 1 {
			t.Errorf("%s reported %q, want one message", name, msgs)
			continue
		}
		for _, want := range wants {
			if !strings.Contains(msgs[0], want) {
				t.Errorf("%s: the report lacks %q:\n%s", name, want, msgs[0])
			}
		}
	}
}

func TestRunRegoTestsRefusesWhatItCannotRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"no path", nil, "no path"},
		{"missing path", []string{"testdata/missing"}, "no such file"},
		{"no test", []string{"testdata/archived/archived.rego", "testdata/archived/data.json"}, "no Rego test"},
		{"unknown file", []string{"suite.go"}, "not a bundle"},
		{"data clash", []string{"testdata/archived", "testdata/archived/data.json"}, "policy.New refuses"},
		{"module twice", []string{"testdata/archived", "testdata/archived/archived.rego"}, "policy.New refuses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, log := runFake(func(s suite) { runRegoTests(s, tc.paths) })
			msgs := log.messages["Test"]
			if !root.failed || len(msgs) != 1 || !strings.Contains(msgs[0], tc.want) {
				t.Errorf("failed %v, reported %q; want one message with %q", root.failed, msgs, tc.want)
			}
		})
	}
}
