package main

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
)

// Report is what one run of the command measured: the machine, every
// benchmark (medians over the runs), and the targets of issue 4 judged on
// those numbers. It is also the -json output.
type Report struct {
	Machine Machine   `json:"machine"`
	Count   int       `json:"count"`
	Seeding []Seeding `json:"seeding,omitempty"`
	Results []Result  `json:"results"`
	Targets []Target  `json:"targets"`
}

// Machine describes where the numbers come from.
type Machine struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GoVersion  string `json:"go_version"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

func thisMachine() Machine {
	return Machine{
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version(),
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
}

// Seeding is how long filling a benchmark store took.
type Seeding struct {
	Store       string  `json:"store"`
	Memberships int     `json:"memberships"`
	Seconds     float64 `json:"seconds"`
}

// Result is one benchmark: the medians of its runs, and its ratio to its
// baseline on the metric they are compared by.
type Result struct {
	Name string `json:"name"`
	// Runs is how many runs succeeded; a result without any is missing.
	Runs        int                `json:"runs"`
	NsPerOp     float64            `json:"ns_per_op"`
	AllocsPerOp float64            `json:"allocs_per_op"`
	BytesPerOp  float64            `json:"bytes_per_op"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	Baseline    string             `json:"baseline,omitempty"`
	Metric      string             `json:"metric,omitempty"`
	Ratio       float64            `json:"ratio,omitempty"`
}

// value returns the result's value of a metric: ns/op, allocs/op, B/op or
// a custom one.
func (r Result) value(metric string) (float64, bool) {
	switch metric {
	case "", "ns/op":
		return r.NsPerOp, true
	case "allocs/op":
		return r.AllocsPerOp, true
	case "B/op":
		return r.BytesPerOp, true
	}
	v, ok := r.Metrics[metric]
	return v, ok
}

// Target is one target of issue 4 and how this run fares against it.
type Target struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Op     string  `json:"op"` // "<=" or ">="
	Limit  float64 `json:"limit"`
	Status string  `json:"status"` // PASS, FAIL, or SKIP when a benchmark did not run
}

// newReport builds the report from the runs of each benchmark.
func newReport(m Machine, count int, list []benchmark, runs map[string][]testing.BenchmarkResult) Report {
	r := Report{Machine: m, Count: count}
	for _, bm := range list {
		res := median(runs[bm.name])
		res.Name, res.Baseline, res.Metric = bm.name, bm.baseline, bm.metric
		r.Results = append(r.Results, res)
	}
	for i := range r.Results {
		res := &r.Results[i]
		if ratio, ok := r.ratio(res.Name, res.Baseline, res.Metric); ok {
			res.Ratio = ratio
		}
	}
	r.Targets = r.judge()
	return r
}

// median returns the median of each measure over the runs.
func median(runs []testing.BenchmarkResult) Result {
	var ns, allocs, bytes []float64
	metrics := map[string][]float64{}
	for _, run := range runs {
		if run.N == 0 {
			continue
		}
		n := float64(run.N)
		ns = append(ns, float64(run.T.Nanoseconds())/n)
		allocs = append(allocs, float64(run.MemAllocs)/n)
		bytes = append(bytes, float64(run.MemBytes)/n)
		for k, v := range run.Extra {
			metrics[k] = append(metrics[k], v)
		}
	}
	res := Result{Runs: len(ns), NsPerOp: middle(ns), AllocsPerOp: middle(allocs), BytesPerOp: middle(bytes)}
	for k, vs := range metrics {
		if res.Metrics == nil {
			res.Metrics = map[string]float64{}
		}
		res.Metrics[k] = middle(vs)
	}
	return res
}

func middle(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	vs = slices.Sorted(slices.Values(vs))
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

func (r Report) result(name string) (Result, bool) {
	for _, res := range r.Results {
		if res.Name == name && res.Runs > 0 {
			return res, true
		}
	}
	return Result{}, false
}

// ratio divides a metric of benchmark a by the same metric of b.
func (r Report) ratio(a, b, metric string) (float64, bool) {
	ra, okA := r.result(a)
	rb, okB := r.result(b)
	if !okA || !okB {
		return 0, false
	}
	va, okA := ra.value(metric)
	vb, okB := rb.value(metric)
	if !okA || !okB || vb == 0 {
		return 0, false
	}
	return va / vb, true
}

// A goal is a target of issue 4 before it is judged: how to compute its
// value from a report, and the limit.
type goal struct {
	name  string
	value func(Report) (float64, bool)
	op    string
	limit float64
}

func ratioOf(a, b, metric string) func(Report) (float64, bool) {
	return func(r Report) (float64, bool) { return r.ratio(a, b, metric) }
}

func valueOf(name, metric string) func(Report) (float64, bool) {
	return func(r Report) (float64, bool) {
		res, ok := r.result(name)
		if !ok {
			return 0, false
		}
		return res.value(metric)
	}
}

// goals are the targets of issue 4. Times are compared as ratios within one
// run, so that the speed of the machine cancels out.
func goals() []goal {
	var gs []goal
	for _, c := range factCaseNames {
		gs = append(gs,
			goal{fmt.Sprintf("Decision/engine / Decision/cedar (%s), ns/op", c),
				ratioOf("Decision/engine/"+c, "Decision/cedar/"+c, "ns/op"), "<=", 1.0},
			goal{fmt.Sprintf("Decision/opa-prepared / Decision/engine (%s), ns/op", c),
				ratioOf("Decision/opa-prepared/"+c, "Decision/engine/"+c, "ns/op"), ">=", 20},
			goal{fmt.Sprintf("Decision/engine (%s), allocs/op", c),
				valueOf("Decision/engine/"+c, "allocs/op"), "<=", 2},
		)
	}
	gs = append(gs,
		goal{"AddUserToSpace/memstore-1m / MemdbUpsertFloor/1m, ns/op",
			ratioOf("AddUserToSpace/memstore-1m", "MemdbUpsertFloor/1m", "ns/op"), "<=", 2.0},
		goal{"AddUserToSpace/memstore-1m / AddUserToSpace/memstore-10k, ns/op",
			ratioOf("AddUserToSpace/memstore-1m", "AddUserToSpace/memstore-10k", "ns/op"), "<=", 1.5},
		goal{"MemoryPerMembership/memstore, B/membership",
			valueOf("MemoryPerMembership/memstore", "B/membership"), "<=", 1024},
	)
	for _, size := range issueSizes {
		name := "AddUserToSpaceParallel/memstore-" + sizeName(size)
		// Throughput is the inverse of ns/op, hence procs-1 over procs-2.
		gs = append(gs, goal{name + ", throughput procs-2 / procs-1",
			ratioOf(name+"/procs-1", name+"/procs-2", "ns/op"), ">=", 1.0})
	}
	return gs
}

// judge evaluates every goal on the report.
func (r Report) judge() []Target {
	var ts []Target
	for _, g := range goals() {
		t := Target{Name: g.name, Op: g.op, Limit: g.limit, Status: "SKIP"}
		if v, ok := g.value(r); ok {
			t.Value = v
			pass := v <= g.limit
			if g.op == ">=" {
				pass = v >= g.limit
			}
			t.Status = map[bool]string{true: "PASS", false: "FAIL"}[pass]
		}
		ts = append(ts, t)
	}
	return ts
}
