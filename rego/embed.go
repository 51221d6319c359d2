// Package rego holds the default policy of spaceauthz as Rego v1 source, its
// Rego unit tests, and the predefined-role permission table (data.json), all
// embedded so that package policy can load them without files on disk.
//
// The same folder is a plain OPA bundle root: `opa test rego/` runs the
// tests, and `go test ./rego` runs them through OPA's tester.
package rego

import "embed"

// Files holds every .rego file (policy and *_test.rego) and data.json.
//
//go:embed *.rego data.json
var Files embed.FS
