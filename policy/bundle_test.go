package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/spaceauthz/spaceauthz/internal/bundletest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

// archivedModule refuses adds to the spaces listed in data.archived.spaces.
const archivedModule = `package spaceauthz

violations contains {"code": "space_archived", "rule": "space_archived", "status": 409, "detail": "the space is archived"} if {
	input.operation == "add"
	input.space.id in data.archived.spaces
}
`

// archivedTest is the module's own test; archivedModule passes it.
const archivedTest = `package spaceauthz_test

import data.spaceauthz

test_archived_space_refuses_adds if {
	some v in spaceauthz.violations with input as {"operation": "add", "space": {"id": "archived-space"}}
		with data.archived.spaces as ["archived-space"]
	v.code == "space_archived"
}
`

// archivedBundle is the files of a bundle directory holding archivedModule,
// its test, a manifest of the given revision, and the archived spaces.
func archivedBundle(t *testing.T, revision string, archived ...membership.ID) map[string]string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"spaces": archived})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		".manifest":                   `{"revision": "` + revision + `"}`,
		"archived/archived.rego":      archivedModule,
		"archived/archived_test.rego": archivedTest,
		"archived/data.json":          string(data),
	}
}

// writeDir writes files (by slash-separated path) under a new directory.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readBundle(t *testing.T, path string, opts ...policy.BundleOption) *policy.Bundle {
	t.Helper()
	b, err := policy.ReadBundle(path, opts...)
	if err != nil {
		t.Fatalf("ReadBundle(%s): %v", path, err)
	}
	return b
}

func TestBundleExtendsDefaultPolicy(t *testing.T) {
	t.Parallel()
	archived := allowedFacts()
	b := readBundle(t, writeDir(t, archivedBundle(t, "archive-1", archived.Query.SpaceID)))
	if b.Revision != "archive-1" {
		t.Errorf("bundle revision %q, want archive-1", b.Revision)
	}
	e := newEngine(t, policy.WithBundle(b))
	if e.Revision() != "archive-1" {
		t.Errorf("engine revision %q, want the bundle's", e.Revision())
	}
	d, err := e.Decide(context.Background(), archived)
	want := membership.Violation{Code: "space_archived", Rule: "space_archived", Status: 409, Detail: "the space is archived"}
	if err != nil || d.Allow || len(d.Violations) != 1 || d.Violations[0] != want {
		t.Errorf("add to an archived space = %+v, %v; want the bundle's violation", d, err)
	}
	// The default policy is still there.
	noTarget := allowedFacts()
	noTarget.Target = nil
	d, err = e.Decide(context.Background(), noTarget)
	if err != nil || !hasRule(d, "user_exists") {
		t.Errorf("the default policy's rules are gone: %+v, %v", d, err)
	}
	// Another space is not archived.
	other := readBundle(t, writeDir(t, archivedBundle(t, "archive-2", id("Space:99"))))
	if err := e.Reload(policy.WithBundle(other)); err != nil {
		t.Fatal(err)
	}
	if d, err := e.Decide(context.Background(), allowedFacts()); err != nil || !d.Allow {
		t.Errorf("after the reload: %+v, %v; want an allow", d, err)
	}
	if e.Revision() != "archive-2" {
		t.Errorf("revision after the reload %q, want archive-2", e.Revision())
	}
}

func hasRule(d membership.Decision, rule string) bool {
	for _, v := range d.Violations {
		if v.Rule == rule {
			return true
		}
	}
	return false
}

func TestBundleReplacesDefaultPolicy(t *testing.T) {
	t.Parallel()
	b := readBundle(t, writeDir(t, map[string]string{
		"frozen/freeze.rego": denyAll,
	}))
	if b.Revision != "" {
		t.Errorf("revision of a bundle without a manifest: %q, want none", b.Revision)
	}
	e := newEngine(t, policy.WithoutDefaultPolicy(), policy.WithBundle(b))
	if d, _ := e.Decide(context.Background(), allowedFacts()); d.Allow || d.Violations[0].Code != "frozen" {
		t.Errorf("Decide = %+v; want the bundle's deny alone", d)
	}
	if !strings.HasPrefix(e.Revision(), "sha256:") {
		t.Errorf("revision %q: without a manifest revision, want a digest", e.Revision())
	}
}

// TestBundleRefused: a bundle whose own tests fail, or whose module does not
// compile, is refused with an error naming the file and the line, and a
// Reload refused so keeps the policy in force.
func TestBundleRefused(t *testing.T) {
	t.Parallel()
	failing := archivedBundle(t, "failing")
	failing["archived/archived_test.rego"] = strings.Replace(archivedTest, `v.code == "space_archived"`, `v.code == "space_closed"`, 1)
	broken := archivedBundle(t, "broken")
	broken["archived/archived.rego"] = strings.Replace(archivedModule, "data.archived.spaces", "archived_spaces", 1)
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  error
		where string
	}{
		{"failing test", failing, policy.ErrPolicyTestFailed, "archived_test.rego:5"},
		{"undefined reference", broken, policy.ErrInvalidPolicy, "archived.rego:5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeDir(t, tc.files)
			b := readBundle(t, dir)
			_, err := policy.New(policy.WithBundle(b))
			if !errors.Is(err, tc.want) || !errors.Is(err, policy.ErrInvalidPolicy) {
				t.Fatalf("New: %v, want %v", err, tc.want)
			}
			if where := filepath.Join(dir, "archived", tc.where); !strings.Contains(err.Error(), where) {
				t.Errorf("error %q does not name %s", err, where)
			}
			e := newEngine(t)
			before := e.Revision()
			if err := e.Reload(policy.WithBundle(b)); !errors.Is(err, tc.want) {
				t.Errorf("Reload: %v, want %v", err, tc.want)
			}
			if e.Revision() != before {
				t.Errorf("a refused reload changed the revision to %s", e.Revision())
			}
			if d, err := e.Decide(context.Background(), allowedFacts()); err != nil || !d.Allow {
				t.Errorf("after a refused reload: %+v, %v", d, err)
			}
		})
	}
}

func TestReadBundleRefusesWhatIsNoBundle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notTar := filepath.Join(dir, "policy.rego")
	if err := os.WriteFile(notTar, []byte(archivedModule), 0o644); err != nil {
		t.Fatal(err)
	}
	badTar := filepath.Join(dir, "policy.tar.gz")
	if err := os.WriteFile(badTar, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	unparsable := writeDir(t, map[string]string{"p/p.rego": "package spaceauthz\n\nallow if {"})
	for _, path := range []string{filepath.Join(dir, "missing"), notTar, badTar, unparsable} {
		if _, err := policy.ReadBundle(path); !errors.Is(err, policy.ErrInvalidPolicy) || !strings.Contains(err.Error(), path) {
			t.Errorf("ReadBundle(%s) = %v, want ErrInvalidPolicy naming the path", path, err)
		}
	}
}

// signedTarball writes the archived-spaces bundle as a .tar.gz signed with
// key (unsigned when key is nil); tamper, if set, changes the bundle after
// it is signed.
func signedTarball(t *testing.T, key *bundletest.Key, tamper func(*bundle.Bundle)) string {
	t.Helper()
	b := bundle.Bundle{
		Manifest: bundle.Manifest{Revision: "signed-1"},
		Data:     map[string]any{"archived": map[string]any{"spaces": []any{"archived-space"}}},
		Modules: []bundle.ModuleFile{
			{URL: "/archived/archived.rego", Path: "/archived/archived.rego", Raw: []byte(archivedModule)},
			{URL: "/archived/archived_test.rego", Path: "/archived/archived_test.rego", Raw: []byte(archivedTest)},
		},
	}
	b.Manifest.Init()
	path := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if err := os.WriteFile(path, bundletest.Tarball(t, b, key, tamper), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSignedBundle(t *testing.T) {
	t.Parallel()
	rsaSigner, ecdsaSigner, stranger := bundletest.RSAKey(t), bundletest.ECDSAKey(t), bundletest.RSAKey(t)
	for _, key := range []bundletest.Key{rsaSigner, ecdsaSigner} {
		t.Run(key.Alg, func(t *testing.T) {
			t.Parallel()
			b := readBundle(t, signedTarball(t, &key, nil), policy.WithVerificationKey(key.PublicPEM))
			e := newEngine(t, policy.WithBundle(b))
			if e.Revision() != "signed-1" {
				t.Errorf("revision %q, want signed-1", e.Revision())
			}
		})
	}
	for _, tc := range []struct {
		name string
		path string
	}{
		{"a module changed after signing", signedTarball(t, &rsaSigner, func(b *bundle.Bundle) {
			b.Modules[0].Raw = []byte(strings.Replace(archivedModule, `input.operation == "add"`, `input.operation == "list"`, 1))
		})},
		{"data changed after signing", signedTarball(t, &rsaSigner, func(b *bundle.Bundle) {
			b.Data = map[string]any{"archived": map[string]any{"spaces": []any{}}}
		})},
		{"a module added after signing", signedTarball(t, &rsaSigner, func(b *bundle.Bundle) {
			b.Modules = append(b.Modules, bundle.ModuleFile{URL: "/extra.rego", Path: "/extra.rego", Raw: []byte(denyAll)})
		})},
		{"signed by another key", signedTarball(t, &stranger, nil)},
		{"not signed", signedTarball(t, nil, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := policy.ReadBundle(tc.path, policy.WithVerificationKey(rsaSigner.PublicPEM))
			if !errors.Is(err, policy.ErrBundleSignature) || !errors.Is(err, policy.ErrInvalidPolicy) {
				t.Errorf("ReadBundle = %v, want ErrBundleSignature", err)
			}
		})
	}
	if _, err := policy.ReadBundle(signedTarball(t, nil, nil), policy.WithVerificationKey([]byte("not a key"))); !errors.Is(err, policy.ErrInvalidPolicy) || errors.Is(err, policy.ErrBundleSignature) {
		t.Errorf("ReadBundle with a key that is no key = %v, want ErrInvalidPolicy alone", err)
	}
}
