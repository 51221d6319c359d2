package pgstore

import (
	"fmt"
	"time"
)

// Option configures a Store. Options are applied in order by Open and New;
// a later option overrides an earlier one.
type Option func(*config)

// The defaults of the options.
const (
	DefaultMaxRetries     = 10
	DefaultRetryBaseDelay = time.Millisecond
	DefaultRetryMaxDelay  = 100 * time.Millisecond
	DefaultAcquireTimeout = 5 * time.Second
)

type config struct {
	maxRetries     int
	baseDelay      time.Duration
	maxDelay       time.Duration
	acquireTimeout time.Duration

	// The two halves of the atomicity of an add, switched off only by this
	// package's tests to show that the race tests catch a store without
	// them: the snapshot the facts are read in, and the row locks that
	// check before the write that nothing behind the facts has changed.
	isolation string
	lockFacts bool

	// splitCascade is a planted defect, set only by this package's tests
	// to show that the linearizability check catches it: a cascade commits
	// the removal of the space memberships in one transaction and the
	// organization membership, with its audit entry, in a second one begun
	// a moment later.
	splitCascade bool
}

func newConfig(opts []Option) (config, error) {
	c := config{
		maxRetries:     DefaultMaxRetries,
		baseDelay:      DefaultRetryBaseDelay,
		maxDelay:       DefaultRetryMaxDelay,
		acquireTimeout: DefaultAcquireTimeout,
		isolation:      "REPEATABLE READ",
		lockFacts:      true,
	}
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.maxRetries < 0:
		return c, fmt.Errorf("pgstore: WithMaxRetries(%d): the number of retries cannot be negative", c.maxRetries)
	case c.baseDelay <= 0 || c.maxDelay < c.baseDelay:
		return c, fmt.Errorf("pgstore: WithRetryBackoff(%v, %v): want 0 < base <= max", c.baseDelay, c.maxDelay)
	case c.acquireTimeout < 0:
		return c, fmt.Errorf("pgstore: WithAcquireTimeout(%v): the timeout cannot be negative", c.acquireTimeout)
	}
	return c, nil
}

// WithMaxRetries sets how many times an add is tried again after it lost
// to a concurrent transaction (SQLSTATE 40001 or 40P01), each time on fresh
// facts and with a fresh call of the check. When the retries are spent the
// add fails with an error that wraps membership.ErrUnavailable. Zero means
// a single attempt. The default is DefaultMaxRetries.
func WithMaxRetries(n int) Option {
	return func(c *config) { c.maxRetries = n }
}

// WithRetryBackoff sets the delays between retries: before retry n the add
// waits a random duration between zero and min(max, base * 2^(n-1)) (full
// jitter, so that adds that collided once do not collide again). The
// defaults are DefaultRetryBaseDelay and DefaultRetryMaxDelay.
func WithRetryBackoff(base, max time.Duration) Option {
	return func(c *config) { c.baseDelay, c.maxDelay = base, max }
}

// WithAcquireTimeout bounds the wait for a free connection of the pool.
// An operation that waits longer fails with an error that wraps
// membership.ErrUnavailable, so that an exhausted pool answers 503 instead
// of queueing requests until their clients give up. Zero means wait as long
// as the context allows. The default is DefaultAcquireTimeout.
func WithAcquireTimeout(d time.Duration) Option {
	return func(c *config) { c.acquireTimeout = d }
}
