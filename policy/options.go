package policy

import (
	defaultpolicy "github.com/spaceauthz/spaceauthz/rego"
)

// Option configures New. Every PolicyOption is an Option; WithDecisionCache
// and WithAudit are Options only, since they configure the engine rather
// than the policy, and Reload keeps what New set.
type Option interface {
	applyEngine(*config)
}

// PolicyOption says what the policy is: its modules, its data, its
// bundles. New and Reload both take it.
type PolicyOption func(*sources)

func (o PolicyOption) applyEngine(c *config) { o(&c.sources) }

// engineOption configures what outlives a Reload.
type engineOption func(*config)

func (o engineOption) applyEngine(c *config) { o(c) }

// config is everything New is told.
type config struct {
	sources
	audit     AuditSink
	cacheSize int
}

// sources is everything the policy is made of.
type sources struct {
	noDefaultPolicy bool
	modules         []defaultpolicy.Module
	// tests are Rego test modules, run against the policy before it is
	// used and never evaluated for a decision.
	tests []defaultpolicy.Module
	data  []map[string]any
	// revisions are the revisions of the bundles, in order.
	revisions []string
}

// WithModule adds a Rego v1 module. Modules in package spaceauthz can add
// violations to the default decision; name is the file name used in error
// messages.
func WithModule(name, source string) PolicyOption {
	return func(s *sources) { s.modules = append(s.modules, defaultpolicy.Module{Name: name, Source: source}) }
}

// WithData adds a data document. Its top-level keys must not clash with
// the default data (key "spaceauthz") or with another data document.
// The document is copied into the engine's store when the policy is
// prepared.
func WithData(doc map[string]any) PolicyOption {
	return func(s *sources) { s.data = append(s.data, doc) }
}

// WithoutDefaultPolicy leaves out the default modules and data of package
// rego, so that the other options replace the policy entirely. The
// replacement must define data.spaceauthz.decision.
func WithoutDefaultPolicy() PolicyOption {
	return func(s *sources) { s.noDefaultPolicy = true }
}

// WithBundle adds a bundle read by ReadBundle: its modules, its data and
// its Rego tests, which must pass against the whole policy before the
// policy is used. Its manifest revision becomes the policy's revision.
// With WithoutDefaultPolicy the bundle replaces the default policy;
// without, it extends it.
func WithBundle(b *Bundle) PolicyOption {
	return func(s *sources) {
		s.modules = append(s.modules, b.modules...)
		s.tests = append(s.tests, b.tests...)
		s.data = append(s.data, b.data)
		s.revisions = append(s.revisions, b.Revision)
	}
}

// WithAudit has every decision reported to sink as one DecisionRecord,
// after it is made and before Decide returns, on the caller's goroutine:
// keep it fast, and make it safe for concurrent use. NewSlogAudit is a
// ready sink. The sink stays across Reload.
func WithAudit(sink AuditSink) Option {
	return engineOption(func(c *config) { c.audit = sink })
}

// WithDecisionCache sets how many decisions the engine remembers (default
// DefaultCacheSize); 0 turns remembering off. A decision is remembered under
// the values of only those input paths the compiled policy can read, found
// by static analysis of its modules, and is valid for as long as its policy
// is in force, since a loaded policy and its data never change. A policy
// that calls a nondeterministic builtin (time, randomness, network) is never
// remembered. The size stays across Reload.
func WithDecisionCache(size int) Option {
	return engineOption(func(c *config) { c.cacheSize = size })
}
