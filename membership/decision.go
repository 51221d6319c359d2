package membership

import (
	"context"
	"errors"
	"net/http"
)

// Authorizer decides whether the facts allow the operation they were read
// for. Package policy provides the Rego implementation. Decide must be safe
// for concurrent use, must not modify the facts, and may be called more than
// once per request when a Store re-validates (see Store.Write).
type Authorizer interface {
	Decide(ctx context.Context, facts *Facts) (Decision, error)
}

// Decision is the outcome of one authorization: an allow, or a deny with
// the rules it broke. A well-formed Decision has Allow set exactly when
// Violations is empty; anything else is treated as a policy failure.
type Decision struct {
	Allow      bool
	Violations []Violation
}

// Violation is a rule the facts broke.
type Violation struct {
	// Code is the error_code: one of the library's codes, or a code
	// of a host's own rule.
	Code Code
	// Rule names the rule, for audit logs.
	Rule string
	// Status is the HTTP status a host's own code answers with, 400 to 499;
	// zero means 403. It is ignored for the library's codes.
	Status int
	// Detail explains a host's own code to the client; the library's own
	// codes have fixed details.
	Detail string
}

// errMalformedDecision is the cause behind a 500 for a decision that is
// neither a clean allow nor a deny with reasons.
var errMalformedDecision = errors.New("malformed decision")

// Err returns nil for a well-formed allow and otherwise the *Error that
// answers the request: the violation that comes first in the check order of
// the operations (host codes after all of them, by code), or 500 internal for
// a malformed decision. It never returns nil for a deny.
func (d Decision) Err() error {
	if d.Allow && len(d.Violations) == 0 {
		return nil
	}
	if len(d.Violations) == 0 || d.Allow {
		return Internal(errMalformedDecision)
	}
	winner := d.Violations[0]
	for _, v := range d.Violations[1:] {
		if v.Precedes(winner) {
			winner = v
		}
	}
	return winner.err()
}

// rank orders codes by check; host codes come after every known one.
func rank(c Code) int {
	for i, s := range sentinels {
		if s.Code == c {
			return i
		}
	}
	return len(sentinels)
}

// Precedes reports whether v answers a request before o when both fire:
// v's code comes first in the check order (a host's codes after every code
// of the library, by code), or the codes are equal and v's rule sorts
// first.
func (v Violation) Precedes(o Violation) bool {
	rv, ro := rank(v.Code), rank(o.Code)
	if rv != ro {
		return rv < ro
	}
	return v.Code < o.Code || (v.Code == o.Code && v.Rule < o.Rule)
}

func (v Violation) err() *Error {
	if v.Code == "" {
		return Internal(errMalformedDecision)
	}
	var e Error
	if r := rank(v.Code); r < len(sentinels) {
		e = *sentinels[r]
	} else {
		e = Error{Code: v.Code, Status: http.StatusForbidden, Detail: "the request was denied by policy"}
		if v.Status >= 400 && v.Status <= 499 {
			e.Status = v.Status
		}
		if v.Detail != "" {
			e.Detail = v.Detail
		}
	}
	e.Rule = v.Rule
	return &e
}
