package policy_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

const denyAll = `package spaceauthz

decision := {"allow": false, "violations": [{"code": "frozen", "rule": "freeze", "status": 423}]}
`

func TestReload(t *testing.T) {
	t.Parallel()
	var records []policy.DecisionRecord
	e := newEngine(t, policy.WithAudit(policy.AuditFunc(func(_ context.Context, r policy.DecisionRecord) { records = append(records, r) })))
	decide := func() membership.Decision {
		t.Helper()
		d, err := e.Decide(context.Background(), allowedFacts())
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Twice: the second decision comes from the cache.
	if first, again := decide(), decide(); !first.Allow || !again.Allow {
		t.Fatal("the default policy denies")
	}

	// A replacement takes over at once, with a cache of its own.
	if err := e.Reload(policy.WithoutDefaultPolicy(), policy.WithModule("freeze.rego", denyAll)); err != nil {
		t.Fatal(err)
	}
	if d := decide(); d.Allow || d.Violations[0].Code != "frozen" {
		t.Errorf("after the reload: %+v, want the frozen deny", d)
	}
	// A policy that does not compile is refused; the one in force stays.
	if err := e.Reload(policy.WithModule("bad.rego", "package spaceauthz\n\nallow if {")); !errors.Is(err, policy.ErrInvalidPolicy) {
		t.Errorf("Reload of a broken policy: %v, want ErrInvalidPolicy", err)
	}
	if d := decide(); d.Allow {
		t.Errorf("a refused reload changed the policy: %+v", d)
	}
	// Back to the default policy; the audit sink stays.
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	if !decide().Allow {
		t.Error("reloading the default policy did not bring its allow back")
	}
	if len(records) != 5 {
		t.Errorf("the audit sink saw %d decisions, want 5: it must survive reloads", len(records))
	}
}

// TestReloadWhileDeciding: decisions under way during reloads all finish,
// each on one policy or the other, never on a mix or an error; each audit
// record names the policy whose decision it reports.
func TestReloadWhileDeciding(t *testing.T) {
	t.Parallel()
	frozen, err := policy.New(policy.WithoutDefaultPolicy(), policy.WithModule("freeze.rego", denyAll))
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, policy.WithAudit(policy.AuditFunc(func(_ context.Context, r policy.DecisionRecord) {
		if r.Allow == (r.Revision == frozen.Revision()) {
			t.Errorf("decision allow=%v reported under revision %s", r.Allow, r.Revision)
		}
	})))
	if e.Revision() == frozen.Revision() {
		t.Fatal("two different policies have one revision")
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := e.Decide(context.Background(), allowedFacts())
				if err != nil {
					t.Errorf("Decide during a reload: %v", err)
					return
				}
				if !d.Allow && (len(d.Violations) != 1 || d.Violations[0].Code != "frozen") {
					t.Errorf("Decide during a reload: %+v, from neither policy", d)
					return
				}
			}
		})
	}
	for i := range 6 {
		if i%2 == 0 {
			err = e.Reload(policy.WithoutDefaultPolicy(), policy.WithModule("freeze.rego", denyAll))
		} else {
			err = e.Reload()
		}
		if err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}
