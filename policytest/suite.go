package policytest

import "testing"

// suite is what the runners need of a test: a testing.TB that runs
// subtests. *testing.T offers it through goTest; the package's own tests
// fake it, to watch a runner fail.
type suite interface {
	testing.TB
	Parallel()
	// subtest runs f as a subtest called name and reports whether it
	// passed, as testing.T.Run does.
	subtest(name string, f func(suite)) bool
}

// goTest is a *testing.T as a suite.
type goTest struct{ *testing.T }

func (g goTest) subtest(name string, f func(suite)) bool {
	return g.Run(name, func(t *testing.T) { f(goTest{t}) })
}
