package policy

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
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
	"github.com/open-policy-agent/opa/v1/storage"
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
	audit     AuditSink
	cacheSize int
}

// prepared is one compiled policy, ready to evaluate, with the decisions it
// has made: a Reload replaces both at once.
type prepared struct {
	revision string
	query    rego.PreparedEvalQuery
	// cache is nil when decisions cannot be remembered. Whole decisions are
	// remembered under key 0 followed by whole's key; the violations of
	// violation rule i under key i+1 followed by parts[i]'s key; the value
	// of gate g under key len(parts)+g+1 followed by gates[g]'s key (a gate
	// is remembered as Allow).
	cache *decisionCache
	whole keySpec
	// parts, when the policy has the standard shape (see parts.go), are
	// the key specs of its violation rules (of the rest of the rule, for a
	// rule with a gate), and partsQuery evaluates them all at once.
	parts      []keySpec
	gateOf     []int
	gates      []keySpec
	partsQuery *rego.PreparedEvalQuery
	// readFilter is the policy's read decision as a filter (ReadFilter).
	readFilter membership.ReadFilter
	// evaluated counts the decisions that evaluated Rego.
	evaluated atomic.Uint64
}

// Stats describes the work of the policy in force since it was loaded (by
// New or the last Reload).
type Stats struct {
	// Evaluated counts the decisions that evaluated Rego; every other
	// decision was answered from memory. A failed decision counts too.
	Evaluated uint64
}

// Stats returns the counters of the policy in force. Together with a count
// of its own calls to Decide, a caller gets the share of decisions answered
// from memory.
func (e *Engine) Stats() Stats {
	return Stats{Evaluated: e.policy.Load().evaluated.Load()}
}

var _ membership.Authorizer = (*Engine)(nil)

// New parses, compiles and prepares the policy: the default policy of
// package rego, plus or instead of what the options add.
func New(opts ...Option) (*Engine, error) {
	cfg := config{cacheSize: DefaultCacheSize}
	for _, opt := range opts {
		opt.applyEngine(&cfg)
	}
	p, err := prepare(cfg.sources, cfg.cacheSize)
	if err != nil {
		return nil, err
	}
	e := &Engine{audit: cfg.audit, cacheSize: cfg.cacheSize}
	e.policy.Store(p)
	return e, nil
}

// Reload replaces the policy while the engine serves: it builds the policy
// from opts as New would (the default policy, plus or instead of what the
// options add), runs its Rego tests, and swaps it in at once. A decision
// under way finishes on the policy it started with; every later one uses
// the new policy, with a cache of its own; no decision sees a mix of the
// two. A policy that does not compile or whose tests fail is refused with
// an error wrapping ErrInvalidPolicy, and the policy in force stays. The
// audit sink and the cache size stay as New set them.
func (e *Engine) Reload(opts ...PolicyOption) error {
	var src sources
	for _, opt := range opts {
		opt(&src)
	}
	p, err := prepare(src, e.cacheSize)
	if err != nil {
		return err
	}
	e.policy.Store(p)
	return nil
}

// Revision names the policy in force: the revision of its bundle's manifest
// when a bundle gives one (several are joined with "+"), otherwise
// "sha256:" and the first 16 hex digits of a digest of its modules and
// data, so that equal policies have equal revisions.
func (e *Engine) Revision() string {
	return e.policy.Load().revision
}

// prepare parses, compiles, tests and prepares the policy src describes.
func prepare(src sources, cacheSize int) (*prepared, error) {
	modules, data, err := src.gather()
	if err != nil {
		return nil, err
	}
	revision, err := src.revision(modules, data)
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
	if err := compileOnly(parsed); err != nil {
		return nil, err
	}
	if err := runTests(parsed, src.tests, data); err != nil {
		return nil, err
	}
	var sp split
	isSplit := false
	if cacheSize > 0 {
		sp, isSplit = splitViolations(parsed, data)
	}
	compiler := ast.NewCompiler().WithStrict(false)
	if compiler.Compile(parsed); compiler.Failed() {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, compiler.Errors)
	}
	if len(compiler.GetRules(ast.MustParseRef(DecisionQuery))) == 0 {
		return nil, fmt.Errorf("%w: no rule defines %s", ErrInvalidPolicy, DecisionQuery)
	}
	store := inmem.NewFromObject(data)
	query, err := prepareQuery(compiler, store, DecisionQuery, decisionFromTerm)
	if err != nil {
		return nil, err
	}
	standard := isSplit
	if cacheSize <= 0 {
		copies := make(map[string]*ast.Module, len(parsed))
		for name, m := range parsed {
			copies[name] = m.Copy()
		}
		_, standard = splitViolations(copies, data)
	}
	p := &prepared{query: query, revision: revision, readFilter: readFilterOf(compiler, store, standard)}
	rs := analyse(compiler)
	if rs.nondeterministic || cacheSize <= 0 {
		return p, nil
	}
	ids := classifyIDs(compiler, rs.rules)
	p.cache = newDecisionCache(cacheSize)
	p.whole = keySpecOf(ids.nodes(rs.rules), rs.paths, ids.classed)
	if !isSplit {
		return p, nil
	}
	pq, err := prepareQuery(compiler, store, "data.spaceauthz."+partsRule, partsFromTerm)
	if err != nil {
		return nil, err
	}
	p.partsQuery = &pq
	// Each rule is analysed with what it refers to and nothing else, so
	// that its key holds only what it can observe.
	specOf := func(rule string) keySpec {
		part := readsOf(compiler, compiler.GetRulesExact(ast.MustParseRef("data.spaceauthz."+rule)))
		partIDs := classifyIDs(compiler, part.rules)
		return keySpecOf(partIDs.nodes(part.rules), part.paths, partIDs.classed)
	}
	p.gateOf = sp.gateOf
	for i := range sp.n {
		rule := partName(i)
		if sp.gateOf[i] >= 0 {
			rule = restName(i)
		}
		p.parts = append(p.parts, specOf(rule))
	}
	for g := range sp.gates {
		p.gates = append(p.gates, specOf(gateName(g)))
	}
	return p, nil
}

// compileOnly compiles a copy of the modules as the host wrote them, so
// that an error names the host's own rules, never the engine's copies.
func compileOnly(parsed map[string]*ast.Module) error {
	copies := make(map[string]*ast.Module, len(parsed))
	for name, m := range parsed {
		copies[name] = m.Copy()
	}
	compiler := ast.NewCompiler().WithStrict(false)
	if compiler.Compile(copies); compiler.Failed() {
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, compiler.Errors)
	}
	return nil
}

func prepareQuery(compiler *ast.Compiler, store storage.Store, query string, result func(*ast.Term, *rego.EvalContext) (any, error)) (rego.PreparedEvalQuery, error) {
	q, err := rego.New(
		rego.Query(query),
		rego.Compiler(compiler),
		rego.Store(store),
		// A builtin that fails is an evaluation error, hence a deny, rather
		// than a silently undefined expression.
		rego.StrictBuiltinErrors(true),
		rego.GenerateJSON(result),
	).PrepareForEval(context.Background())
	if err != nil {
		return rego.PreparedEvalQuery{}, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	return q, nil
}

// gather gathers the modules and the merged data document of src.
func (src *sources) gather() ([]defaultpolicy.Module, map[string]any, error) {
	var modules []defaultpolicy.Module
	data := map[string]any{}
	if !src.noDefaultPolicy {
		var err error
		if modules, data, err = defaultpolicy.Policy(); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
		}
	}
	modules = append(modules, src.modules...)
	for _, doc := range src.data {
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
	if e.audit != nil {
		start = time.Now()
	}
	// OPA notices cancellation only in long evaluations; a request whose
	// context is done gets no decision at all, remembered or not.
	if err := ctx.Err(); err != nil {
		return e.report(ctx, start, facts, nil, membership.Decision{}, fmt.Errorf("policy: %w", err), false)
	}
	p := e.policy.Load()
	if p.cache == nil {
		d, err := p.evaluate(ctx, facts)
		return e.report(ctx, start, facts, p, d, err, false)
	}
	buf := keyBuffers.Get().(*[]byte)
	defer keyBuffers.Put(buf)
	key := p.whole.write(append((*buf)[:0], 0), facts)
	*buf = key
	if d, ok := p.cache.get(key); ok {
		d.Violations = slices.Clone(d.Violations)
		return e.report(ctx, start, facts, p, d, nil, true)
	}
	d, cached, err := p.decideByParts(ctx, facts, buf)
	if err == nil {
		key = p.whole.write(append((*buf)[:0], 0), facts)
		*buf = key
		p.cache.put(key, membership.Decision{Allow: d.Allow, Violations: slices.Clone(d.Violations)})
	}
	return e.report(ctx, start, facts, p, d, err, cached)
}

// decideByParts makes a decision the cache does not hold whole: from the
// remembered violations of each rule when every rule has seen its part of
// the facts before (cached is then true), by one evaluation otherwise.
func (p *prepared) decideByParts(ctx context.Context, facts *membership.Facts, buf *[]byte) (d membership.Decision, cached bool, err error) {
	if p.parts == nil {
		d, err = p.evaluate(ctx, facts)
		return d, false, err
	}
	var found []membership.Violation
	// Several rules share a gate: each gate is looked up once.
	var stack [8]gateState
	var gates []gateState
	if len(p.gates) <= len(stack) {
		gates = stack[:len(p.gates)]
	} else {
		gates = make([]gateState, len(p.gates))
	}
	for i := range p.parts {
		if g := p.gateOf[i]; g >= 0 {
			if gates[g] == gateUnknown {
				key := p.gateKey(g, (*buf)[:0], facts)
				*buf = key
				gate, ok := p.cache.get(key)
				if !ok {
					return p.evaluateParts(ctx, facts, buf)
				}
				gates[g] = gateClosed
				if gate.Allow {
					gates[g] = gateOpen
				}
			}
			if gates[g] == gateClosed {
				continue
			}
		}
		key := p.partKey(i, (*buf)[:0], facts)
		*buf = key
		part, ok := p.cache.get(key)
		if !ok {
			return p.evaluateParts(ctx, facts, buf)
		}
		found = appendNew(found, part.Violations)
	}
	return membership.Decision{Allow: len(found) == 0, Violations: found}, true, nil
}

// gateState is what one decision has learnt of a gate so far.
type gateState uint8

const (
	gateUnknown gateState = iota
	gateOpen
	gateClosed
)

func (p *prepared) partKey(i int, b []byte, facts *membership.Facts) []byte {
	b = binary.AppendUvarint(b, uint64(i)+1)
	return p.parts[i].write(b, facts)
}

func (p *prepared) gateKey(g int, b []byte, facts *membership.Facts) []byte {
	b = binary.AppendUvarint(b, uint64(len(p.parts)+g)+1)
	return p.gates[g].write(b, facts)
}

// evaluateParts evaluates every violation rule at once and remembers the
// violations of each.
func (p *prepared) evaluateParts(ctx context.Context, facts *membership.Facts, buf *[]byte) (membership.Decision, bool, error) {
	p.evaluated.Add(1)
	rs, err := p.partsQuery.Eval(ctx, rego.EvalParsedInput(inputValue(facts)))
	res, err := resultValue[partsResult](rs, err)
	if err != nil {
		return membership.Decision{}, false, err
	}
	if len(res.parts) != len(p.parts) || len(res.gates) != len(p.gates) {
		return membership.Decision{}, false, fmt.Errorf("%w: %d rule results for %d rules, %d gates for %d", ErrMalformedDecision, len(res.parts), len(p.parts), len(res.gates), len(p.gates))
	}
	for g, open := range res.gates {
		key := p.gateKey(g, (*buf)[:0], facts)
		*buf = key
		p.cache.put(key, membership.Decision{Allow: open})
	}
	var found []membership.Violation
	for i, part := range res.parts {
		if g := p.gateOf[i]; g >= 0 && !res.gates[g] {
			// The rule stopped at its gate: what the rest of it would
			// say is not known, and it said nothing.
			if len(part) > 0 {
				return membership.Decision{}, false, fmt.Errorf("%w: a rule whose gate is closed has violations", ErrMalformedDecision)
			}
			continue
		}
		key := p.partKey(i, (*buf)[:0], facts)
		*buf = key
		p.cache.put(key, membership.Decision{Allow: len(part) == 0, Violations: part})
		found = appendNew(found, part)
	}
	return membership.Decision{Allow: len(found) == 0, Violations: found}, false, nil
}

// appendNew adds the violations of vs that to does not hold yet: the
// violations of a decision are a set.
func appendNew(to, vs []membership.Violation) []membership.Violation {
	for _, v := range vs {
		if !slices.Contains(to, v) {
			to = append(to, v)
		}
	}
	return to
}

// keyBuffers recycles the buffers decision keys are built in.
var keyBuffers = sync.Pool{New: func() any { return new([]byte) }}

// report hands the decision to the audit sink, if any, and returns it; a
// failure is always a deny. p is the policy that decided, nil when none did.
func (e *Engine) report(ctx context.Context, start time.Time, facts *membership.Facts, p *prepared, d membership.Decision, err error, cached bool) (membership.Decision, error) {
	if err != nil {
		d = membership.Decision{}
	}
	if e.audit != nil {
		r := DecisionRecord{
			Allow:      d.Allow,
			Violations: d.Violations,
			Err:        err,
			Duration:   time.Since(start),
			Cached:     cached,
			Facts:      facts,
		}
		if p != nil {
			r.Revision = p.revision
		} else {
			r.Revision = e.Revision()
		}
		if facts != nil {
			q := &facts.Query
			r.Operation, r.Actor, r.SpaceID, r.OrganizationID, r.UserID, r.Role = q.Operation, q.Actor, q.SpaceID, q.OrganizationID, q.UserID, q.Role
		}
		e.audit.Audit(ctx, r)
	}
	return d, err
}

func (p *prepared) evaluate(ctx context.Context, facts *membership.Facts) (membership.Decision, error) {
	p.evaluated.Add(1)
	rs, err := p.query.Eval(ctx, rego.EvalParsedInput(inputValue(facts)))
	return resultValue[membership.Decision](rs, err)
}

// resultValue takes the one value a prepared query returned, as its
// GenerateJSON function made it.
func resultValue[T any](rs rego.ResultSet, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, fmt.Errorf("policy: evaluating: %w", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return zero, ErrUndefinedDecision
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return zero, fmt.Errorf("%w: %d results", ErrMalformedDecision, len(rs))
	}
	switch v := rs[0].Expressions[0].Value.(type) {
	case T:
		return v, nil
	case error:
		return zero, v
	default:
		return zero, fmt.Errorf("%w: unexpected %T", ErrMalformedDecision, v)
	}
}

// InputDigest returns the hex SHA-256 of the input document of r.Facts as
// canonical JSON (keys sorted): equal inputs have equal digests. It builds
// the document, so it costs about as much as a small evaluation.
func (r DecisionRecord) InputDigest() string {
	if r.Facts == nil {
		return ""
	}
	return digest(inputValue(r.Facts))
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
