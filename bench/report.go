package main

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
)

// Report is what one run of the command measured: the machine, the
// stream and what the check before timing found, every benchmark (medians
// over the runs) in its group, and the targets judged on those numbers. It
// is also the -json output.
type Report struct {
	Machine Machine       `json:"machine"`
	Count   int           `json:"count"`
	Seeding []Seeding     `json:"seeding,omitempty"`
	Traffic *TrafficCheck `json:"traffic,omitempty"`
	Groups  []Group       `json:"groups"`
	Results []Result      `json:"results"`
	Targets []Target      `json:"targets"`
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
	Store string `json:"store"`
	// Accounts is set for the worlds of the traffic benchmarks, Spaces
	// for those of the list benchmarks.
	Accounts    int     `json:"accounts,omitempty"`
	Spaces      int     `json:"spaces,omitempty"`
	Memberships int     `json:"memberships"`
	Seconds     float64 `json:"seconds"`
}

// Result is one benchmark: the medians of its runs, and its ratio to its
// baseline on the metric its group compares.
type Result struct {
	Name  string `json:"name"`
	Group string `json:"group"`
	// Runs is how many runs succeeded; a result without any is missing.
	Runs        int                `json:"runs"`
	NsPerOp     float64            `json:"ns_per_op"`
	AllocsPerOp float64            `json:"allocs_per_op"`
	BytesPerOp  float64            `json:"bytes_per_op"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	Baseline    string             `json:"baseline,omitempty"`
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

// Target is one target and how this run fares against it.
type Target struct {
	Name string `json:"name"`
	// Unit says what Value counts: a ratio, allocs/op, a share, ...
	Unit   string  `json:"unit"`
	Value  float64 `json:"value"`
	Op     string  `json:"op"` // "<=" or ">="
	Limit  float64 `json:"limit"`
	Status string  `json:"status"` // PASS, FAIL, or SKIP when a benchmark did not run
}

// newReport builds the report from the runs of each benchmark and the
// check of the stream (nil when there was none).
func newReport(m Machine, count int, gs []Group, list []benchmark, runs map[string][]testing.BenchmarkResult, traffic *TrafficCheck) Report {
	r := Report{Machine: m, Count: count, Groups: gs, Traffic: traffic}
	for _, bm := range list {
		res := median(runs[bm.name])
		res.Name, res.Group, res.Baseline = bm.name, bm.group, bm.baseline
		r.Results = append(r.Results, res)
	}
	for i := range r.Results {
		res := &r.Results[i]
		if g, ok := r.group(res.Group); ok {
			if ratio, ok := r.ratio(res.Name, res.Baseline, g.Compare); ok {
				res.Ratio = ratio
			}
		}
	}
	r.Targets = r.judge()
	return r
}

func (r Report) group(name string) (Group, bool) {
	for _, g := range r.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return Group{}, false
}

// median returns the median of each measure over the runs. A benchmark may
// replace a standard measure with ReportMetric (the memory benchmarks set
// ns/op to zero: their time says nothing).
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
	for k, standard := range map[string]*[]float64{"ns/op": &ns, "allocs/op": &allocs, "B/op": &bytes} {
		if vs, ok := metrics[k]; ok {
			*standard = vs
			delete(metrics, k)
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

// A goal is a target before it is judged: how to compute its value from a
// report, and the limit.
type goal struct {
	name  string
	unit  string
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

func fromTraffic(value func(*TrafficCheck) float64) func(Report) (float64, bool) {
	return func(r Report) (float64, bool) {
		if r.Traffic == nil {
			return 0, false
		}
		return value(r.Traffic), true
	}
}

// goals are the targets. Times are compared as ratios within one run, so
// that the speed of the machine cancels out; each name says what is
// divided by what, and so which way is better.
func goals(r Report) []goal {
	hitRatio := "Traffic: engine cache hit ratio after the stream's warm-up"
	if t := r.Traffic; t != nil {
		hitRatio = fmt.Sprintf("Traffic: engine cache hit ratio after the first %s requests (%s accounts)", count(t.Warmup), count(t.Accounts))
	}
	gs := []goal{
		{"Traffic: engine ÷ Cedar, time per decision", "ratio",
			ratioOf("Traffic/engine", "Traffic/cedar", "ns/op"), "<=", 0.25},
		{"Traffic: plain OPA ÷ engine, time per decision", "ratio",
			ratioOf("Traffic/opa-prepared", "Traffic/engine", "ns/op"), ">=", 50},
		{hitRatio, "share",
			fromTraffic(func(t *TrafficCheck) float64 { return t.HitRatio }), ">=", 0.99},
		{"Traffic: engine, allocations per decision", "allocs/op",
			valueOf("Traffic/engine", "allocs/op"), "<=", 2},
		{"Traffic: engine with an audit sink, allocations per decision", "allocs/op",
			valueOf("Traffic/engine-audit", "allocs/op"), "<=", 2},
		{"Traffic: engine with an audit sink ÷ engine, time per decision", "ratio",
			ratioOf("Traffic/engine-audit", "Traffic/engine", "ns/op"), "<=", 1.1},
		{"Traffic: engine with the queued slog audit sink ÷ engine, time per decision", "ratio",
			ratioOf("Traffic/engine-slog-queued", "Traffic/engine", "ns/op"), "<=", 1.25},
		{"Traffic: memstore-1m ÷ bare go-memdb, time per add", "ratio",
			ratioOf("TrafficAdd/memstore-1m", "TrafficFloor/1m", "ns/op"), "<=", 2.5},
		{"Traffic: engine throughput, 2 CPUs ÷ 1 CPU", "ratio",
			ratioOf("TrafficParallel/engine/procs-2", "TrafficParallel/engine/procs-1", "decisions/s"), ">=", 1.6},
		{"Traffic: decisions that differ from the hand-written check", "decisions",
			fromTraffic(func(t *TrafficCheck) float64 { return float64(t.differing()) }), "<=", 0},
	}
	for _, c := range factCaseNames {
		gs = append(gs,
			goal{fmt.Sprintf("Best case (%s): engine ÷ Cedar, time per decision", c), "ratio",
				ratioOf("Decision/engine/"+c, "Decision/cedar/"+c, "ns/op"), "<=", 1.0},
			goal{fmt.Sprintf("Best case (%s): plain OPA ÷ engine, time per decision", c), "ratio",
				ratioOf("Decision/opa-prepared/"+c, "Decision/engine/"+c, "ns/op"), ">=", 20},
			goal{fmt.Sprintf("Best case (%s): engine, allocations per decision", c), "allocs/op",
				valueOf("Decision/engine/"+c, "allocs/op"), "<=", 2},
		)
	}
	gs = append(gs,
		goal{"Best case: memstore-1m ÷ bare go-memdb, time per update", "ratio",
			ratioOf("AddUserToSpace/memstore-1m", "MemdbUpsertFloor/1m", "ns/op"), "<=", 2.0},
		goal{"Best case: memstore-1m ÷ memstore-10k, time per update", "ratio",
			ratioOf("AddUserToSpace/memstore-1m", "AddUserToSpace/memstore-10k", "ns/op"), "<=", 1.5},
	)
	for _, size := range defaultSizes {
		name := "AddUserToSpaceParallel/memstore-" + sizeName(size)
		gs = append(gs, goal{fmt.Sprintf("Best case: memstore-%s update throughput, 2 CPUs ÷ 1 CPU", sizeName(size)), "ratio",
			ratioOf(name+"/procs-2", name+"/procs-1", "adds/s"), ">=", 1.0})
	}
	gs = append(gs, goal{"Memory: memstore, bytes per space membership", "B/membership",
		valueOf("MemoryPerMembership/memstore", "B/membership"), "<=", 1024})
	if _, ok := r.group(listGroup.Name); ok {
		gs = append(gs, listGoals()...)
	}
	return gs
}

// judge evaluates every goal on the report.
func (r Report) judge() []Target {
	var ts []Target
	for _, g := range goals(r) {
		t := Target{Name: g.name, Unit: g.unit, Op: g.op, Limit: g.limit, Status: "SKIP"}
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
