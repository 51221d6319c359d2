package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// A benchmark is one measured operation, named as go test names it without
// the "Benchmark" prefix. The Benchmark functions of bench_test.go and the
// command run the same bodies.
type benchmark struct {
	name string
	// group names the section of the report the benchmark belongs to.
	group string
	run   func(*testing.B)
	// procs is the GOMAXPROCS to run with; zero leaves it alone.
	procs int
	// baseline names the benchmark this one is compared with, on the
	// group's metric.
	baseline string
	// iterations, when set, fixes how many iterations a run of the command
	// makes, whatever -benchtime asks for beyond it: a traffic benchmark
	// gathers one request per iteration, so that a fast decider on a time
	// budget would ask for tens of millions.
	iterations int
}

// defaultSizes are the store sizes, in space memberships, of the store
// benchmarks: a small store and a large one.
var defaultSizes = []int{10_000, 1_000_000}

// Defaults of the traffic benchmarks.
const (
	defaultAccounts = 10_000
	// defaultRequests is the length of the stream the command checks and
	// measures the hit ratio on.
	defaultRequests = 200_000
	// defaultWarmup is how many requests the reported hit ratio leaves out:
	// a service's cache is cold only once.
	defaultWarmup = 10_000
	// opaSample is how many requests of the stream plain OPA decides in the
	// check, at about as long as a cache miss each.
	opaSample = 2_000
)

// The parts of a run under the command, as shares of the stream length:
// deciders that evaluate Rego on every request, and adds, take fewer.
const (
	slowTrafficShare = 40
	addTrafficShare  = 10
)

// Group is a section of the report: benchmarks measured on the same
// metric, each beside its baseline.
type Group struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Columns are the metrics shown, Compare the one ratios are taken on.
	Columns []string `json:"columns"`
	Compare string   `json:"compare"`
	// Ratio heads the column of ratios, naming what is divided and so
	// which way is better.
	Ratio string `json:"ratio"`
}

// groups are the sections of the report, in order: traffic first, then the
// best cases.
func groups(cfg config) []Group {
	gs := []Group{
		{"traffic", fmt.Sprintf("Traffic: decisions over a stream of requests across %s accounts, each request once, a new engine every run", count(cfg.accounts)),
			[]string{"ns/op", "allocs/op", "B/op", "hit-ratio"}, "ns/op", "time ÷ baseline"},
		{"traffic-parallel", "Traffic: the engine deciding the stream from 1 and 2 goroutines",
			[]string{"decisions/s", "allocs/op", "hit-ratio"}, "decisions/s", "throughput ÷ baseline"},
		{"traffic-add", "Traffic: AddUserToSpace taking the stream's requests in order, allowed and denied, on stores of many accounts",
			[]string{"ns/op", "allocs/op", "B/op", "hit-ratio"}, "ns/op", "time ÷ baseline"},
		{"best-decision", "Best case: one request repeated, decided again and again",
			[]string{"ns/op", "allocs/op", "B/op"}, "ns/op", "time ÷ baseline"},
		{"best-add", "Best case: one request repeated, one membership updated again and again",
			[]string{"ns/op", "allocs/op", "B/op"}, "ns/op", "time ÷ baseline"},
		{"best-parallel", "Best case: the repeated update from 1 and 2 goroutines",
			[]string{"adds/s", "allocs/op"}, "adds/s", "throughput ÷ baseline"},
		{"memory", "Memory: live heap per space membership stored",
			[]string{"B/membership"}, "B/membership", "size ÷ baseline"},
	}
	if len(cfg.listSizes) > 0 {
		gs = append(gs, listGroup)
	}
	return gs
}

// suite lists the benchmarks the command runs, group by group, baselines
// first.
func suite(cfg config) []benchmark {
	var list []benchmark
	add := func(bm benchmark) { list = append(list, bm) }

	for _, d := range trafficDeciders {
		n := cfg.requests
		if slowTrafficDeciders[d.name] {
			n = max(1, cfg.requests/slowTrafficShare)
		}
		add(benchmark{name: "Traffic/" + d.name, group: "traffic", run: benchTraffic(cfg.accounts, d),
			baseline: "Traffic/native", iterations: n})
	}
	for _, procs := range []int{1, 2} {
		add(benchmark{name: fmt.Sprintf("TrafficParallel/engine/procs-%d", procs), group: "traffic-parallel",
			run: benchTrafficParallel(cfg.accounts), procs: procs,
			baseline: "TrafficParallel/engine/procs-1", iterations: cfg.requests})
	}
	adds := max(1, cfg.requests/addTrafficShare)
	for _, n := range cfg.sizes {
		floor := "TrafficFloor/" + sizeName(n)
		add(benchmark{name: floor, group: "traffic-add", run: benchTrafficFloor(n), baseline: floor, iterations: adds})
		add(benchmark{name: "TrafficAdd/memstore-" + sizeName(n), group: "traffic-add", run: benchTrafficAdd(n), baseline: floor, iterations: adds})
	}

	for _, c := range factCaseNames {
		for _, d := range deciders {
			add(benchmark{name: "Decision/" + d.name + "/" + c, group: "best-decision",
				run: benchDecision(d, c), baseline: "Decision/native/" + c})
		}
	}
	for _, n := range cfg.sizes {
		floor := "MemdbUpsertFloor/" + sizeName(n)
		add(benchmark{name: floor, group: "best-add", run: benchMemdbUpsertFloor(n), baseline: floor})
		add(benchmark{name: "AddUserToSpace/memstore-" + sizeName(n), group: "best-add", run: benchAddUserToSpace(n), baseline: floor})
	}
	for _, n := range cfg.sizes {
		name := "AddUserToSpaceParallel/memstore-" + sizeName(n)
		for _, procs := range []int{1, 2} {
			add(benchmark{name: fmt.Sprintf("%s/procs-%d", name, procs), group: "best-parallel",
				run: benchAddUserToSpaceParallel(n), procs: procs, baseline: name + "/procs-1"})
		}
	}
	// One iteration each: a run stores all the memberships, and repeating
	// it would only repeat the measurement.
	add(benchmark{name: "MemoryPerMembership/memdb-floor", group: "memory", run: benchMemoryPerMembership(cfg.memberships, floorMemory),
		baseline: "MemoryPerMembership/memdb-floor", iterations: 1})
	add(benchmark{name: "MemoryPerMembership/memstore", group: "memory", run: benchMemoryPerMembership(cfg.memberships, memstoreMemory),
		baseline: "MemoryPerMembership/memdb-floor", iterations: 1})
	return append(list, listSuite(cfg.listSizes, cfg.listPostgres)...)
}

// sizeName writes a store size the way benchmark names do: 10k, 1m, 250.
func sizeName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "m"
	case n >= 1_000 && n%1_000 == 0:
		return strconv.Itoa(n/1_000) + "k"
	}
	return strconv.Itoa(n)
}

// count writes a count with thousands separators: 10,000.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// parseSizes reads a comma-separated list of sizes such as "10k,1m".
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, field := range strings.Split(s, ",") {
		n, err := parseSize(strings.TrimSpace(field))
		if err != nil {
			return nil, err
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func parseSize(s string) (int, error) {
	digits, multiplier := s, 1
	switch {
	case strings.HasSuffix(s, "m"):
		digits, multiplier = strings.TrimSuffix(s, "m"), 1_000_000
	case strings.HasSuffix(s, "k"):
		digits, multiplier = strings.TrimSuffix(s, "k"), 1_000
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > 1<<40/multiplier {
		return 0, fmt.Errorf("invalid size %q: want a positive number such as 250, 10k or 1m", s)
	}
	return n * multiplier, nil
}
