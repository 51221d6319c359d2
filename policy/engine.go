package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/spaceauthz/spaceauthz/membership"
	defaultpolicy "github.com/spaceauthz/spaceauthz/rego"
)

// DecisionQuery is the document the engine evaluates.
const DecisionQuery = "data.spaceauthz.decision"

// ErrInvalidPolicy is wrapped by every error New returns for a policy that
// cannot be used: a module that does not parse or compile, clashing data, or
// no data.spaceauthz.decision rule.
var ErrInvalidPolicy = errors.New("policy: invalid policy")

// ErrUndefinedDecision is returned (with a deny) when the policy defines no
// decision for an input.
var ErrUndefinedDecision = errors.New("policy: decision is undefined")

// ErrMalformedDecision is returned (with a deny) when the decision does not
// have the shape the package doc describes.
var ErrMalformedDecision = errors.New("policy: decision is malformed")

// Engine evaluates the decision document with OPA. It is safe for concurrent
// use; build it once with New and share it.
type Engine struct {
	policy    atomic.Pointer[prepared]
	hook      func(context.Context, DecisionRecord)
	cacheSize int
}

// prepared is one compiled policy, ready to evaluate, with the decisions it
// has made: a Reload replaces both at once.
type prepared struct {
	query rego.PreparedEvalQuery
	cache *decisionCache // nil when decisions cannot be remembered
}

var _ membership.Authorizer = (*Engine)(nil)

// New parses, compiles and prepares the policy: the default policy of
// package rego, plus or instead of what the options add.
func New(opts ...Option) (*Engine, error) {
	cfg := config{defaultPolicy: true, cacheSize: DefaultCacheSize}
	for _, opt := range opts {
		opt(&cfg)
	}
	p, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	e := &Engine{hook: cfg.hook, cacheSize: cfg.cacheSize}
	e.policy.Store(p)
	return e, nil
}

// Reload replaces the policy while the engine serves: it builds the policy
// from opts as New would (the default policy, plus or instead of what the
// options add) and swaps it in at once. A decision under way finishes on the
// policy it started with; every later one uses the new policy, with a cache
// of its own. A policy that does not compile is refused with an error
// wrapping ErrInvalidPolicy, and the policy in force stays. The decision
// hook and the cache size stay as New set them; WithDecisionHook and
// WithDecisionCache are ignored here.
func (e *Engine) Reload(opts ...Option) error {
	cfg := config{defaultPolicy: true}
	for _, opt := range opts {
		opt(&cfg)
	}
	cfg.hook, cfg.cacheSize = e.hook, e.cacheSize
	p, err := prepare(cfg)
	if err != nil {
		return err
	}
	e.policy.Store(p)
	return nil
}

// prepare parses, compiles, checks and prepares the policy cfg describes.
func prepare(cfg config) (*prepared, error) {
	modules, data, err := cfg.sources()
	if err != nil {
		return nil, err
	}
	parsed := make(map[string]*ast.Module, len(modules))
	for _, m := range modules {
		if _, dup := parsed[m.Name]; dup {
			return nil, fmt.Errorf("%w: two modules named %q", ErrInvalidPolicy, m.Name)
		}
		mod, err := ast.ParseModuleWithOpts(m.Name, m.Source, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
		}
		parsed[m.Name] = mod
	}
	compiler := ast.NewCompiler().WithStrict(false)
	if compiler.Compile(parsed); compiler.Failed() {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, compiler.Errors)
	}
	if len(compiler.GetRules(ast.MustParseRef(DecisionQuery))) == 0 {
		return nil, fmt.Errorf("%w: no rule defines %s", ErrInvalidPolicy, DecisionQuery)
	}
	query, err := rego.New(
		rego.Query(DecisionQuery),
		rego.Compiler(compiler),
		rego.Store(inmem.NewFromObject(data)),
		// A builtin that fails is an evaluation error, hence a deny, rather
		// than a silently undefined expression.
		rego.StrictBuiltinErrors(true),
		rego.GenerateJSON(decisionFromTerm),
	).PrepareForEval(context.Background())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	return &prepared{query: query, cache: newDecisionCache(analyse(compiler), cfg.cacheSize)}, nil
}

// sources gathers the modules and the merged data document of cfg.
func (cfg *config) sources() ([]defaultpolicy.Module, map[string]any, error) {
	var modules []defaultpolicy.Module
	data := map[string]any{}
	if cfg.defaultPolicy {
		var err error
		if modules, data, err = defaultpolicy.Policy(); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
		}
	}
	modules = append(modules, cfg.modules...)
	for _, doc := range cfg.data {
		for k, v := range doc {
			if _, clash := data[k]; clash {
				return nil, nil, fmt.Errorf("%w: data key %q is defined twice", ErrInvalidPolicy, k)
			}
			data[k] = v
		}
	}
	return modules, data, nil
}

// Decide evaluates the decision for facts. Any failure is a deny returned
// together with an error that says why; the caller must not allow on error.
//
// A decision the engine has already made for facts that agree on every
// input path the policy reads is answered from memory (see
// WithDecisionCache); failures are never remembered.
func (e *Engine) Decide(ctx context.Context, facts *membership.Facts) (membership.Decision, error) {
	var start time.Time
	if e.hook != nil {
		start = time.Now()
	}
	// OPA notices cancellation only in long evaluations; a request whose
	// context is done gets no decision at all, remembered or not.
	if err := ctx.Err(); err != nil {
		return e.report(ctx, start, facts, membership.Decision{}, fmt.Errorf("policy: %w", err), false)
	}
	p := e.policy.Load()
	if p.cache == nil {
		d, err := p.evaluate(ctx, inputValue(facts))
		return e.report(ctx, start, facts, d, err, false)
	}
	buf := keyBuffers.Get().(*[]byte)
	defer keyBuffers.Put(buf)
	key := p.cache.key((*buf)[:0], facts)
	*buf = key
	if d, ok := p.cache.get(key); ok {
		d.Violations = slices.Clone(d.Violations)
		return e.report(ctx, start, facts, d, nil, true)
	}
	d, err := p.evaluate(ctx, inputValue(facts))
	if err == nil {
		p.cache.put(key, membership.Decision{Allow: d.Allow, Violations: slices.Clone(d.Violations)})
	}
	return e.report(ctx, start, facts, d, err, false)
}

// keyBuffers recycles the buffers decision keys are built in.
var keyBuffers = sync.Pool{New: func() any { return new([]byte) }}

// report hands the decision to the hook, if any, and returns it; a failure
// is always a deny.
func (e *Engine) report(ctx context.Context, start time.Time, facts *membership.Facts, d membership.Decision, err error, cached bool) (membership.Decision, error) {
	if err != nil {
		d = membership.Decision{}
	}
	if e.hook != nil {
		e.hook(ctx, DecisionRecord{
			InputDigest: digest(inputValue(facts)),
			Decision:    d,
			Err:         err,
			Duration:    time.Since(start),
			Cached:      cached,
		})
	}
	return d, err
}

func (p *prepared) evaluate(ctx context.Context, input ast.Value) (membership.Decision, error) {
	rs, err := p.query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return membership.Decision{}, fmt.Errorf("policy: evaluating: %w", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return membership.Decision{}, ErrUndefinedDecision
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return membership.Decision{}, fmt.Errorf("%w: %d results", ErrMalformedDecision, len(rs))
	}
	switch v := rs[0].Expressions[0].Value.(type) {
	case membership.Decision:
		return v, nil
	case error:
		return membership.Decision{}, v
	default:
		return membership.Decision{}, fmt.Errorf("%w: unexpected %T", ErrMalformedDecision, v)
	}
}

// digest hashes the input as canonical JSON.
func digest(input ast.Value) string {
	doc, err := ast.JSON(input)
	if err != nil {
		return ""
	}
	raw, err := json.Marshal(doc) // encoding/json sorts map keys
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}
