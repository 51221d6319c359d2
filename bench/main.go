// Command bench measures spaceauthz against its baselines and prints each
// result beside its baseline and the project's targets, PASS or FAIL,
// judged on ratios within the same run so that the machine's speed cancels
// out.
//
// Traffic comes first: a seeded stream of add requests across many
// accounts (10,000 by default), each decided once, by the Rego engine
// beside a hand-written Go check, a plain prepared OPA query and cedar-go;
// the engine's cache hit ratio; AddUserToSpace taking the stream on stores
// of 10 thousand and 1 million space memberships beside bare go-memdb; the
// engine on one and two goroutines. Before anything is timed, every
// decider is checked against the hand-written check on the stream. Then
// the best case, one request repeated: the same deciders, the same add, and
// the memory a membership takes. Last, lists: ListSpaces in accounts of
// 1,000 and 100,000 spaces for callers who read a thousandth to all of
// them, beside the same first page's records read by key, on memstore and,
// when SPACEAUTHZ_TEST_POSTGRES_DSN names a database, pgstore; before
// anything is timed, every caller's listing is checked against what they
// can read.
//
// Usage:
//
//	go run ./bench [-quick] [-accounts 10000] [-requests 200000] [-sizes 10k,1m]
//	               [-count 5] [-benchtime 1s] [-json] [-svg bench-report.svg] [-stream]
//
// Progress goes to standard error, the table (or with -json the report) to
// standard output, and the chart to bench-report.svg unless -svg says
// otherwise (-svg "" draws none). -stream only builds and checks the
// stream, to see its shape and hit ratio for another number of accounts.
//
// The traffic benchmarks run a fixed number of iterations, one request
// each: the stream length (-requests) for the fast deciders and the
// parallel engine, a fortieth of it for the deciders that evaluate Rego
// every time, a tenth for the adds; -benchtime Nx can only lower these.
// The memory benchmarks run once. -benchtime sets the rest.
//
// Seeding the stores of 1 million memberships takes a minute or two and
// about 10 GB of memory; -quick leaves them out, and keeps the whole run to
// about two minutes on two cores. The same benchmarks run under go test:
//
//	go test -run '^$' -bench . -benchtime 20000x -benchmem ./bench
//
// where -short leaves out the 1m stores, -cpu 1,2 runs the parallel ones on
// one and two procs, and -accounts N sizes the traffic world.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
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
	// accounts sizes the world of the traffic benchmarks, requests the
	// stream the command checks, and warmup the requests its hit ratio
	// leaves out.
	accounts  int
	requests  int
	warmup    int
	count     int
	benchtime string
	json      bool
	svg       string
	// streamOnly builds and checks the stream, and times nothing.
	streamOnly bool
	// listSizes are the worlds of the list benchmarks, in spaces (none:
	// no list section), and listPostgres the database of their pgstore
	// (empty: memstore only).
	listSizes    []int
	listPostgres string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{warmup: defaultWarmup}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "10k,1m", "store sizes (space memberships) of the store benchmarks, comma-separated")
	quick := fs.Bool("quick", false, "leave out store sizes of 1m and more")
	fs.IntVar(&cfg.accounts, "accounts", defaultAccounts, "accounts in the world of the traffic benchmarks")
	fs.IntVar(&cfg.requests, "requests", defaultRequests, "length of the request stream that is checked and measured")
	fs.IntVar(&cfg.memberships, "memberships", memoryMemberships, "memberships stored by the memory benchmarks")
	fs.IntVar(&cfg.count, "count", 1, "runs of each benchmark; the report shows medians")
	fs.StringVar(&cfg.benchtime, "benchtime", "", "time (1s) or iterations (100x) per run, as go test -benchtime; it only lowers the fixed iterations of traffic benchmarks")
	fs.BoolVar(&cfg.json, "json", false, "write the report as JSON")
	fs.StringVar(&cfg.svg, "svg", "bench-report.svg", "draw the comparison as an SVG bar chart into this file; empty for none")
	fs.BoolVar(&cfg.streamOnly, "stream", false, "only build the stream and check it: its shape, the deciders' agreement, the engine's hit ratio")
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
	cfg.listSizes, cfg.listPostgres = listSizes, listPostgresDSN()
	if cfg.count < 1 || cfg.memberships < 1 || cfg.accounts < 1 || cfg.requests < 1 {
		err := errors.New("-count, -memberships, -accounts and -requests must be positive")
		fmt.Fprintln(stderr, err)
		return config{}, err
	}
	if _, err := benchtimeFor(benchmark{iterations: 1}, cfg.benchtime); err != nil {
		fmt.Fprintln(stderr, err)
		return config{}, err
	}
	return cfg, nil
}

// run builds the stream and checks it, then measures every benchmark of
// the suite cfg.count times, in rounds, and writes the report to out,
// progress to progress.
func run(cfg config, out, progress io.Writer) error {
	machine := thisMachine()
	defer restoreBenchtime()()
	defer closePgListWorlds()
	seeding, err := seedStores(cfg, progress)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "drawing %s requests across %s accounts and checking them against the hand-written check... ", count(cfg.requests), count(cfg.accounts))
	start := time.Now()
	check, err := checkTraffic(cfg.accounts, cfg.requests, cfg.warmup, opaSample)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "%v\n", time.Since(start).Round(time.Millisecond))
	if s, err := trafficStreamOver(cfg.accounts); err == nil {
		held := s.holding()
		seeding = append([]Seeding{{Store: "traffic world (accounts load as the stream names them)",
			Accounts: held.accounts, Memberships: held.memberships, Seconds: held.took.Seconds()}}, seeding...)
	}

	var list []benchmark
	if !cfg.streamOnly {
		list = suite(cfg)
	}
	runs := map[string][]testing.BenchmarkResult{}
	for round := 1; round <= cfg.count; round++ {
		for _, bm := range list {
			fmt.Fprintf(progress, "[%d/%d] %-48s ", round, cfg.count, bm.name)
			res, err := measure(bm, cfg.benchtime)
			if err != nil {
				return err
			}
			if res.N == 0 {
				fmt.Fprintln(progress, "FAILED")
				return fmt.Errorf("benchmark %s failed; see why with go test -run '^$' -bench '%s' ./bench", bm.name, goTestPattern(bm.name))
			}
			fmt.Fprintln(progress, res.String(), res.MemString())
			runs[bm.name] = append(runs[bm.name], res)
		}
	}
	report := newReport(machine, cfg.count, groups(cfg), list, runs, &check)
	report.Seeding = seeding
	if cfg.streamOnly {
		// Only the targets of the stream itself can be judged.
		report.Targets = slices.DeleteFunc(report.Targets, func(t Target) bool { return t.Status == "SKIP" })
	}
	if cfg.json {
		err = writeJSON(out, report)
	} else {
		err = writeTable(out, report)
	}
	if err != nil || cfg.svg == "" {
		return err
	}
	if err := writeSVGFile(cfg.svg, report); err != nil {
		return err
	}
	where, err := filepath.Abs(cfg.svg)
	if err != nil {
		where = cfg.svg
	}
	if !cfg.json {
		fmt.Fprintf(out, "\nThe same as a chart: %s\n", where)
	}
	fmt.Fprintf(progress, "chart written to %s\n", where)
	return nil
}

func writeSVGFile(path string, r Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeSVG(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// benchtimeFor returns the -test.benchtime of one benchmark: the fixed
// iterations of a benchmark that has them, lowered to what -benchtime asks
// if it asks for fewer, and otherwise -benchtime itself.
func benchtimeFor(bm benchmark, benchtime string) (string, error) {
	asked, isCount := strings.CutSuffix(benchtime, "x")
	n, err := strconv.Atoi(asked)
	if isCount && (err != nil || n < 1) {
		return "", fmt.Errorf("-benchtime %q: want a duration such as 1s or a count such as 100x", benchtime)
	}
	if !isCount && benchtime != "" {
		if _, err := time.ParseDuration(benchtime); err != nil {
			return "", fmt.Errorf("-benchtime %q: want a duration such as 1s or a count such as 100x", benchtime)
		}
	}
	switch {
	case bm.iterations > 0 && isCount:
		return strconv.Itoa(min(n, bm.iterations)) + "x", nil
	case bm.iterations > 0:
		return strconv.Itoa(bm.iterations) + "x", nil
	case benchtime == "":
		return "1s", nil
	}
	return benchtime, nil
}

// restoreBenchtime returns a function that sets the benchtime of package
// testing, which measure changes for every benchmark, back to what it was.
func restoreBenchtime() func() {
	testing.Init()
	old := flag.Lookup("test.benchtime").Value.String()
	return func() { flag.Set("test.benchtime", old) }
}

// seedStores fills the stores of every benchmark before anything is timed,
// and says how long each took.
func seedStores(cfg config, progress io.Writer) ([]Seeding, error) {
	var seeding []Seeding
	if cfg.streamOnly {
		return nil, nil
	}
	for _, n := range cfg.sizes {
		fmt.Fprintf(progress, "seeding the traffic stores of %s... ", sizeName(n))
		l, err := trafficServiceHolding(n)
		if err != nil {
			return nil, fmt.Errorf("seeding traffic memstore-%s: %w", sizeName(n), err)
		}
		f, err := trafficFloorHolding(n)
		if err != nil {
			return nil, fmt.Errorf("building the traffic floor of %s: %w", sizeName(n), err)
		}
		fmt.Fprintf(progress, "memstore %v, floor %v\n", l.seeding.Round(time.Millisecond), f.seeding.Round(time.Millisecond))
		accounts := len(l.stream.world.accounts)
		seeding = append(seeding,
			Seeding{Store: "traffic memstore-" + sizeName(n), Accounts: accounts, Memberships: l.memberships, Seconds: l.seeding.Seconds()},
			Seeding{Store: "traffic floor-" + sizeName(n), Accounts: accounts, Memberships: f.memberships, Seconds: f.seeding.Seconds()},
		)
	}
	for _, n := range cfg.sizes {
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
	lists, err := seedListWorlds(cfg, progress)
	return append(seeding, lists...), err
}

// measure runs one benchmark with its GOMAXPROCS and benchtime.
func measure(bm benchmark, benchtime string) (testing.BenchmarkResult, error) {
	bt, err := benchtimeFor(bm, benchtime)
	if err != nil {
		return testing.BenchmarkResult{}, err
	}
	if err := flag.Set("test.benchtime", bt); err != nil {
		return testing.BenchmarkResult{}, fmt.Errorf("-benchtime: %w", err)
	}
	if bm.procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(bm.procs))
	}
	return testing.Benchmark(bm.run), nil
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
