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
)

// fakeRun is a benchmark result of n iterations taking ns each.
func fakeRun(ns float64, allocs, bytes uint64, extra map[string]float64) testing.BenchmarkResult {
	const n = 1000
	return testing.BenchmarkResult{
		N: n, T: time.Duration(ns * n), MemAllocs: allocs * n, MemBytes: bytes * n, Extra: extra,
	}
}

// sampleReport is a report over the suite with made-up numbers: the
// decision targets fail, the store targets pass, the 1m parallel add
// failed to run.
func sampleReport() Report {
	list := suite(issueSizes, memoryMemberships)
	runs := map[string][]testing.BenchmarkResult{}
	set := func(name string, rs ...testing.BenchmarkResult) { runs[name] = rs }
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
	set("AddUserToSpaceParallel/memstore-10k/procs-1", fakeRun(3_000, 50, 5000, nil))
	set("AddUserToSpaceParallel/memstore-10k/procs-2", fakeRun(2_500, 50, 5000, nil))
	set("MemoryPerMembership/memdb-floor", fakeRun(2e8, 0, 0, map[string]float64{"B/membership": 400}))
	set("MemoryPerMembership/memstore", fakeRun(9e8, 0, 0, map[string]float64{"B/membership": 900}))
	r := newReport(Machine{GOOS: "linux", GOARCH: "amd64", GoVersion: "go1.26.0", NumCPU: 2, GOMAXPROCS: 2}, 3, list, runs)
	r.Seeding = []Seeding{{Store: "memstore-1m", Memberships: 1_000_000, Seconds: 12.5}}
	return r
}

func TestReportMediansRatiosAndTargets(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	opa, _ := r.result("Decision/opa-prepared/allowed")
	if opa.NsPerOp != 25_000 || opa.AllocsPerOp != 186 || opa.Runs != 3 {
		t.Errorf("opa-prepared medians: %+v", opa)
	}
	if got, _ := r.result("AddUserToSpace/memstore-1m"); got.Ratio != 4.0/3 {
		t.Errorf("AddUserToSpace/memstore-1m ratio = %v, want 4/3 of the floor", got.Ratio)
	}
	if _, ok := r.result("AddUserToSpaceParallel/memstore-1m/procs-1"); ok {
		t.Error("a benchmark without runs counts as a result")
	}
	status := map[string]string{}
	for _, target := range r.Targets {
		status[target.Name] = target.Status
	}
	want := map[string]string{
		"Decision/engine / Decision/cedar (allowed), ns/op":                 "FAIL",
		"Decision/opa-prepared / Decision/engine (denied), ns/op":           "FAIL",
		"Decision/engine (allowed), allocs/op":                              "FAIL",
		"AddUserToSpace/memstore-1m / MemdbUpsertFloor/1m, ns/op":           "PASS",
		"AddUserToSpace/memstore-1m / AddUserToSpace/memstore-10k, ns/op":   "PASS",
		"MemoryPerMembership/memstore, B/membership":                        "PASS",
		"AddUserToSpaceParallel/memstore-10k, throughput procs-2 / procs-1": "PASS",
		"AddUserToSpaceParallel/memstore-1m, throughput procs-2 / procs-1":  "SKIP",
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
	cfg, err := parseFlags([]string{"-quick", "-count", "3", "-json", "-svg", "out.svg"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !gocmp.Equal(cfg.sizes, []int{10_000}) || cfg.count != 3 || !cfg.json || cfg.svg != "out.svg" || cfg.memberships != memoryMemberships {
		t.Errorf("parseFlags = %+v", cfg)
	}
	for _, bad := range [][]string{{"-count", "0"}, {"-sizes", "ten"}, {"extra"}, {"-nope"}} {
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
