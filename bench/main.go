// Command bench measures spaceauthz against its baselines, as issue 4 asks:
// one decision of the SPEC section 3 rules by the Rego engine beside a
// hand-written Go check, a plain prepared OPA query and cedar-go; one
// AddUserToSpace on a memstore of 10 thousand and 1 million memberships
// beside a bare go-memdb upsert; the same add from one and two goroutines;
// and the memory a membership takes. It prints a table with each result's
// ratio to its baseline and the targets of the issue, PASS or FAIL, judged
// on the same run.
//
// Usage:
//
//	go run ./bench [-quick] [-sizes 10k,1m] [-count 5] [-benchtime 1s] [-json] [-svg chart.svg]
//
// Progress goes to standard error, the table (or with -json the report) to
// standard output. Seeding the store of 1 million memberships takes a while;
// -quick leaves it out. The same benchmarks run under go test:
//
//	go test -run '^$' -bench . -benchmem ./bench
//
// where -short leaves out the 1m store and -cpu 1,2 runs the parallel add
// on one and two procs.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2)
	}
	if err := run(cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is what the flags ask for.
type config struct {
	sizes       []int
	memberships int
	count       int
	benchtime   string
	json        bool
	svg         string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "10k,1m", "store sizes (memberships) of the store benchmarks, comma-separated")
	quick := fs.Bool("quick", false, "leave out store sizes of 1m and more")
	fs.IntVar(&cfg.memberships, "memberships", memoryMemberships, "memberships stored by the memory benchmarks")
	fs.IntVar(&cfg.count, "count", 1, "runs of each benchmark; the report shows medians")
	fs.StringVar(&cfg.benchtime, "benchtime", "", "time (1s) or iterations (100x) per run, as go test -benchtime")
	fs.BoolVar(&cfg.json, "json", false, "write the report as JSON")
	fs.StringVar(&cfg.svg, "svg", "", "also draw the comparison as an SVG bar chart into this file")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments %q", fs.Args())
		fmt.Fprintln(stderr, err)
		return config{}, err
	}
	var err error
	if cfg.sizes, err = parseSizes(*sizes); err != nil {
		fmt.Fprintln(stderr, err)
		return config{}, err
	}
	if *quick {
		cfg.sizes = slices.DeleteFunc(cfg.sizes, func(n int) bool { return n >= 1_000_000 })
	}
	if cfg.count < 1 || cfg.memberships < 1 {
		err := errors.New("-count and -memberships must be positive")
		fmt.Fprintln(stderr, err)
		return config{}, err
	}
	return cfg, nil
}

// run measures every benchmark of the suite cfg.count times, in rounds, and
// writes the report to out, progress to progress.
func run(cfg config, out, progress io.Writer) error {
	machine := thisMachine()
	restore, err := setBenchtime(cfg.benchtime)
	if err != nil {
		return err
	}
	defer restore()
	seeding, err := seedStores(cfg.sizes, progress)
	if err != nil {
		return err
	}
	list := suite(cfg.sizes, cfg.memberships)
	runs := map[string][]testing.BenchmarkResult{}
	for round := 1; round <= cfg.count; round++ {
		for _, bm := range list {
			fmt.Fprintf(progress, "[%d/%d] %-48s ", round, cfg.count, bm.name)
			res := measure(bm)
			if res.N == 0 {
				fmt.Fprintln(progress, "FAILED")
				return fmt.Errorf("benchmark %s failed; see why with go test -run '^$' -bench '%s' ./bench", bm.name, goTestPattern(bm.name))
			}
			fmt.Fprintln(progress, res.String(), res.MemString())
			runs[bm.name] = append(runs[bm.name], res)
		}
	}
	report := newReport(machine, cfg.count, list, runs)
	report.Seeding = seeding
	if cfg.json {
		err = writeJSON(out, report)
	} else {
		err = writeTable(out, report)
	}
	if err != nil || cfg.svg == "" {
		return err
	}
	f, err := os.Create(cfg.svg)
	if err != nil {
		return err
	}
	if err := writeSVG(f, report); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// setBenchtime sets how long testing.Benchmark runs, through the flag of
// package testing that go test -benchtime sets, and returns a function
// that sets it back.
func setBenchtime(benchtime string) (restore func(), err error) {
	if benchtime == "" {
		return func() {}, nil
	}
	testing.Init()
	old := flag.Lookup("test.benchtime").Value.String()
	if err := flag.Set("test.benchtime", benchtime); err != nil {
		return nil, fmt.Errorf("-benchtime: %w", err)
	}
	return func() { flag.Set("test.benchtime", old) }, nil
}

// seedStores fills the stores of every size before anything is timed, and
// says how long each took.
func seedStores(sizes []int, progress io.Writer) ([]Seeding, error) {
	var seeding []Seeding
	for _, n := range sizes {
		fmt.Fprintf(progress, "seeding memstore-%s... ", sizeName(n))
		s, err := memstoreWorld(n)
		if err != nil {
			return nil, fmt.Errorf("seeding memstore-%s: %w", sizeName(n), err)
		}
		fmt.Fprintf(progress, "%v; ", s.seeding.Round(time.Millisecond))
		f, err := floorWorld(n)
		if err != nil {
			return nil, fmt.Errorf("building the floor of %s: %w", sizeName(n), err)
		}
		fmt.Fprintf(progress, "floor %v\n", f.seeding.Round(time.Millisecond))
		seeding = append(seeding,
			Seeding{Store: "memstore-" + sizeName(n), Memberships: n, Seconds: s.seeding.Seconds()},
			Seeding{Store: "memdb-floor-" + sizeName(n), Memberships: n, Seconds: f.seeding.Seconds()},
		)
	}
	return seeding, nil
}

// measure runs one benchmark with its GOMAXPROCS.
func measure(bm benchmark) testing.BenchmarkResult {
	if bm.procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(bm.procs))
	}
	return testing.Benchmark(bm.run)
}

// goTestPattern turns a benchmark name into a go test -bench pattern.
func goTestPattern(name string) string {
	parts := strings.Split("Benchmark"+name, "/")
	if strings.HasPrefix(parts[len(parts)-1], "procs-") {
		parts = parts[:len(parts)-1] // go test -cpu sets the procs
	}
	for i, p := range parts {
		parts[i] = "^" + p + "$"
	}
	return strings.Join(parts, "/")
}
