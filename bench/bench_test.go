package main

import (
	"flag"
	"testing"
)

// The benchmarks under go test. Their bodies live in the package's other
// files, so that the command runs the same ones; see the package doc. The
// traffic benchmarks gather one request per iteration with the timer
// stopped, so give them a count: -benchtime 20000x.

var accountsFlag = flag.Int("accounts", defaultAccounts, "accounts in the world of the traffic benchmarks")

// storeSizes are the store sizes to benchmark, without the 1m store under
// -short.
func storeSizes() []int {
	if testing.Short() {
		return defaultSizes[:1]
	}
	return defaultSizes
}

func BenchmarkTraffic(b *testing.B) {
	for _, d := range trafficDeciders {
		b.Run(d.name, benchTraffic(*accountsFlag, d))
	}
}

// BenchmarkTrafficParallel compares throughput under -cpu 1,2.
func BenchmarkTrafficParallel(b *testing.B) {
	b.Run("engine", benchTrafficParallel(*accountsFlag))
}

func BenchmarkTrafficAdd(b *testing.B) {
	for _, n := range storeSizes() {
		b.Run("memstore-"+sizeName(n), benchTrafficAdd(n))
	}
}

func BenchmarkTrafficFloor(b *testing.B) {
	for _, n := range storeSizes() {
		b.Run(sizeName(n), benchTrafficFloor(n))
	}
}

// BenchmarkHiddenExistence: a caller who may not read the space (or see the
// organization) learns nothing from the time a 404 takes. Compare
// p50-present-ns with p50-absent-ns (p50-diff-ns is their difference):
//
//	go test -run '^$' -bench HiddenExistence -benchtime 20000x ./bench
func BenchmarkHiddenExistence(b *testing.B) {
	for _, p := range existenceProbes {
		b.Run(p.name, benchExistence(p))
	}
}

// BenchmarkDecision is the best case: one request repeated.
func BenchmarkDecision(b *testing.B) {
	for _, d := range deciders {
		b.Run(d.name, func(b *testing.B) {
			for _, c := range factCaseNames {
				b.Run(c, benchDecision(d, c))
			}
		})
	}
}

// BenchmarkAddUserToSpace is the best case: one membership updated again
// and again.
func BenchmarkAddUserToSpace(b *testing.B) {
	for _, n := range storeSizes() {
		b.Run("memstore-"+sizeName(n), benchAddUserToSpace(n))
	}
	b.Run("pgstore", benchAddUserToSpacePgstore)
}

// BenchmarkAddUserToSpaceParallel compares throughput under -cpu 1,2.
func BenchmarkAddUserToSpaceParallel(b *testing.B) {
	for _, n := range storeSizes() {
		b.Run("memstore-"+sizeName(n), benchAddUserToSpaceParallel(n))
	}
}

func BenchmarkMemdbUpsertFloor(b *testing.B) {
	for _, n := range storeSizes() {
		b.Run(sizeName(n), benchMemdbUpsertFloor(n))
	}
}

func BenchmarkMemoryPerMembership(b *testing.B) {
	b.Run("memstore", benchMemoryPerMembership(memoryMemberships, memstoreMemory))
	b.Run("memdb-floor", benchMemoryPerMembership(memoryMemberships, floorMemory))
}
