package linearizable

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

var (
	seedFlag      = flag.Uint64("linearizable.seed", 0, "seed of the linearizability tests' histories (0: a new one, logged)")
	historyFlag   = flag.Int("linearizable.history", -1, "replay only this history of -linearizable.seed")
	historiesFlag = flag.Int("linearizable.histories", 0, "play this many histories instead of each test's own number (a longer run)")
)

// Config is a linearizability test of a store.
type Config struct {
	// Package is the directory of the test's package, as in "./memstore",
	// for the command that replays a failure.
	Package   string
	Workload  Workload
	Histories int
	// Store returns the store of the next history: a new one, or one
	// that every history shares (their ids are apart).
	Store func(t *testing.T) Store
}

// Run plays cfg.Histories histories of cfg.Workload, each on cfg.Store()
// through a service with the default policy, and fails t at the first that
// is not linearizable, naming the seed, the command that replays it and
// the file of its visualisation.
func Run(t *testing.T, cfg Config) {
	seed := Seed(t)
	authz := defaultPolicy(t)
	start, ops, played, outcomes := time.Now(), 0, 0, Outcomes{}
	for _, n := range numbers(cfg.Histories) {
		h, v := playAndCheck(t, cfg.Store(t), authz, "run", seed, n, cfg.Workload)
		if !v.Linearizable() {
			failHistory(t, cfg.Package, h, v)
		}
		ops += len(h.Operations)
		played++
		outcomes.Add(h)
	}
	t.Logf("%d histories of workload %s (seed %d), %d operations in all, linearizable; %v\noutcomes: %s",
		played, cfg.Workload.Name, seed, ops, time.Since(start).Round(time.Millisecond), outcomes)
}

// Defect is a test that a planted defect of a store fails the check.
type Defect struct {
	Package      string
	Workload     Workload
	MaxHistories int
	// Defective returns the store with the defect, Correct the same store
	// without it; each is called once per history.
	Defective, Correct func(t *testing.T) Store
}

// CatchDefect plays histories of d.Workload on d.Defective() until one is
// not linearizable, and fails t if none of d.MaxHistories is. It then
// plays the same histories (the same seed and numbers, so the same
// operations) on d.Correct(), which must pass every one.
func CatchDefect(t *testing.T, d Defect) {
	seed := Seed(t)
	authz := defaultPolicy(t)
	var played []int
	for _, n := range numbers(d.MaxHistories) {
		h, v := playAndCheck(t, d.Defective(t), authz, "defect", seed, n, d.Workload)
		played = append(played, n)
		if v.Result == porcupine.Unknown {
			t.Fatalf("history %d of seed %d on the defective store could not be checked in %v; replay: %s",
				n, seed, CheckTimeout, replayCommand(t, d.Package, seed, n))
		}
		if v.Linearizable() {
			continue
		}
		// Expected: kept with -artifacts, for a look at what the defect did.
		path, err := v.Visualize(t.ArtifactDir(), h)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("caught after %d histories of workload %s (seed %d): history %d is not linearizable (%d operations); visualisation %s",
			len(played), d.Workload.Name, seed, n, len(h.Operations), path)
		for _, n := range played {
			h, v := playAndCheck(t, d.Correct(t), authz, "correct", seed, n, d.Workload)
			if !v.Linearizable() {
				failHistory(t, d.Package, h, v)
			}
		}
		t.Logf("the store without the defect passed the same %d histories", len(played))
		return
	}
	t.Fatalf("the check caught nothing in %d histories of workload %s on the defective store (seed %d): the workload no longer exposes the defect",
		len(played), d.Workload.Name, seed)
}

// Seed returns the seed of the histories: -linearizable.seed, or a new
// one, logged so that a failure can be replayed.
func Seed(t *testing.T) uint64 {
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d", seed)
	return seed
}

// numbers returns the numbers of the histories to play: n of them, or the
// count of -linearizable.histories, or only -linearizable.history.
func numbers(n int) []int {
	if *historyFlag >= 0 {
		return []int{*historyFlag}
	}
	if *historiesFlag > 0 {
		n = *historiesFlag
	}
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func defaultPolicy(t *testing.T) *policy.Engine {
	authz, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	return authz
}

// playAndCheck plays history n of seed on store and checks it.
func playAndCheck(t *testing.T, store Store, authz *policy.Engine, label string, seed uint64, n int, load Workload) (*History, Verdict) {
	t.Helper()
	svc, err := membership.NewService(store, authz)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Play(t.Context(), svc, store, label, seed, n, load)
	if err != nil {
		t.Fatalf("history %d of seed %d: %v", n, seed, err)
	}
	return h, Check(h, CheckTimeout)
}

// failHistory fails t for a history that is not linearizable, or whose
// check timed out: with the visualisation, in a directory that outlives
// the test, and the command that replays it.
func failHistory(t *testing.T, pkg string, h *History, v Verdict) {
	t.Helper()
	where := "no visualisation"
	if dir, err := os.MkdirTemp("", "linearizable-"); err != nil {
		where += ": " + err.Error()
	} else if path, err := v.Visualize(dir, h); err != nil {
		where += ": " + err.Error()
	} else {
		where = "visualisation: " + path
	}
	why := "is not linearizable"
	if v.Result != porcupine.Illegal {
		why = fmt.Sprintf("could not be checked in %v (porcupine: %s), which proves nothing", CheckTimeout, v.Result)
	}
	t.Fatalf("history %d of workload %s (seed %d, %d operations) %s\n%s\nreplay: %s",
		h.Number, h.Workload.Name, h.Seed, len(h.Operations), why, where, replayCommand(t, pkg, h.Seed, h.Number))
}

// replayCommand is the command that plays history n of seed again, in the
// test t alone.
func replayCommand(t *testing.T, pkg string, seed uint64, n int) string {
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("go test -race -count=1 %s -run '%s' -v -linearizable.seed=%d -linearizable.history=%d",
		pkg, strings.Join(parts, "/"), seed, n)
}
