// Package faultstore wraps any membership.Store to inject one fault at a
// chosen point of its calls: an error, an outage (an error wrapping
// membership.ErrUnavailable), a deadline that runs out, or a cancellation.
// Tests use it to check that every failure of a store answers 500 or 503
// and leaves the store as it was.
//
// A wrapper reaches a store only through its two methods, so it injects at
// the seams those methods expose:
//
//   - before a Read, or after it has read its snapshot;
//   - before a Write reads its facts;
//   - inside decide, once the facts are read and before the wrapped decide
//     (the policy) runs: the transaction of a store such as pgstore is open;
//   - after the wrapped decide allowed, before the store commits.
//
// An error (Fail, Unavailable) takes the place of what follows the point:
// the wrapped call, the policy or the change is never reached. A timeout or
// a cancellation ends the context the wrapped store works under, and the
// call goes on: the store is called with a done context, or, before
// decide, decide answers the context's error without a decision, as
// policy.Engine does for a done context.
//
// The last point is the commit as far as it can be reached from outside a
// store: a timeout or a cancellation ends the context that the store was
// given just as decide returns the change, and a store must check its
// context before it commits (membership.Store.Write: a done ctx writes
// nothing). An error at that point is returned by decide in place of the
// change, which a store must also honour by writing nothing.
package faultstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
)

// Point is where in a store's calls a fault is injected. The zero Point is
// none: a Store with a zero Fault injects nothing.
type Point uint8

// The points, in the order in which a call reaches them.
const (
	// BeforeRead is before Store.Read reaches the wrapped store.
	BeforeRead Point = iota + 1
	// AfterRead is after the wrapped Read has returned its facts and page.
	// The wrapper returns them together with the fault's error, so that a
	// caller that uses a result despite its error shows.
	AfterRead
	// BeforeWrite is before Store.Write reaches the wrapped store, so
	// before it reads its facts.
	BeforeWrite
	// BeforeDecide is inside decide, after the store read the facts and
	// before the wrapped decide runs: the wrapped decide never runs, and
	// decide returns the fault's error.
	BeforeDecide
	// AfterDecide is inside decide, after the wrapped decide returned a
	// change without an error, before the store commits it. A decide that
	// returned an error is passed on untouched and the fault stays armed.
	AfterDecide
)

var pointNames = [...]string{
	BeforeRead:   "before read",
	AfterRead:    "after read",
	BeforeWrite:  "before write",
	BeforeDecide: "before decide",
	AfterDecide:  "after decide",
}

// String names the point, as in "before decide".
func (p Point) String() string {
	if p > 0 && int(p) < len(pointNames) {
		return pointNames[p]
	}
	return "none"
}

// Kind is what the fault does.
type Kind uint8

// The kinds of fault.
const (
	// Fail injects an error of no class: it wraps ErrInjected and nothing
	// else, so the library must treat it as an internal failure.
	Fail Kind = iota + 1
	// Unavailable injects an error that wraps both
	// membership.ErrUnavailable and ErrInjected: a passing outage.
	Unavailable
	// Timeout makes the deadline of the context the wrapped store works
	// under run out: its Err becomes context.DeadlineExceeded.
	Timeout
	// Cancel cancels the context the wrapped store works under: its Err
	// becomes context.Canceled.
	Cancel
)

var kindNames = [...]string{
	Fail:        "error",
	Unavailable: "unavailable",
	Timeout:     "timeout",
	Cancel:      "cancel",
}

// String names the kind, as in "timeout".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "none"
}

// ErrInjected is wrapped by the errors of the Fail and Unavailable faults,
// so that a test can tell an injected error from one of the store's own.
var ErrInjected = errors.New("faultstore: injected fault")

// Fault says what to inject and where.
type Fault struct {
	Point Point
	Kind  Kind
	// Call picks which time the point is reached that the fault fires:
	// 1 (or 0) the first, 2 the second (a decide that a store repeats
	// after a lost race, say), and so on. A fault fires at most once.
	Call int
}

// String describes the fault, as in "timeout before decide (call 1)".
func (f Fault) String() string {
	if f.Point == 0 {
		return "none"
	}
	return fmt.Sprintf("%v %v (call %d)", f.Kind, f.Point, max(f.Call, 1))
}

// Store is a membership.Store that passes every call to the store it wraps
// and injects its Fault once, at the Fault's point. It is safe for
// concurrent use; the calls that reach a point are counted in the order in
// which they reach it.
type Store struct {
	inner membership.Store
	fault Fault

	mu      sync.Mutex
	reached [len(pointNames)]int
	fired   int
}

var _ membership.Store = (*Store)(nil)

// New returns a Store that wraps inner and injects f. A zero Fault injects
// nothing.
func New(inner membership.Store, f Fault) *Store {
	return &Store{inner: inner, fault: f}
}

// Fired reports how many times the fault was injected: 0 when no call
// reached its point (the test did not exercise what it meant to), else 1.
func (s *Store) Fired() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fired
}

// hit counts a call reaching p and reports whether the fault fires there.
func (s *Store) hit(p Point) bool {
	if s.fault.Point != p {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reached[p]++
	if s.fired > 0 || s.reached[p] != max(s.fault.Call, 1) {
		return false
	}
	s.fired++
	return true
}

// injected is the error of a Fail or Unavailable fault at p.
func (s *Store) injected(p Point) error {
	err := fmt.Errorf("%w %s", ErrInjected, p)
	if s.fault.Kind == Unavailable {
		return membership.Unavailable(err)
	}
	return err
}

// Read implements membership.Store.
func (s *Store) Read(ctx context.Context, q membership.Query) (*membership.Facts, membership.Page, error) {
	fc := newFaultContext(ctx)
	defer fc.release()
	if s.hit(BeforeRead) {
		if err := s.inject(fc, BeforeRead); err != nil {
			return nil, membership.Page{}, err
		}
		// A timeout or a cancellation: the wrapped store gets a done
		// context, and must refuse it.
	}
	facts, page, err := s.inner.Read(fc, q)
	if err == nil && s.hit(AfterRead) {
		if err = s.inject(fc, AfterRead); err == nil {
			err = fmt.Errorf("faultstore: %s: %w", AfterRead, fc.Err())
		}
	}
	return facts, page, err
}

// ListSpaces implements membership.Store: a list is a read, and its faults
// are those of a read.
func (s *Store) ListSpaces(ctx context.Context, q membership.SpaceQuery, decide func(*membership.Facts) (bool, error)) (membership.SpaceList, error) {
	fc := newFaultContext(ctx)
	defer fc.release()
	if s.hit(BeforeRead) {
		if err := s.inject(fc, BeforeRead); err != nil {
			return membership.SpaceList{}, err
		}
	}
	list, err := s.inner.ListSpaces(fc, q, decide)
	if err == nil && s.hit(AfterRead) {
		if err = s.inject(fc, AfterRead); err == nil {
			err = fmt.Errorf("faultstore: %s: %w", AfterRead, fc.Err())
		}
	}
	return list, err
}

// AuditLog implements membership.Store: a read of the audit log is a read,
// and its faults are those of a read.
func (s *Store) AuditLog(ctx context.Context, q membership.AuditQuery) (membership.AuditPage, error) {
	fc := newFaultContext(ctx)
	defer fc.release()
	if s.hit(BeforeRead) {
		if err := s.inject(fc, BeforeRead); err != nil {
			return membership.AuditPage{}, err
		}
	}
	page, err := s.inner.AuditLog(fc, q)
	if err == nil && s.hit(AfterRead) {
		if err = s.inject(fc, AfterRead); err == nil {
			err = fmt.Errorf("faultstore: %s: %w", AfterRead, fc.Err())
		}
	}
	return page, err
}

// Write implements membership.Store.
func (s *Store) Write(ctx context.Context, q membership.Query, decide func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
	fc := newFaultContext(ctx)
	defer fc.release()
	if s.hit(BeforeWrite) {
		if err := s.inject(fc, BeforeWrite); err != nil {
			return membership.Written{}, err
		}
	}
	return s.inner.Write(fc, q, func(f *membership.Facts) (membership.Change, error) {
		if s.hit(BeforeDecide) {
			if err := s.inject(fc, BeforeDecide); err != nil {
				return membership.Change{}, err
			}
			// The policy would decide under the done context; as
			// policy.Engine does, it answers the context's error and
			// no decision.
			return membership.Change{}, fmt.Errorf("faultstore: %s: %w", BeforeDecide, fc.Err())
		}
		change, err := decide(f)
		if err != nil || !s.hit(AfterDecide) {
			return change, err
		}
		if err := s.inject(fc, AfterDecide); err != nil {
			return membership.Change{}, err
		}
		// The context is done and decide returns the change as allowed:
		// the store must see the context before it commits.
		return change, nil
	})
}

// inject applies the fault at p: it returns the error of a Fail or
// Unavailable fault, or ends fc for a Timeout or a Cancel and returns nil.
func (s *Store) inject(fc *faultContext, p Point) error {
	switch s.fault.Kind {
	case Timeout:
		fc.end(context.DeadlineExceeded)
		return nil
	case Cancel:
		fc.end(context.Canceled)
		return nil
	}
	return s.injected(p)
}

// faultContext is the context a wrapped store works under: a child of the
// caller's that the wrapper can end at a chosen moment, with
// context.DeadlineExceeded as well as context.Canceled (the standard
// library cannot make a deadline run out early). It has a Done channel of
// its own, so that contexts derived from it by the store take their Err
// from it rather than from the caller's context, and it ends those
// contexts before end returns (through AfterFunc, which package context
// uses for a parent that has it), so that a store checking a derived
// context right after decide sees the fault.
type faultContext struct {
	parent context.Context
	done   chan struct{}
	stop   func() bool

	mu       sync.Mutex
	err      error
	deadline time.Time // when a Timeout fault ended it
	afters   map[*func()]struct{}
}

func newFaultContext(parent context.Context) *faultContext {
	c := &faultContext{parent: parent, done: make(chan struct{}), afters: map[*func()]struct{}{}}
	// AfterFunc calls its function in a goroutine of its own; a caller's
	// context that is done already must be seen at once.
	if err := parent.Err(); err != nil {
		c.end(err)
	}
	c.stop = context.AfterFunc(parent, func() { c.end(parent.Err()) })
	return c
}

// end ends the context with err, unless it has ended already, and runs the
// functions registered with AfterFunc.
func (c *faultContext) end(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	if err == context.DeadlineExceeded {
		c.deadline = time.Now()
	}
	c.err = err
	close(c.done)
	afters := c.afters
	c.afters = nil
	c.mu.Unlock()
	for f := range afters {
		(*f)()
	}
}

// release stops following the parent once the call is over.
func (c *faultContext) release() { c.stop() }

// AfterFunc arranges to call f when the context ends: at once, in end,
// rather than in a goroutine of its own, so that derived contexts are done
// by the time the wrapper goes on. Package context calls it for the
// contexts derived from this one.
func (c *faultContext) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	key := &f
	c.afters[key] = struct{}{}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.afters[key]
		delete(c.afters, key)
		return ok
	}
}

// Deadline is the parent's, or the moment a Timeout fault made it run out.
func (c *faultContext) Deadline() (time.Time, bool) {
	c.mu.Lock()
	injected := c.deadline
	c.mu.Unlock()
	if !injected.IsZero() {
		return injected, true
	}
	return c.parent.Deadline()
}

func (c *faultContext) Done() <-chan struct{} { return c.done }

func (c *faultContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *faultContext) Value(key any) any { return c.parent.Value(key) }
