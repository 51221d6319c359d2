package policytest

import (
	"errors"
	"fmt"

	"github.com/spaceauthz/spaceauthz/membership"
)

// Outcome is how the service answers a request: allowed, or denied with the
// error code, the rule and the HTTP status of the one violation that answers
// it. Build one with Allow or Deny; the zero Outcome is neither and is no
// expectation.
type Outcome struct {
	Allow bool
	// Code, Rule and Status are those of the answering violation of a deny:
	// the first in the operation's check order (see membership.Decision.Err).
	Code   membership.Code
	Rule   string
	Status int
}

// Allow returns the outcome of an allowed request.
func Allow() Outcome { return Outcome{Allow: true} }

// Deny returns the outcome of a request denied with code by rule. Its
// status is the one the service answers code with: the library's own for
// the library's codes, 403 for a host's code (see WithStatus).
//
// A deny is expected of the answer alone: rules that come after the
// answering one in the check order may fire as well, and do not count.
func Deny(code membership.Code, rule string) Outcome {
	out := Outcome{Code: code, Rule: rule}
	// The status comes from the one place that maps codes to answers.
	var e *membership.Error
	if errors.As(membership.Decision{Violations: []membership.Violation{{Code: code, Rule: rule}}}.Err(), &e) {
		out.Status = e.Status
	}
	return out
}

// WithStatus returns o expecting status: the status a host's own rule puts
// in its violation (400 to 499). The library's codes keep their fixed
// status whatever a rule says, so an expectation of another status for one
// of them never holds.
func (o Outcome) WithStatus(status int) Outcome {
	o.Status = status
	return o
}

// String describes o, as in "allow" or "deny 403 forbidden by space_admin".
func (o Outcome) String() string {
	switch {
	case o.Allow:
		return "allow"
	case o.Rule == "":
		return fmt.Sprintf("deny %d %s", o.Status, o.Code)
	}
	return fmt.Sprintf("deny %d %s by %s", o.Status, o.Code, o.Rule)
}

// valid reports whether o expects something.
func (o Outcome) valid() bool { return o != Outcome{} }

// outcomeOf returns how the service answers a decision: as Decision.Err
// says, and with 500 internal when deciding failed.
func outcomeOf(d membership.Decision, err error) Outcome {
	if err != nil {
		return Outcome{Code: membership.CodeInternal, Status: membership.ErrInternal.Status}
	}
	var e *membership.Error
	if !errors.As(d.Err(), &e) {
		return Allow()
	}
	return Outcome{Code: e.Code, Rule: e.Rule, Status: e.Status}
}
