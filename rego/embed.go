// Package rego holds the default policy of spaceauthz as Rego v1 source, its
// Rego unit tests, and the predefined-role permission table (data.json), all
// embedded so that package policy can load them without files on disk.
//
// The same folder is a plain OPA bundle root: `opa test rego/` runs the
// tests, and `go test ./rego` runs them through OPA's tester.
package rego

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

// Files holds every .rego file (policy and *_test.rego) and data.json.
//
//go:embed *.rego data.json
var Files embed.FS

// Module is one Rego source file.
type Module struct {
	// Name is the file's path, as in "rego/authority.rego".
	Name   string
	Source string
}

// Policy returns the default policy: its modules, without the tests, and
// its data document (data.json), freshly decoded for the caller to keep.
func Policy() ([]Module, map[string]any, error) {
	paths, err := fs.Glob(Files, "*.rego")
	if err != nil {
		return nil, nil, err
	}
	var modules []Module
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.rego") {
			continue
		}
		src, err := fs.ReadFile(Files, p)
		if err != nil {
			return nil, nil, err
		}
		modules = append(modules, Module{Name: "rego/" + p, Source: string(src)})
	}
	raw, err := fs.ReadFile(Files, "data.json")
	if err != nil {
		return nil, nil, err
	}
	var data map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, nil, fmt.Errorf("rego/data.json: %w", err)
	}
	return modules, data, nil
}
