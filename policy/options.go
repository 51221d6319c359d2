package policy

import (
	"context"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
	defaultpolicy "github.com/spaceauthz/spaceauthz/rego"
)

// Option configures an Engine. The options are applied in order by New.
type Option func(*config)

type config struct {
	defaultPolicy bool
	modules       []defaultpolicy.Module
	data          []map[string]any
	hook          func(context.Context, DecisionRecord)
	cacheSize     int
}

// WithModule adds a Rego v1 module. Modules in package spaceauthz can add
// violations to the default decision; name is the file name used in error
// messages.
func WithModule(name, source string) Option {
	return func(c *config) { c.modules = append(c.modules, defaultpolicy.Module{Name: name, Source: source}) }
}

// WithData adds a data document. Its top-level keys must not clash with
// the default data (key "spaceauthz") or with another WithData document.
// The document is copied into the engine's store at New.
func WithData(doc map[string]any) Option {
	return func(c *config) { c.data = append(c.data, doc) }
}

// WithoutDefaultPolicy leaves out the default modules and data of package
// rego, so that WithModule and WithData replace the policy entirely. The
// replacement must define data.spaceauthz.decision.
func WithoutDefaultPolicy() Option {
	return func(c *config) { c.defaultPolicy = false }
}

// WithDecisionHook has every decision reported to hook, after it is made and
// before Decide returns, on the caller's goroutine: keep it fast, and make it
// safe for concurrent use. Use it for audit logs.
func WithDecisionHook(hook func(context.Context, DecisionRecord)) Option {
	return func(c *config) { c.hook = hook }
}

// WithDecisionCache sets how many decisions the engine remembers (default
// DefaultCacheSize); 0 turns remembering off. A decision is remembered under
// the values of only those input paths the compiled policy can read, found
// by static analysis of its modules, and is valid for as long as the engine
// lives, since its policy and data never change. A policy that calls a
// nondeterministic builtin (time, randomness, network) is never remembered.
func WithDecisionCache(size int) Option {
	return func(c *config) { c.cacheSize = size }
}

// DecisionRecord is what a decision hook receives. Building it costs
// nothing beyond the decision itself; InputDigest does the hashing, and
// only for a hook that calls it.
type DecisionRecord struct {
	// Facts are the facts decided on. Like all facts they must not be
	// modified; a hook may keep them.
	Facts *membership.Facts
	// Decision is the decision; a failed evaluation is a deny.
	Decision membership.Decision
	// Err is the evaluation failure, if any.
	Err error
	// Duration is the time the decision took.
	Duration time.Duration
	// Cached is set when the decision was remembered, not evaluated.
	Cached bool
}
