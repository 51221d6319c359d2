// Package spacelist holds only a test: the differential test that holds
// Service.ListSpaces, on every store and under host rules, equal to
// deciding GetSpace space by space.
package spacelist
