package main

import "testing"

// The benchmarks of issue 4 under go test. Their bodies live in the
// package's other files, so that the command runs the same ones; see the
// package doc.

// storeSizes are the store sizes to benchmark: those of issue 4, without the
// 1m store under -short.
func storeSizes() []int {
	if testing.Short() {
		return issueSizes[:1]
	}
	return issueSizes
}

func BenchmarkDecision(b *testing.B) {
	for _, d := range deciders {
		b.Run(d.name, func(b *testing.B) {
			for _, c := range factCaseNames {
				b.Run(c, benchDecision(d, c))
			}
		})
	}
}

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
