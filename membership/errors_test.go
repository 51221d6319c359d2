package membership_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spaceauthz/spaceauthz/internal/golden"
	"github.com/spaceauthz/spaceauthz/membership"
)

var allClasses = []*membership.Error{
	membership.ErrUnauthenticated,
	membership.ErrInvalidJSON, membership.ErrInvalidID, membership.ErrInvalidField,
	membership.ErrSpaceNotFound, membership.ErrOrganizationNotFound, membership.ErrForbidden, membership.ErrUserNotFound, membership.ErrMembershipNotFound, membership.ErrRoleNotFound,
	membership.ErrUserNotInOrganization, membership.ErrAnnotatorRoleRequired, membership.ErrAnnotatorRoleNotAllowed,
	membership.ErrInternal, membership.ErrUnavailable,
}

func TestProblemDocuments(t *testing.T) {
	t.Parallel()
	var out []byte
	for _, class := range allClasses {
		doc, err := json.MarshalIndent(class.Problem(), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, doc...)
		out = append(out, '\n')
	}
	golden.Check(t, "problems.golden", out)
}

func TestProblemTypesAndTitlesAreStablePerClass(t *testing.T) {
	t.Parallel()
	types, titles := map[string]bool{}, map[string]bool{}
	for _, class := range allClasses {
		p := class.Problem()
		if types[p.Type] || titles[p.Title] {
			t.Errorf("%s shares its type or title with another class", class.Code)
		}
		types[p.Type], titles[p.Title] = true, true
		if p.Status != class.Status || p.ErrorCode != class.Code || p.Title == "" || p.Detail == "" {
			t.Errorf("problem of %s is incomplete: %+v", class.Code, p)
		}
	}
}

func TestErrorsMatchTheirClassOnly(t *testing.T) {
	t.Parallel()
	_, svc := newWorld(t)
	_, err := svc.AddUserToSpace(context.Background(), add(orgReader, spaceS, target, member))
	for _, class := range allClasses {
		if got, want := errors.Is(err, class), class == membership.ErrForbidden; got != want {
			t.Errorf("errors.Is(forbidden error, %s) = %v", class.Code, got)
		}
	}
	var e *membership.Error
	if !errors.As(err, &e) || e.Rule != "space_admin" {
		t.Errorf("forbidden error %+v does not name the rule space_admin", e)
	}
}

func TestProblemForHidesUntypedErrors(t *testing.T) {
	t.Parallel()
	secret := errors.New(`pq: relation "users" does not exist`)
	for _, err := range []error{secret, fmt.Errorf("wrapped: %w", secret), membership.Internal(secret)} {
		p := membership.ProblemFor(err)
		if p.ErrorCode != membership.CodeInternal || p.Status != 500 || p.Detail != membership.ErrInternal.Detail {
			t.Errorf("ProblemFor(%v) = %+v, want the generic internal problem", err, p)
		}
	}
	p := membership.ProblemFor(fmt.Errorf("pool: %w", membership.ErrUnavailable))
	if p.Status != 503 || p.ErrorCode != membership.CodeUnavailable {
		t.Errorf("a wrapped ErrUnavailable renders as %+v", p)
	}
}

// TestErrorNamesItsCause: the message of a 500 or 503 ends with its cause,
// for logs, while the problem document's detail stays generic.
func TestErrorNamesItsCause(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial unix /tmp/pg/.s.PGSQL.5432: connect: connection refused")
	wrapped := fmt.Errorf("pgstore: reading the facts: %w", membership.Unavailable(cause))
	svcErr := membership.ProblemFor(wrapped)
	if got := membership.Unavailable(cause).Error(); !strings.HasSuffix(got, cause.Error()) {
		t.Errorf("Error() = %q, want it to end with the cause", got)
	}
	if strings.Contains(svcErr.Detail, "refused") {
		t.Errorf("the client's detail %q names the cause", svcErr.Detail)
	}
}
