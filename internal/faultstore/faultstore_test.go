package faultstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/internal/faultstore"
	"github.com/spaceauthz/spaceauthz/membership"
)

// recorder is a store that does nothing but write down what reaches it, in
// order, with the state of the context it was given, and behaves as the
// membership.Store contract asks: it refuses a done context on entry and
// before it commits. Before the commit it checks a context derived from
// the one it was given, as pgx does for its network calls, so that the
// tests see that a fault reaches derived contexts at once.
type recorder struct {
	// decides is how many times Write calls decide in a row, as a store
	// does after lost races; 1 when zero.
	decides int

	mu    sync.Mutex
	steps []string
}

func (r *recorder) step(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, fmt.Sprintf(format, args...))
}

func (r *recorder) Read(ctx context.Context, q membership.Query) (*membership.Facts, membership.Page, error) {
	r.step("read (ctx %v)", ctx.Err())
	if err := ctx.Err(); err != nil {
		return nil, membership.Page{}, err
	}
	return &membership.Facts{Query: q}, membership.Page{Members: []membership.Membership{{ID: "bQ=="}}}, nil
}

func (r *recorder) ListSpaces(ctx context.Context, _ membership.SpaceQuery, _ func(*membership.Facts) (bool, error)) (membership.SpaceList, error) {
	r.step("list spaces (ctx %v)", ctx.Err())
	if err := ctx.Err(); err != nil {
		return membership.SpaceList{}, err
	}
	return membership.SpaceList{}, nil
}

func (r *recorder) AuditLog(ctx context.Context, _ membership.AuditQuery) (membership.AuditPage, error) {
	r.step("audit log (ctx %v)", ctx.Err())
	if err := ctx.Err(); err != nil {
		return membership.AuditPage{}, err
	}
	return membership.AuditPage{}, nil
}

func (r *recorder) Write(ctx context.Context, q membership.Query, decide func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
	r.step("write (ctx %v)", ctx.Err())
	if err := ctx.Err(); err != nil {
		return membership.Written{}, err
	}
	derived, cancel := context.WithCancel(ctx)
	defer cancel()
	for range max(r.decides, 1) {
		if _, err := decide(&membership.Facts{Query: q}); err != nil {
			r.step("decide failed")
			return membership.Written{}, err
		}
		r.step("decided")
	}
	if err := derived.Err(); err != nil {
		r.step("commit refused (derived ctx %v)", err)
		return membership.Written{}, err
	}
	r.step("committed")
	return membership.Written{Space: membership.Membership{ID: "bQ=="}}, nil
}

// policy is a decide that writes down that it ran.
func policy(r *recorder, err error) func(*membership.Facts) (membership.Change, error) {
	return func(*membership.Facts) (membership.Change, error) {
		r.step("policy")
		return membership.Change{Level: membership.LevelSpace, Kind: membership.ChangeDelete}, err
	}
}

// TestFaults injects each kind of fault at each point and checks what
// reaches the wrapped store and what the caller gets back.
func TestFaults(t *testing.T) {
	t.Parallel()
	errPolicy := errors.New("denied")
	for _, tc := range []struct {
		fault     faultstore.Fault
		decides   int   // of the recorder
		policyErr error // returned by the wrapped decide
		read      bool  // the call is a Read, not a Write
		steps     []string
		err       []error // the error returned wraps each of these
		facts     bool    // a Read returns its facts along with the error
		fired     int
	}{
		{fault: faultstore.Fault{}, read: true, steps: []string{"read (ctx <nil>)"}, facts: true},
		{fault: faultstore.Fault{}, steps: []string{"write (ctx <nil>)", "policy", "decided", "committed"}},

		{fault: faultstore.Fault{Point: faultstore.BeforeRead, Kind: faultstore.Fail}, read: true,
			err: []error{faultstore.ErrInjected}, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.BeforeRead, Kind: faultstore.Unavailable}, read: true,
			err: []error{faultstore.ErrInjected, membership.ErrUnavailable}, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.BeforeRead, Kind: faultstore.Timeout}, read: true,
			steps: []string{"read (ctx context deadline exceeded)"}, err: []error{context.DeadlineExceeded}, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.BeforeRead, Kind: faultstore.Cancel}, read: true,
			steps: []string{"read (ctx context canceled)"}, err: []error{context.Canceled}, fired: 1},

		{fault: faultstore.Fault{Point: faultstore.AfterRead, Kind: faultstore.Fail}, read: true,
			steps: []string{"read (ctx <nil>)"}, err: []error{faultstore.ErrInjected}, facts: true, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.AfterRead, Kind: faultstore.Timeout}, read: true,
			steps: []string{"read (ctx <nil>)"}, err: []error{context.DeadlineExceeded}, facts: true, fired: 1},

		{fault: faultstore.Fault{Point: faultstore.BeforeWrite, Kind: faultstore.Fail},
			err: []error{faultstore.ErrInjected}, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.BeforeWrite, Kind: faultstore.Unavailable},
			err: []error{faultstore.ErrInjected, membership.ErrUnavailable}, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.BeforeWrite, Kind: faultstore.Timeout},
			steps: []string{"write (ctx context deadline exceeded)"}, err: []error{context.DeadlineExceeded}, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.BeforeWrite, Kind: faultstore.Cancel},
			steps: []string{"write (ctx context canceled)"}, err: []error{context.Canceled}, fired: 1},

		// Before the decision, the policy never runs.
		{fault: faultstore.Fault{Point: faultstore.BeforeDecide, Kind: faultstore.Unavailable},
			steps: []string{"write (ctx <nil>)", "decide failed"}, err: []error{faultstore.ErrInjected, membership.ErrUnavailable}, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.BeforeDecide, Kind: faultstore.Timeout},
			steps: []string{"write (ctx <nil>)", "decide failed"}, err: []error{context.DeadlineExceeded}, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.BeforeDecide, Kind: faultstore.Fail, Call: 2}, decides: 3,
			steps: []string{"write (ctx <nil>)", "policy", "decided", "decide failed"}, err: []error{faultstore.ErrInjected}, fired: 1},

		// After it, the policy ran and allowed: an error takes the place
		// of its change; a done context must stop the commit.
		{fault: faultstore.Fault{Point: faultstore.AfterDecide, Kind: faultstore.Fail},
			steps: []string{"write (ctx <nil>)", "policy", "decide failed"}, err: []error{faultstore.ErrInjected}, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.AfterDecide, Kind: faultstore.Timeout},
			steps: []string{"write (ctx <nil>)", "policy", "decided", "commit refused (derived ctx context deadline exceeded)"},
			err:   []error{context.DeadlineExceeded}, fired: 1},
		{fault: faultstore.Fault{Point: faultstore.AfterDecide, Kind: faultstore.Cancel, Call: 2}, decides: 2,
			steps: []string{"write (ctx <nil>)", "policy", "decided", "policy", "decided", "commit refused (derived ctx context canceled)"},
			err:   []error{context.Canceled}, fired: 1},
		// A decision that denied is not an allow: the fault waits for one.
		{fault: faultstore.Fault{Point: faultstore.AfterDecide, Kind: faultstore.Fail}, policyErr: errPolicy,
			steps: []string{"write (ctx <nil>)", "policy", "decide failed"}, err: []error{errPolicy}},

		// A point the call never reaches injects nothing.
		{fault: faultstore.Fault{Point: faultstore.BeforeWrite, Kind: faultstore.Fail}, read: true,
			steps: []string{"read (ctx <nil>)"}, facts: true},
		{fault: faultstore.Fault{Point: faultstore.BeforeDecide, Kind: faultstore.Fail, Call: 2},
			steps: []string{"write (ctx <nil>)", "policy", "decided", "committed"}},
	} {
		name := tc.fault.String()
		if tc.read {
			name = "read/" + name
		} else {
			name = "write/" + name
		}
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			r := &recorder{decides: tc.decides}
			s := faultstore.New(r, tc.fault)
			var (
				facts *membership.Facts
				err   error
			)
			if tc.read {
				facts, _, err = s.Read(context.Background(), membership.Query{Operation: membership.OperationList})
			} else {
				_, err = s.Write(context.Background(), membership.Query{Operation: membership.OperationRemove}, policy(r, tc.policyErr))
			}
			if diff := cmp.Diff(tc.steps, r.steps); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if len(tc.err) == 0 && err != nil {
				t.Errorf("got error %v, want none", err)
			}
			for _, want := range tc.err {
				if !errors.Is(err, want) {
					t.Errorf("got error %v, want one that wraps %v", err, want)
				}
			}
			if tc.read && (facts != nil) != tc.facts {
				t.Errorf("Read returned facts %v, want facts: %v", facts, tc.facts)
			}
			if got := s.Fired(); got != tc.fired {
				t.Errorf("Fired() = %d, want %d", got, tc.fired)
			}
		})
	}
}

// TestTimeoutContext checks the context a Timeout fault ends: to the store
// it looks like a deadline that ran out, and it ends every context the
// store derived from it before the wrapper goes on.
func TestTimeoutContext(t *testing.T) {
	t.Parallel()
	var seen struct {
		err, derivedErr error
		hasDeadline     bool
		derivedDone     bool
	}
	inner := storeFunc(func(ctx context.Context, decide func(*membership.Facts) (membership.Change, error)) error {
		derived, cancel := context.WithCancel(ctx)
		defer cancel()
		if _, err := decide(&membership.Facts{}); err != nil {
			return err
		}
		seen.err, seen.derivedErr = ctx.Err(), derived.Err()
		_, seen.hasDeadline = ctx.Deadline()
		select {
		case <-derived.Done():
			seen.derivedDone = true
		default:
		}
		return nil
	})
	s := faultstore.New(inner, faultstore.Fault{Point: faultstore.AfterDecide, Kind: faultstore.Timeout})
	if _, err := s.Write(context.Background(), membership.Query{}, func(*membership.Facts) (membership.Change, error) {
		return membership.Change{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if seen.err != context.DeadlineExceeded || seen.derivedErr != context.DeadlineExceeded || !seen.derivedDone || !seen.hasDeadline {
		t.Errorf("after the fault the store saw ctx %v, derived ctx %v (done: %v), deadline set: %v; want both done with %v and a deadline",
			seen.err, seen.derivedErr, seen.derivedDone, seen.hasDeadline, context.DeadlineExceeded)
	}
}

// TestCallerCancellation checks that the wrapper passes on the caller's own
// cancellation, fault or no fault.
func TestCallerCancellation(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := faultstore.New(r, faultstore.Fault{})
	if _, err := s.Write(ctx, membership.Query{}, policy(r, nil)); !errors.Is(err, context.Canceled) {
		t.Errorf("a write with a cancelled context returned %v, want context.Canceled", err)
	}
}

// storeFunc is a Store whose Write is a function; its Read reads nothing.
type storeFunc func(ctx context.Context, decide func(*membership.Facts) (membership.Change, error)) error

func (f storeFunc) Read(context.Context, membership.Query) (*membership.Facts, membership.Page, error) {
	return &membership.Facts{}, membership.Page{}, nil
}

func (f storeFunc) ListSpaces(context.Context, membership.SpaceQuery, func(*membership.Facts) (bool, error)) (membership.SpaceList, error) {
	return membership.SpaceList{}, nil
}

func (f storeFunc) AuditLog(context.Context, membership.AuditQuery) (membership.AuditPage, error) {
	return membership.AuditPage{}, nil
}

func (f storeFunc) Write(ctx context.Context, _ membership.Query, decide func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
	return membership.Written{}, f(ctx, decide)
}
