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
	run  func(*testing.B)
	// procs is the GOMAXPROCS to run with; zero leaves it alone.
	procs int
	// baseline names the benchmark this one is compared with, and metric
	// what is compared ("ns/op" or a custom metric such as B/membership).
	baseline string
	metric   string
}

// issueSizes are the store sizes of issue 4.
var issueSizes = []int{10_000, 1_000_000}

// suite lists the benchmarks the command runs, baselines first in each
// group: decisions, then per store size the floor and the memstore, the
// parallel adds, and the memory per membership.
func suite(sizes []int, memberships int) []benchmark {
	var list []benchmark
	for _, c := range factCaseNames {
		for _, d := range deciders {
			list = append(list, benchmark{
				name:     "Decision/" + d.name + "/" + c,
				run:      benchDecision(d, c),
				baseline: "Decision/native/" + c,
			})
		}
	}
	for _, n := range sizes {
		floor := "MemdbUpsertFloor/" + sizeName(n)
		list = append(list,
			benchmark{name: floor, run: benchMemdbUpsertFloor(n), baseline: floor},
			benchmark{name: "AddUserToSpace/memstore-" + sizeName(n), run: benchAddUserToSpace(n), baseline: floor},
		)
	}
	for _, n := range sizes {
		name := "AddUserToSpaceParallel/memstore-" + sizeName(n)
		for _, procs := range []int{1, 2} {
			list = append(list, benchmark{
				name:     fmt.Sprintf("%s/procs-%d", name, procs),
				run:      benchAddUserToSpaceParallel(n),
				procs:    procs,
				baseline: name + "/procs-1",
			})
		}
	}
	list = append(list,
		benchmark{name: "MemoryPerMembership/memdb-floor", run: benchMemoryPerMembership(memberships, floorMemory),
			baseline: "MemoryPerMembership/memdb-floor", metric: "B/membership"},
		benchmark{name: "MemoryPerMembership/memstore", run: benchMemoryPerMembership(memberships, memstoreMemory),
			baseline: "MemoryPerMembership/memdb-floor", metric: "B/membership"},
	)
	return list
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
