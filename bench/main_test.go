package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun runs the whole command once, every benchmark for a single
// iteration on small stores and a short stream: every benchmark body runs
// and checks its result, and the outputs cover every benchmark and target.
// It changes the benchtime of package testing while it runs, so it does
// not run in parallel.
func TestRun(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "chart.svg")
	cfg := config{sizes: []int{100}, memberships: 300, accounts: 20, requests: 400, warmup: 100, count: 1, benchtime: "1x", svg: svg}
	var table bytes.Buffer
	if err := run(cfg, &table, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, bm := range suite(cfg) {
		if !strings.Contains(table.String(), bm.name+" ") {
			t.Errorf("the table has no line for %s:\n%s", bm.name, table.String())
		}
	}
	var r Report
	for _, g := range goals(Report{Traffic: &TrafficCheck{Accounts: cfg.accounts, Warmup: cfg.warmup}}) {
		if !strings.Contains(table.String(), g.name) {
			t.Errorf("the table has no line for the target %q:\n%s", g.name, table.String())
		}
	}
	for _, bad := range []string{"issue", "SPEC"} {
		if strings.Contains(table.String(), bad) {
			t.Errorf("the table mentions %q, which a reader of this repository cannot look up", bad)
		}
	}
	if !strings.Contains(table.String(), svg) {
		t.Errorf("the table does not say where the chart is")
	}
	if chart, err := os.ReadFile(svg); err != nil || !bytes.HasPrefix(chart, []byte("<svg")) {
		t.Errorf("no chart in %s: %v", svg, err)
	}

	cfg.json, cfg.svg = true, ""
	var out bytes.Buffer
	if err := run(cfg, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := flag.Lookup("test.benchtime").Value.String(); got == "1x" {
		t.Errorf("run left the benchtime at %s", got)
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("-json wrote no report: %v", err)
	}
	if len(r.Results) != len(suite(cfg)) || len(r.Targets) != len(goals(r)) || r.Traffic == nil {
		t.Errorf("-json: %d results, %d targets, traffic %v", len(r.Results), len(r.Targets), r.Traffic)
	}
	for _, res := range r.Results {
		if res.Runs != 1 {
			t.Errorf("%s ran %d times, want once", res.Name, res.Runs)
		}
	}
}

// TestBenchtimeFor: no flag turns a benchmark with fixed iterations into a
// runaway, and the others take -benchtime as go test does.
func TestBenchtimeFor(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		iterations int
		benchtime  string
		want       string
	}{
		{0, "", "1s"},
		{0, "2s", "2s"},
		{0, "500x", "500x"},
		{20_000, "", "20000x"},
		{20_000, "10s", "20000x"},
		{20_000, "2000x", "2000x"},
		{20_000, "90000x", "20000x"},
		{1, "1000x", "1x"},
	} {
		got, err := benchtimeFor(benchmark{iterations: tt.iterations}, tt.benchtime)
		if err != nil || got != tt.want {
			t.Errorf("benchtimeFor(%d iterations, %q) = %q, %v; want %q", tt.iterations, tt.benchtime, got, err, tt.want)
		}
	}
}
