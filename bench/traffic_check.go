package main

import (
	"fmt"
	"slices"

	"github.com/spaceauthz/spaceauthz/internal/native"
	"github.com/spaceauthz/spaceauthz/membership"
)

// The command's untimed pass over the stream, before anything is timed: a
// number is only worth reporting if the deciders agree on every request,
// and the engine's hit ratio is measured where a long-running service
// lives, after its cache has warmed up, not over a benchmark run that is
// mostly warm-up.

// TrafficCheck is what one untimed pass over the stream found.
type TrafficCheck struct {
	Accounts int `json:"accounts"`
	// Warmup is how many requests the engine's hit ratio leaves out.
	Warmup int         `json:"warmup"`
	Shape  StreamShape `json:"shape"`
	// HitRatio is the share of the requests after the warm-up that one
	// engine, new at the start of the stream, answered from its cache.
	HitRatio float64 `json:"hit_ratio"`
	// Agreement compares each decider with the hand-written check.
	Agreement []Agreement `json:"agreement"`
}

// Agreement is how often a decider decided otherwise than the hand-written
// check: a different allow, or different violations in any order.
type Agreement struct {
	Decider         string `json:"decider"`
	Checked         int    `json:"checked"`
	Differing       int    `json:"differing"`
	FirstDifference string `json:"first_difference,omitempty"`
}

// differing counts the decisions that differ over every decider.
func (c *TrafficCheck) differing() int {
	n := 0
	for _, a := range c.Agreement {
		n += a.Differing
	}
	return n
}

// checkTraffic runs the pass over the first requests of the stream over
// the given number of accounts: one new engine and Cedar decide every
// request; plain OPA, which takes as long as a cache miss on each, decides
// about opaSample of them, spread over the stream.
func checkTraffic(accounts, requests, warmup, opaSample int) (TrafficCheck, error) {
	s, err := trafficStreamOver(accounts)
	if err != nil {
		return TrafficCheck{}, err
	}
	cases, err := s.prefix(requests)
	if err != nil {
		return TrafficCheck{}, err
	}
	warmup = min(warmup, requests)
	check := TrafficCheck{Accounts: accounts, Warmup: warmup, Shape: shapeOf(cases)}

	engine, err := startEngine()()
	if err != nil {
		return TrafficCheck{}, err
	}
	cold := agree("engine", engine, cases[:warmup], 1)
	before := engine.engine.Stats().Evaluated
	warm := agree("engine", engine, cases[warmup:], 1)
	if after := cases[warmup:]; len(after) > 0 {
		check.HitRatio = 1 - float64(engine.engine.Stats().Evaluated-before)/float64(len(after))
	}
	check.Agreement = append(check.Agreement, cold.plus(warm))

	cp, err := startCedar()
	if err != nil {
		return TrafficCheck{}, err
	}
	check.Agreement = append(check.Agreement, agree("cedar", cp, cases, 1))

	opa, err := startOPA()
	if err != nil {
		return TrafficCheck{}, err
	}
	check.Agreement = append(check.Agreement, agree("opa-prepared", opa, cases, max(1, requests/max(opaSample, 1))))
	return check, nil
}

// agree compares run with the hand-written check on every stride-th case.
func agree(name string, run *trafficRun, cases []trafficCase, stride int) Agreement {
	a := Agreement{Decider: name}
	for i := 0; i < len(cases); i += stride {
		c := &cases[i]
		want := native.Decide(c.facts)
		got, err := run.decide(c)
		a.Checked++
		if err == nil && sameDecision(want, got) {
			continue
		}
		a.Differing++
		if a.FirstDifference == "" {
			a.FirstDifference = fmt.Sprintf("%+v: native %+v, %s %+v (error %v)", c.facts.Query, want, name, got, err)
		}
	}
	return a
}

func (a Agreement) plus(o Agreement) Agreement {
	a.Checked += o.Checked
	a.Differing += o.Differing
	if a.FirstDifference == "" {
		a.FirstDifference = o.FirstDifference
	}
	return a
}

// sameDecision compares decisions as the service reads them: the order of
// violations carries no meaning.
func sameDecision(a, b membership.Decision) bool {
	return a.Allow == b.Allow && slices.Equal(sortedViolations(a.Violations), sortedViolations(b.Violations))
}
