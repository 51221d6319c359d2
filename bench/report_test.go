package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/internal/golden"
	"github.com/spaceauthz/spaceauthz/membership"
)

// fakeRun is a benchmark result of n iterations taking ns each.
func fakeRun(ns float64, allocs, bytes uint64, extra map[string]float64) testing.BenchmarkResult {
	const n = 1000
	return testing.BenchmarkResult{
		N: n, T: time.Duration(ns * n), MemAllocs: allocs * n, MemBytes: bytes * n, Extra: extra,
	}
}

// sampleConfig is the configuration of sampleReport: the defaults.
var sampleConfig = config{sizes: defaultSizes, memberships: memoryMemberships, accounts: defaultAccounts, requests: defaultRequests, warmup: defaultWarmup}

// sampleReport is a report over the suite with made-up numbers: the
// traffic decision targets pass but for the allocations of an audit sink
// and the time of the queued slog sink, the store targets pass, the
// best-case decision targets fail, and the 1m parallel update failed to
// run.
func sampleReport() Report {
	list := suite(sampleConfig)
	runs := map[string][]testing.BenchmarkResult{}
	set := func(name string, rs ...testing.BenchmarkResult) { runs[name] = rs }
	hits := map[string]float64{"hit-ratio": 0.95}
	set("Traffic/native", fakeRun(60, 0, 0, nil))
	set("Traffic/engine", fakeRun(900, 1, 48, hits), fakeRun(1_100, 1, 48, hits), fakeRun(1_000, 1, 48, hits))
	set("Traffic/engine-audit", fakeRun(1_100, 12, 900, hits))
	set("Traffic/engine-slog", fakeRun(1_600, 12, 900, hits))
	set("Traffic/engine-slog-queued", fakeRun(1_600, 12, 900, hits))
	set("Traffic/engine-uncached", fakeRun(150_000, 500, 30_000, map[string]float64{"hit-ratio": 0}))
	set("Traffic/opa-prepared", fakeRun(140_000, 480, 29_000, nil))
	set("Traffic/cedar", fakeRun(6_000, 40, 3_000, nil))
	set("TrafficParallel/engine/procs-1", fakeRun(1_000, 1, 48, map[string]float64{"decisions/s": 1e6, "hit-ratio": 0.95}))
	set("TrafficParallel/engine/procs-2", fakeRun(550, 1, 48, map[string]float64{"decisions/s": 1.8e6, "hit-ratio": 0.95}))
	set("TrafficFloor/10k", fakeRun(1_500, 20, 2_000, nil))
	set("TrafficAdd/memstore-10k", fakeRun(3_000, 40, 4_000, map[string]float64{"hit-ratio": 0.99}))
	set("TrafficFloor/1m", fakeRun(2_000, 25, 2_500, nil))
	set("TrafficAdd/memstore-1m", fakeRun(4_000, 45, 4_500, map[string]float64{"hit-ratio": 0.99}))
	for _, c := range factCaseNames {
		set("Decision/native/"+c, fakeRun(4, 0, 0, nil))
		set("Decision/opa-prepared/"+c, fakeRun(24_000, 186, 9000, nil), fakeRun(26_000, 186, 9000, nil), fakeRun(25_000, 187, 9100, nil))
		set("Decision/engine/"+c, fakeRun(1_500, 3, 120, nil))
		set("Decision/engine-uncached/"+c, fakeRun(14_000, 120, 6000, nil))
		set("Decision/cedar/"+c, fakeRun(800, 11, 424, nil))
	}
	set("MemdbUpsertFloor/10k", fakeRun(2_000, 30, 3000, nil))
	set("AddUserToSpace/memstore-10k", fakeRun(3_000, 50, 5000, nil))
	set("MemdbUpsertFloor/1m", fakeRun(3_000, 40, 4000, nil))
	set("AddUserToSpace/memstore-1m", fakeRun(4_000, 60, 6000, nil))
	set("AddUserToSpaceParallel/memstore-10k/procs-1", fakeRun(3_000, 50, 5000, map[string]float64{"adds/s": 333_333}))
	set("AddUserToSpaceParallel/memstore-10k/procs-2", fakeRun(2_500, 50, 5000, map[string]float64{"adds/s": 400_000}))
	set("MemoryPerMembership/memdb-floor", fakeRun(2e8, 0, 0, map[string]float64{"B/membership": 400, "ns/op": 0}))
	set("MemoryPerMembership/memstore", fakeRun(9e8, 0, 0, map[string]float64{"B/membership": 900, "ns/op": 0}))
	traffic := &TrafficCheck{
		Accounts: defaultAccounts, Warmup: defaultWarmup, HitRatio: 0.9931,
		Shape: StreamShape{Requests: defaultRequests, Allowed: 56_000, CrossAccount: 6_000, Denied: map[membership.Code]int{
			membership.CodeUnauthenticated: 2_000, membership.CodeSpaceNotFound: 60_000, membership.CodeForbidden: 30_000,
			membership.CodeUserNotFound: 2_000, membership.CodeRoleNotFound: 3_000, membership.CodeUserNotInOrganization: 37_000,
			membership.CodeAnnotatorRoleRequired: 7_000, membership.CodeAnnotatorRoleNotAllowed: 3_000,
		}},
		Agreement: []Agreement{
			{Decider: "engine", Checked: defaultRequests},
			{Decider: "cedar", Checked: defaultRequests},
			{Decider: "opa-prepared", Checked: opaSample},
		},
	}
	r := newReport(Machine{GOOS: "linux", GOARCH: "amd64", GoVersion: "go1.26.0", NumCPU: 2, GOMAXPROCS: 2}, 3, groups(sampleConfig), list, runs, traffic)
	r.Seeding = []Seeding{
		{Store: "traffic world (accounts load as the stream names them)", Accounts: 8_960, Memberships: 404_000, Seconds: 9.8},
		{Store: "memstore-1m", Memberships: 1_000_000, Seconds: 12.5},
	}
	return r
}

func TestReportMediansRatiosAndTargets(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	opa, _ := r.result("Decision/opa-prepared/allowed")
	if opa.NsPerOp != 25_000 || opa.AllocsPerOp != 186 || opa.Runs != 3 {
		t.Errorf("opa-prepared medians: %+v", opa)
	}
	if engine, _ := r.result("Traffic/engine"); engine.NsPerOp != 1_000 || engine.Metrics["hit-ratio"] != 0.95 {
		t.Errorf("Traffic/engine medians: %+v", engine)
	}
	if got, _ := r.result("AddUserToSpace/memstore-1m"); got.Ratio != 4.0/3 {
		t.Errorf("AddUserToSpace/memstore-1m ratio = %v, want 4/3 of the floor", got.Ratio)
	}
	if got, _ := r.result("TrafficParallel/engine/procs-2"); got.Ratio != 1.8 {
		t.Errorf("TrafficParallel/engine/procs-2 ratio = %v, want 1.8 times the throughput of procs-1", got.Ratio)
	}
	if got, _ := r.result("MemoryPerMembership/memstore"); got.NsPerOp != 0 || got.Ratio != 2.25 {
		t.Errorf("MemoryPerMembership/memstore: %+v, want no time and 2.25 times the floor's size", got)
	}
	if _, ok := r.result("AddUserToSpaceParallel/memstore-1m/procs-1"); ok {
		t.Error("a benchmark without runs counts as a result")
	}
	status := map[string]string{}
	for _, target := range r.Targets {
		status[target.Name] = target.Status
	}
	want := map[string]string{
		"Traffic: engine ÷ Cedar, time per decision":                                        "PASS",
		"Traffic: plain OPA ÷ engine, time per decision":                                    "PASS",
		"Traffic: engine cache hit ratio after the first 10,000 requests (10,000 accounts)": "PASS",
		"Traffic: engine, allocations per decision":                                         "PASS",
		"Traffic: engine with an audit sink, allocations per decision":                      "FAIL",
		"Traffic: engine with an audit sink ÷ engine, time per decision":                    "PASS",
		"Traffic: engine with the queued slog audit sink ÷ engine, time per decision":       "FAIL",
		"Traffic: memstore-1m ÷ bare go-memdb, time per add":                                "PASS",
		"Traffic: engine throughput, 2 CPUs ÷ 1 CPU":                                        "PASS",
		"Traffic: decisions that differ from the hand-written check":                        "PASS",
		"Best case (allowed): engine ÷ Cedar, time per decision":                            "FAIL",
		"Best case (denied): plain OPA ÷ engine, time per decision":                         "FAIL",
		"Best case (allowed): engine, allocations per decision":                             "FAIL",
		"Best case: memstore-1m ÷ bare go-memdb, time per update":                           "PASS",
		"Best case: memstore-1m ÷ memstore-10k, time per update":                            "PASS",
		"Best case: memstore-10k update throughput, 2 CPUs ÷ 1 CPU":                         "PASS",
		"Best case: memstore-1m update throughput, 2 CPUs ÷ 1 CPU":                          "SKIP",
		"Memory: memstore, bytes per space membership":                                      "PASS",
	}
	for name, w := range want {
		if status[name] != w {
			t.Errorf("target %q: %q, want %q", name, status[name], w)
		}
	}
}

// TestRender compares the table, the JSON and the chart of the sample
// report with testdata/*.golden; go test ./bench -run TestRender -update
// rewrites them.
func TestRender(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		golden string
		write  func(io.Writer, Report) error
	}{
		{"table.golden", writeTable},
		{"report.json.golden", writeJSON},
		{"chart.svg.golden", writeSVG},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := tt.write(&buf, sampleReport()); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tt.golden, buf.Bytes())
		})
	}
}

func TestJSONRoundTrips(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := writeJSON(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	var got Report
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(sampleReport(), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestSVGIsWellFormed checks the chart structurally: XML, one bar per
// result that ran, every name labelled.
func TestSVGIsWellFormed(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	var buf bytes.Buffer
	if err := writeSVG(&buf, r); err != nil {
		t.Fatal(err)
	}
	rects, texts := 0, map[string]bool{}
	dec := xml.NewDecoder(&buf)
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
			if tok.Name.Local == "rect" {
				rects++
			}
		case xml.CharData:
			if inText {
				texts[string(tok)] = true
			}
		case xml.EndElement:
			inText = false
		}
	}
	ran := 0
	for _, res := range r.Results {
		if res.Runs == 0 {
			continue
		}
		ran++
		if !texts[res.Name] {
			t.Errorf("no label %q", res.Name)
		}
	}
	if rects != ran+1 { // and the background
		t.Errorf("%d rects, want %d bars and a background", rects, ran)
	}
}

func TestSizes(t *testing.T) {
	t.Parallel()
	sizes, err := parseSizes("10k, 1m,250")
	if err != nil || !gocmp.Equal(sizes, []int{10_000, 1_000_000, 250}) {
		t.Errorf("parseSizes = %v, %v", sizes, err)
	}
	for _, bad := range []string{"", "k", "-1", "0", "1.5m", "10x"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) did not fail", bad)
		}
	}
	for n, want := range map[int]string{10_000: "10k", 1_000_000: "1m", 250: "250", 1500: "1500", 2_000_000: "2m"} {
		if got := sizeName(n); got != want {
			t.Errorf("sizeName(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{"-quick", "-count", "3", "-json", "-svg", "out.svg", "-accounts", "100"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !gocmp.Equal(cfg.sizes, []int{10_000}) || cfg.count != 3 || !cfg.json || cfg.svg != "out.svg" || cfg.memberships != memoryMemberships ||
		cfg.accounts != 100 || cfg.requests != defaultRequests || cfg.warmup != defaultWarmup {
		t.Errorf("parseFlags = %+v", cfg)
	}
	if cfg, err := parseFlags(nil, io.Discard); err != nil || cfg.svg != "bench-report.svg" || cfg.accounts != defaultAccounts {
		t.Errorf("parseFlags() = %+v, %v; want the chart drawn by default", cfg, err)
	}
	for _, bad := range [][]string{{"-count", "0"}, {"-sizes", "ten"}, {"extra"}, {"-nope"}, {"-accounts", "0"}, {"-benchtime", "fast"}, {"-benchtime", "0x"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) did not fail", bad)
		}
	}
}

func TestGoTestPattern(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"Decision/native/allowed":                     "^BenchmarkDecision$/^native$/^allowed$",
		"AddUserToSpaceParallel/memstore-10k/procs-2": "^BenchmarkAddUserToSpaceParallel$/^memstore-10k$",
	} {
		if got := goTestPattern(name); got != want {
			t.Errorf("goTestPattern(%q) = %q, want %q", name, got, want)
		}
	}
	if !strings.HasPrefix(goTestPattern("MemdbUpsertFloor/1m"), "^Benchmark") {
		t.Error("goTestPattern lost the Benchmark prefix")
	}
}
