package policytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

// ErrInvalidCase is wrapped by the Err of a Result whose Case cannot be
// checked: it has no name, no facts or no expectation.
var ErrInvalidCase = errors.New("policytest: invalid case")

// Case is one request and the outcome it expects.
type Case struct {
	// Name names the case, as a subtest of Run.
	Name string
	// Facts are what the policy decides on, usually a Situation's Facts.
	// They must not be modified once the case is checked.
	Facts *membership.Facts
	// Want is the expected outcome: Allow(), or Deny(code, rule).
	Want Outcome
}

// Result is how one Case turned out.
type Result struct {
	Case Case
	// Got is how the service would answer the decision.
	Got Outcome
	// Fired are the violations of the decision, every rule that fired,
	// in the operation's check order: the first answers the request.
	Fired []membership.Violation
	// Err is the error Decide returned (Got is then 500 internal, as the
	// service answers), or, for a case that was not decided, an error
	// wrapping ErrInvalidCase.
	Err error
}

// Passed reports whether the case is valid and got the outcome it wants.
func (r Result) Passed() bool {
	return !errors.Is(r.Err, ErrInvalidCase) && r.Got == r.Case.Want
}

// String reports the result on one line when it passed; otherwise the
// expected and actual outcomes, their go-cmp diff, the error if any, and
// the rules that fired.
func (r Result) String() string {
	return r.Case.Name + ": " + r.explain()
}

// explain is String without the case's name, which a subtest already shows.
func (r Result) explain() string {
	if errors.Is(r.Err, ErrInvalidCase) {
		return r.Err.Error()
	}
	if r.Passed() {
		return "ok, " + r.Got.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "want %v, got %v\n", r.Case.Want, r.Got)
	// go-cmp marks up a diff with spaces or, at random, non-breaking
	// spaces, so that nobody relies on its layout; a report that prints
	// the same every time is worth more here.
	diff := strings.ReplaceAll(cmp.Diff(r.Case.Want, r.Got), "\u00a0", " ")
	fmt.Fprintf(&b, "diff (-want +got):\n%s", diff)
	if r.Err != nil {
		fmt.Fprintf(&b, "decide: %v\n", r.Err)
	}
	if len(r.Fired) == 0 {
		b.WriteString("no rule fired")
		return b.String()
	}
	b.WriteString("rules that fired, in check order:")
	for _, v := range r.Fired {
		fmt.Fprintf(&b, "\n  %s: %s", v.Rule, v.Code)
		if v.Status != 0 {
			fmt.Fprintf(&b, " (status %d)", v.Status)
		}
	}
	return b.String()
}

// Check decides every case with authz, one after the other, and returns
// their results in the order of cases. It fails no test: Run does, for a
// *testing.T.
func Check(ctx context.Context, authz membership.Authorizer, cases []Case) []Result {
	results := make([]Result, len(cases))
	for i, c := range cases {
		results[i] = check(ctx, authz, c)
	}
	return results
}

func check(ctx context.Context, authz membership.Authorizer, c Case) Result {
	r := Result{Case: c}
	switch {
	case c.Name == "":
		r.Err = fmt.Errorf("%w: no name", ErrInvalidCase)
	case c.Facts == nil:
		r.Err = fmt.Errorf("%w: no facts", ErrInvalidCase)
	case !c.Want.valid():
		r.Err = fmt.Errorf("%w: no expectation (Want is neither Allow() nor Deny(...))", ErrInvalidCase)
	}
	if r.Err != nil {
		return r
	}
	d, err := authz.Decide(ctx, c.Facts)
	r.Got, r.Err = outcomeOf(d, err), err
	r.Fired = inCheckOrder(d.Violations)
	return r
}

// inCheckOrder returns a sorted copy of violations, the one that answers
// first.
func inCheckOrder(violations []membership.Violation) []membership.Violation {
	sorted := slices.Clone(violations)
	slices.SortStableFunc(sorted, func(a, b membership.Violation) int {
		switch {
		case a.Precedes(b):
			return -1
		case b.Precedes(a):
			return 1
		}
		return 0
	})
	return sorted
}

// Run checks every case as a subtest of t named after it, and fails the
// subtest of a case that does not get the outcome it wants with the report
// of Result.String (but for the case's name, which the subtest's gives).
// The subtests run in parallel (t.Parallel), so authz must be safe for
// concurrent use, as every membership.Authorizer is; Run returns before
// they finish, as parallel subtests do.
//
// authz is usually a *policy.Engine built by NewEngine from the host's
// options: the default policy plus the host's modules, data or bundle.
func Run(t *testing.T, authz membership.Authorizer, cases []Case) {
	t.Helper()
	run(goTest{t}, authz, cases)
}

func run(t suite, authz membership.Authorizer, cases []Case) {
	t.Helper()
	if len(cases) == 0 {
		t.Error("policytest: no cases to run")
	}
	for _, c := range cases {
		t.subtest(c.Name, func(t suite) {
			t.Parallel()
			if r := check(t.Context(), authz, c); !r.Passed() {
				t.Error(r.explain())
			}
		})
	}
}

// NewEngine returns the engine policy.New builds from opts (the default
// policy plus, or instead of, what they add), and fails tb at once if
// policy.New refuses them.
func NewEngine(tb testing.TB, opts ...policy.Option) *policy.Engine {
	tb.Helper()
	e, err := policy.New(opts...)
	if err != nil {
		tb.Fatalf("policytest: policy.New: %v", err)
	}
	return e
}
