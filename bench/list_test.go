package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The list benchmarks under go test, the same bodies as the command's (see
// listSuite), by the same names:
//
//	go test -run '^$' -bench 'ListSpaces' -benchtime 100x ./bench
//
// -short leaves out the 100k world; the pgstore ones need the database of
// SPACEAUTHZ_TEST_POSTGRES_DSN and skip without it.

// listBenchSizes are the list worlds to benchmark, without the 100k one
// under -short.
func listBenchSizes() []int {
	if testing.Short() {
		return listSizes[:1]
	}
	return listSizes
}

// BenchmarkListSpaces: ListSpaces/{memstore,pgstore}/{1k,100k}/{share}/{page,walk}.
func BenchmarkListSpaces(b *testing.B) {
	dsn := listPostgresDSN()
	if dsn == "" {
		b.Run("pgstore", func(b *testing.B) { pgtest.DSN(b) })
	} else {
		b.Cleanup(closePgListWorlds)
	}
	runListSuite(b, "ListSpaces/", dsn)
}

// BenchmarkListSpacesFloor: ListSpacesFloor/{1k,100k}/{share}, the first
// page's records read by key, no decision.
func BenchmarkListSpacesFloor(b *testing.B) {
	runListSuite(b, "ListSpacesFloor/", "")
}

func runListSuite(b *testing.B, prefix, dsn string) {
	for _, bm := range listSuite(listBenchSizes(), dsn) {
		if rest, ok := strings.CutPrefix(bm.name, prefix); ok {
			b.Run(rest, bm.run)
		}
	}
}

// TestListWorld checks the 1k world: each share's callers read exactly
// that share (callersOf), and the first-five members read the same spaces
// there as the 100k world's 1pct-of-1k callers are checked against.
func TestListWorld(t *testing.T) {
	t.Parallel()
	w, err := newListWorld(listSizes[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(w.spaces) != 1_000 || len(w.organizations) != 200 {
		t.Fatalf("%d spaces in %d organizations, want 1,000 in 200", len(w.spaces), len(w.organizations))
	}
	private := 0
	for _, sp := range w.spaces {
		if sp.IsPrivate {
			private++
		}
	}
	if private == 0 || private == len(w.spaces) {
		t.Errorf("%d of %d spaces are private, want a mix", private, len(w.spaces))
	}
	for _, share := range sharesOf(len(w.spaces)) {
		callers, err := w.callersOf(share)
		if err != nil {
			t.Error(err)
			continue
		}
		want := map[string]int{"0.1pct": 1, "1pct": 10, "10pct": 100, "100pct": 1000}[share.name]
		for i, c := range callers {
			if len(c.visible) != want {
				t.Errorf("%s: caller %d reads %d spaces, want %d", share.name, i, len(c.visible), want)
			}
		}
	}
	for c, caller := range w.callers[classFirstFiveMember] {
		if !slices.Equal(caller.visible, listSpaceIDsOfFirstFive(c)) {
			t.Errorf("first-five member %d reads other spaces than the 1pct-of-1k callers are held to", c)
		}
	}
	if _, err := newListWorld(1_500); err == nil {
		t.Error("a world of 1,500 spaces (not whole organizations of five) was built")
	}
}

// TestListBenchmarkNames: every list benchmark has a distinct name of the
// shape go test gives it, and every target of the list section names
// benchmarks that exist.
func TestListBenchmarkNames(t *testing.T) {
	t.Parallel()
	list := listSuite(listSizes, "postgres://somewhere")
	seen := map[string]bool{}
	runs := map[string][]testing.BenchmarkResult{}
	for _, bm := range list {
		if seen[bm.name] {
			t.Errorf("two benchmarks named %s", bm.name)
		}
		seen[bm.name] = true
		if !strings.HasPrefix(bm.name, "ListSpaces/") && !strings.HasPrefix(bm.name, "ListSpacesFloor/") {
			t.Errorf("%s is not under BenchmarkListSpaces or BenchmarkListSpacesFloor", bm.name)
		}
		if bm.baseline != "" && !slices.ContainsFunc(list, func(o benchmark) bool { return o.name == bm.baseline }) {
			t.Errorf("%s is compared with %s, which does not exist", bm.name, bm.baseline)
		}
		runs[bm.name] = []testing.BenchmarkResult{fakeRun(1_000, 10, 100, nil)}
	}
	for _, name := range []string{
		"ListSpaces/memstore/1k/0.1pct/page", "ListSpaces/pgstore/100k/100pct/walk",
		"ListSpaces/memstore/100k/1pct-of-1k/page", "ListSpaces/pgstore/100k/1pct-of-1k/page",
		"ListSpacesFloor/1k/10pct", "ListSpacesFloor/100k/1pct",
	} {
		if !seen[name] {
			t.Errorf("no benchmark %s", name)
		}
	}
	if len(list) != 9+2*2*(4+5) {
		t.Errorf("%d list benchmarks, want 9 floors and 9 pages and walks for each of 2 stores", len(list))
	}
	cfg := config{listSizes: listSizes, listPostgres: "postgres://somewhere"}
	r := newReport(Machine{}, 1, groups(cfg), list, runs, nil)
	for _, target := range r.Targets {
		if strings.HasPrefix(target.Name, "List") && target.Status == "SKIP" {
			t.Errorf("target %q names a benchmark that does not exist", target.Name)
		}
	}
	if n := len(listGoals()); n != 3 {
		t.Errorf("%d list targets, want 3", n)
	}
}

// TestListSpacesBenchmarks runs every benchmark of the 1k world once: the
// memstore lists what each caller can read (the check before timing), and
// each body runs and checks its pages. It changes the benchtime of package
// testing while it runs, so it does not run in parallel.
func TestListSpacesBenchmarks(t *testing.T) {
	defer restoreBenchtime()()
	if _, err := memstoreListService(listSizes[0]); err != nil {
		t.Fatal(err)
	}
	for _, bm := range listSuite(listSizes[:1], "") {
		res, err := measure(bm, "1x")
		if err != nil || res.N != 1 {
			t.Errorf("%s: %d iterations, %v; see why with go test -run '^$' -bench '%s' ./bench", bm.name, res.N, err, goTestPattern(bm.name))
			continue
		}
		if res.Extra["spaces/op"] == 0 {
			t.Errorf("%s listed no space", bm.name)
		}
	}
}

// BenchmarkListSpacesDecidedOneByOne:
// ListSpacesDecidedOneByOne/memstore/{size}/{share}/page, the first page of
// ListSpaces/memstore when a host rule that the engine cannot translate
// (regex.match, here hiding nothing) makes the filter inexact, so that every
// space the rest of the filter passes is decided by the policy: the cost of
// falling back, beside the ListSpaces figures of the same callers.
func BenchmarkListSpacesDecidedOneByOne(b *testing.B) {
	const rule = `package spaceauthz
violations contains {"code": "space_not_found", "rule": "no_control_names"} if {
	input.operation == "read"
	regex.match("^\\x00", input.space.name)
}`
	for _, n := range listBenchSizes() {
		get := sync.OnceValues(func() (*listService, error) {
			w, err := listWorldOf(n)
			if err != nil {
				return nil, err
			}
			store := memstore.New()
			if err := store.Import(context.Background(), w.data); err != nil {
				return nil, err
			}
			engine, err := policy.New(policy.WithModule("untranslated.rego", rule))
			if err != nil {
				return nil, err
			}
			if engine.ReadFilter().Exact {
				return nil, fmt.Errorf("the filter of %s is exact", rule)
			}
			svc, err := membership.NewService(store, engine)
			if err != nil {
				return nil, err
			}
			s := &listService{world: w, service: svc}
			return s, s.checkListing(context.Background())
		})
		for _, share := range sharesOf(n) {
			b.Run("memstore/"+sizeName(n)+"/"+share.name+"/page", benchListPage(get, share))
		}
	}
}
