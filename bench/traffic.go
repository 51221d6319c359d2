package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cedar-policy/cedar-go"

	"github.com/spaceauthz/spaceauthz/internal/native"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The traffic benchmarks time decisions over the request stream (see
// traffic_requests.go): every iteration decides the next request, none
// twice, so that a decider that remembers answers is measured on the
// repeats real traffic has and no more. Each decider pays for its own input
// inside the timed loop, as it would in a service: the engine reads the
// facts, Cedar builds its request from them, plain OPA builds its input
// document. Each run starts on a new engine, so that the cache warms up
// from cold as in a service that has just started.

// A trafficDecider is one way to decide the stream.
type trafficDecider struct {
	name string
	// start prepares a run: a new engine where there is one.
	start func() (*trafficRun, error)
}

// A trafficRun is a decider ready for one run.
type trafficRun struct {
	// loop is the timed loop: it decides every case and does nothing else.
	loop func(b *testing.B, cases []trafficCase)
	// decide decides one case, for the comparison with the hand-written
	// check.
	decide func(*trafficCase) (membership.Decision, error)
	// engine is the engine that decides, if any, for its hit ratio.
	engine *policy.Engine
	// finish, if set, completes the work the loop started (an audit
	// sink's queue); it is timed with the loop.
	finish func()
}

// trafficDeciders are the deciders in the order of the table; native is
// the baseline of the others.
var trafficDeciders = []trafficDecider{
	{"native", startNative},
	{"engine", startEngine()},
	// engine-audit pays for the audit record alone; engine-slog also
	// writes it as a JSON log line (to io.Discard) on the deciding
	// goroutine, engine-slog-queued on the sink's own goroutine.
	{"engine-audit", startEngine(policy.WithAudit(policy.AuditFunc(func(context.Context, policy.DecisionRecord) {})))},
	{"engine-slog", startSlogEngine(0)},
	{"engine-slog-queued", startSlogEngine(4096)},
	{"engine-uncached", startEngine(policy.WithDecisionCache(0))},
	{"opa-prepared", startOPA},
	{"cedar", startCedar},
}

// slowTrafficDeciders evaluate Rego on every request; they run over a
// shorter stretch of the stream (see suite).
var slowTrafficDeciders = map[string]bool{"engine-uncached": true, "opa-prepared": true}

func startNative() (*trafficRun, error) {
	return &trafficRun{
		loop: func(b *testing.B, cases []trafficCase) {
			allowed := 0
			for i := range cases {
				if native.Decide(cases[i].facts).Allow {
					allowed++
				}
			}
			// Keep the decisions from being dropped as unread.
			runtime.KeepAlive(allowed)
		},
		decide: func(c *trafficCase) (membership.Decision, error) { return native.Decide(c.facts), nil },
	}, nil
}

func startEngine(opts ...policy.Option) func() (*trafficRun, error) {
	return func() (*trafficRun, error) {
		engine, err := policy.New(opts...)
		if err != nil {
			return nil, err
		}
		ctx := context.Background()
		return &trafficRun{
			loop: func(b *testing.B, cases []trafficCase) {
				for i := range cases {
					if _, err := engine.Decide(ctx, cases[i].facts); err != nil {
						b.Fatal(err)
					}
				}
			},
			decide: func(c *trafficCase) (membership.Decision, error) { return engine.Decide(ctx, c.facts) },
			engine: engine,
		}, nil
	}
}

// startSlogEngine starts an engine auditing to a JSON slog sink with a
// queue of the given length; the run's finish writes what waits, inside
// the timed loop.
func startSlogEngine(queue int) func() (*trafficRun, error) {
	return func() (*trafficRun, error) {
		sink := policy.NewSlogAudit(slog.New(slog.NewJSONHandler(io.Discard, nil)), policy.SlogAuditOptions{Queue: queue})
		run, err := startEngine(policy.WithAudit(sink))()
		if err != nil {
			return nil, err
		}
		run.finish = func() { _ = sink.Close() }
		return run, nil
	}
}

func startOPA() (*trafficRun, error) {
	q, err := newOPAQuery()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	return &trafficRun{
		loop: func(b *testing.B, cases []trafficCase) {
			for i := range cases {
				if _, err := q.eval(ctx, policy.InputDocument(cases[i].facts)); err != nil {
					b.Fatal(err)
				}
			}
		},
		decide: func(c *trafficCase) (membership.Decision, error) {
			rs, err := q.eval(ctx, policy.InputDocument(c.facts))
			if err != nil {
				return membership.Decision{}, err
			}
			return opaDecision(rs)
		},
	}, nil
}

func startCedar() (*trafficRun, error) {
	cp, err := newCedarPolicy()
	if err != nil {
		return nil, err
	}
	return &trafficRun{
		loop: func(b *testing.B, cases []trafficCase) {
			allowed := 0
			for i := range cases {
				if d, _ := cedar.Authorize(cp.policies, nil, cedarRequest(cases[i].facts)); d == cedar.Allow {
					allowed++
				}
			}
			// Keep the decisions from being dropped as unread.
			runtime.KeepAlive(allowed)
		},
		decide: func(c *trafficCase) (membership.Decision, error) { return cp.decide(cedarRequest(c.facts)) },
	}, nil
}

// hitRatio is the share of an engine's decisions answered from its cache.
func hitRatio(e *policy.Engine, decisions int) float64 {
	if decisions == 0 {
		return 0
	}
	return 1 - float64(e.Stats().Evaluated)/float64(decisions)
}

// trafficBenchStream returns the stream over the given number of accounts,
// failing the benchmark if the world cannot be built.
func trafficBenchStream(b *testing.B, accounts int) *trafficStream {
	b.Helper()
	s, err := trafficStreamOver(accounts)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchTraffic returns the body of Traffic/<decider>: the decider, checked
// against the hand-written check first, over the first b.N requests of the
// stream. An engine reports its cache's hit ratio over the run.
func benchTraffic(accounts int, d trafficDecider) func(*testing.B) {
	return func(b *testing.B) {
		s := trafficBenchStream(b, accounts)
		if err := checkTrafficOnce(d, s); err != nil {
			b.Fatal(err)
		}
		run, err := d.start()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		s.replay(b, b.N, func(cases []trafficCase) { run.loop(b, cases) })
		if run.finish != nil {
			run.finish()
		}
		b.StopTimer()
		if run.engine != nil {
			b.ReportMetric(hitRatio(run.engine, b.N), "hit-ratio")
		}
	}
}

// benchTrafficParallel returns the body of TrafficParallel/engine: one new
// engine deciding the stream from GOMAXPROCS goroutines, each taking the
// next request not yet taken. It reports throughput, the measure that
// parallelism should raise.
func benchTrafficParallel(accounts int) func(*testing.B) {
	return func(b *testing.B) {
		s := trafficBenchStream(b, accounts)
		cases, err := s.prefix(b.N)
		if err != nil {
			b.Fatal(err)
		}
		engine, err := policy.New()
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		var next atomic.Int64
		settle()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := engine.Decide(ctx, cases[next.Add(1)-1].facts); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		b.ReportMetric(hitRatio(engine, b.N), "hit-ratio")
	}
}

// checkSample is how many requests of the stream a benchmark checks before
// it times a decider: enough to meet every rule, few enough for plain OPA.
// The command checks the whole stream (see checkTraffic).
const checkSample = 2_000

var trafficChecked sync.Map // "decider/accounts" → func() (struct{}, error)

// checkTrafficOnce compares d with the hand-written check on the first
// requests of the stream, once per process.
func checkTrafficOnce(d trafficDecider, s *trafficStream) error {
	key := fmt.Sprintf("%s/%d", d.name, len(s.world.accounts))
	once, _ := trafficChecked.LoadOrStore(key, sync.OnceValue(func() error {
		cases, err := s.prefix(checkSample)
		if err != nil {
			return err
		}
		run, err := d.start()
		if err != nil {
			return err
		}
		a := agree(d.name, run, cases, 1)
		if a.Differing > 0 {
			return fmt.Errorf("%s decides %d of the first %d requests otherwise than the hand-written check; the first: %s", d.name, a.Differing, a.Checked, a.FirstDifference)
		}
		return nil
	}))
	return once.(func() error)()
}
