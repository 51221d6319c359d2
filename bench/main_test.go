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
// iteration on small stores: every benchmark body runs and checks its
// result, and the outputs cover every benchmark and target. It changes
// the benchtime of package testing while it runs, so it does not run in
// parallel.
func TestRun(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "chart.svg")
	cfg := config{sizes: []int{100}, memberships: 300, count: 1, benchtime: "1x", svg: svg}
	var table bytes.Buffer
	if err := run(cfg, &table, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, bm := range suite(cfg.sizes, cfg.memberships) {
		if !strings.Contains(table.String(), bm.name+" ") {
			t.Errorf("the table has no line for %s:\n%s", bm.name, table.String())
		}
	}
	for _, g := range goals() {
		if !strings.Contains(table.String(), g.name) {
			t.Errorf("the table has no line for the target %q", g.name)
		}
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
	var r Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("-json wrote no report: %v", err)
	}
	if len(r.Results) != len(suite(cfg.sizes, cfg.memberships)) || len(r.Targets) != len(goals()) {
		t.Errorf("-json: %d results and %d targets", len(r.Results), len(r.Targets))
	}
	for _, res := range r.Results {
		if res.Runs != 1 {
			t.Errorf("%s ran %d times, want once", res.Name, res.Runs)
		}
	}
}
