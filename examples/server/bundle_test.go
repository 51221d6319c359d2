package main

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/spaceauthz/spaceauthz/internal/bundletest"
	"github.com/spaceauthz/spaceauthz/policy"
)

// exampleBundle is the bundle of the repository that adds the archived
// space rule. The tests copy it, so that they run the rule and the Rego
// tests it ships.
const exampleBundle = "../archived-spaces"

// archivedBundle copies the example bundle into a directory of its own,
// with the given manifest revision and archived spaces, and returns the
// directory.
func archivedBundle(t *testing.T, revision string, archived ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	if err := os.CopyFS(dir, os.DirFS(exampleBundle)); err != nil {
		t.Fatal(err)
	}
	setArchived(t, dir, revision, archived...)
	return dir
}

// setArchived rewrites the manifest revision and the archived spaces of the
// bundle in dir, the data first.
func setArchived(t *testing.T, dir, revision string, archived ...string) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"spaces": append([]string{}, archived...)})
	if err != nil {
		t.Fatal(err)
	}
	replaceFile(t, filepath.Join(dir, "archived", "data.json"), data)
	manifestPath := filepath.Join(dir, ".manifest")
	raw, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var manifest map[string]any
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	manifest["revision"] = revision
	if raw, err = json.Marshal(manifest); err != nil {
		t.Fatal(err)
	}
	replaceFile(t, manifestPath, raw)
}

// replaceFile writes content to a temporary file beside path and renames it
// into place, as careful tools do, so that a reader sees the old file or
// the new one, never half of one.
func replaceFile(t *testing.T, path string, content []byte) {
	t.Helper()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmp.Write(content)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		t.Fatal(err)
	}
}

// editFile replaces old with new in the file at path, and fails unless old
// is there.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(old)) {
		t.Fatalf("%s does not hold %q", path, old)
	}
	replaceFile(t, path, bytes.Replace(raw, []byte(old), []byte(new), 1))
}

// signingKey is an RSA key pair for signed bundles, and the public key as a
// PEM file for -policy-pubkey.
type signingKey struct {
	bundletest.Key
	publicKeyFile string
}

// newSigningKey generates an RSA key and writes its public half to a PEM
// file.
func newSigningKey(t *testing.T) signingKey {
	t.Helper()
	key := bundletest.RSAKey(t)
	file := filepath.Join(t.TempDir(), "bundle-signing.pem")
	if err := os.WriteFile(file, key.PublicPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return signingKey{Key: key, publicKeyFile: file}
}

// writeSignedBundle writes the example bundle's modules, with the given
// revision and archived spaces, as a gzipped tarball at path, signed with
// key the way `opa sign` signs (RS256, a .signatures.json that lists the
// digest of every file). tamper, if not nil, changes the bundle after it
// is signed.
func writeSignedBundle(t *testing.T, path string, key signingKey, revision string, archived []string, tamper func(*bundle.Bundle)) {
	t.Helper()
	var raw struct {
		Roots []string `json:"roots"`
	}
	manifest, err := os.ReadFile(filepath.Join(exampleBundle, ".manifest"))
	if err == nil {
		err = json.Unmarshal(manifest, &raw)
	}
	if err != nil {
		t.Fatal(err)
	}
	b := bundle.Bundle{
		Manifest: bundle.Manifest{Revision: revision, Roots: &raw.Roots},
		Data:     map[string]any{"archived": map[string]any{"spaces": stringsToAny(archived)}},
	}
	for _, name := range []string{"archived.rego", "archived_test.rego"} {
		src, err := os.ReadFile(filepath.Join(exampleBundle, name))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: "/" + name, Path: "/" + name, Raw: src, Parsed: parsed})
	}
	replaceFile(t, path, bundletest.Tarball(t, b, &key.Key, tamper))
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestRunServesASignedBundle starts the server on a signed tarball with
// the key it is signed with: the bundle's rule is in force. The same
// tarball tampered with after signing, signed by another key, or not
// signed at all, is refused at start, with an error that names the file.
func TestRunServesASignedBundle(t *testing.T) {
	t.Parallel()
	key := newSigningKey(t)
	dir := t.TempDir()
	signed := filepath.Join(dir, "archived.tar.gz")
	writeSignedBundle(t, signed, key, "signed-1", []string{spaceLLMEvals}, nil)

	r := startRun(t, "-addr", "127.0.0.1:0", "-policy", signed, "-policy-pubkey", key.publicKeyFile)
	loaded := r.startRecord(t, "policy loaded")
	if loaded["revision"] != "signed-1" || loaded["signed"] != true || loaded["bundle"] != signed {
		t.Errorf("policy loaded %v, want revision signed-1 of the signed bundle %s", loaded, signed)
	}
	if resp, body := r.send(t, keyAdmin, usersPath(spaceLLMEvals), predefinedBody(userGrace, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusConflict {
		t.Errorf("add to the archived space: status %d, want 409; %s", resp.StatusCode, body)
	}
	r.stopAndDrain(t)

	otherKey := newSigningKey(t)
	tests := []struct {
		name  string
		write func(path string)
	}{
		{"data changed after signing", func(path string) {
			writeSignedBundle(t, path, key, "signed-1", []string{spaceLLMEvals}, func(b *bundle.Bundle) {
				b.Data = map[string]any{"archived": map[string]any{"spaces": []any{}}}
			})
		}},
		{"module changed after signing", func(path string) {
			writeSignedBundle(t, path, key, "signed-1", []string{spaceLLMEvals}, func(b *bundle.Bundle) {
				b.Modules[0].Raw = bytes.Replace(b.Modules[0].Raw, []byte("input.space.id in data.archived.spaces"), []byte("false"), 1)
			})
		}},
		{"signed by another key", func(path string) {
			writeSignedBundle(t, path, otherKey, "signed-1", []string{spaceLLMEvals}, nil)
		}},
		{"not signed", func(path string) {
			writeSignedBundle(t, path, key, "signed-1", []string{spaceLLMEvals}, func(b *bundle.Bundle) {
				b.Signatures = bundle.SignaturesConfig{}
			})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "archived.tar.gz")
			tc.write(path)
			var out strings.Builder
			err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-policy", path, "-policy-pubkey", key.publicKeyFile}, &out)
			if !errors.Is(err, policy.ErrBundleSignature) {
				t.Fatalf("run = %v, want an error wrapping policy.ErrBundleSignature", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("the error does not name the bundle %s: %v", path, err)
			}
			if strings.Contains(out.String(), "listening") {
				t.Errorf("the server listened on a bundle it refused:\n%s", out.String())
			}
		})
	}
}

// TestRunRefusesABrokenBundle starts the server on bundles that cannot
// be used: each is a startup error that names the file, and the server
// never listens.
func TestRunRefusesABrokenBundle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spoil func(t *testing.T, dir string) (args []string)
		is    error
		names string // a part of the message: the file, and the line where there is one
	}{
		{"missing", func(t *testing.T, dir string) []string {
			os.RemoveAll(dir)
			return nil
		}, fs.ErrNotExist, "bundle"},
		{"a module that does not parse", func(t *testing.T, dir string) []string {
			editFile(t, filepath.Join(dir, "archived.rego"), "not target_is_member", "not target_is_member(")
			return nil
		}, policy.ErrInvalidPolicy, "archived.rego:"},
		{"a module that does not compile", func(t *testing.T, dir string) []string {
			editFile(t, filepath.Join(dir, "archived.rego"), "not target_is_member", "not target_is_a_member")
			return nil
		}, policy.ErrInvalidPolicy, "archived.rego:"},
		{"a Rego test that fails", func(t *testing.T, dir string) []string {
			editFile(t, filepath.Join(dir, "archived.rego"), `"status": 409`, `"status": 410`)
			return nil
		}, policy.ErrPolicyTestFailed, "archived_test.rego:"},
		{"data that is not JSON", func(t *testing.T, dir string) []string {
			replaceFile(t, filepath.Join(dir, "archived", "data.json"), []byte(`{"spaces": [`))
			return nil
		}, policy.ErrInvalidPolicy, "data.json"},
		{"replace mode without a decision", func(t *testing.T, dir string) []string {
			return []string{"-policy-mode", "replace"}
		}, policy.ErrInvalidPolicy, "bundle"},
		{"a signature required but missing", func(t *testing.T, dir string) []string {
			return []string{"-policy-pubkey", newSigningKey(t).publicKeyFile}
		}, policy.ErrBundleSignature, "bundle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := archivedBundle(t, "broken-1", spaceLLMEvals)
			args := append([]string{"-addr", "127.0.0.1:0", "-policy", dir}, tc.spoil(t, dir)...)
			var out strings.Builder
			err := run(t.Context(), args, &out)
			if !errors.Is(err, tc.is) {
				t.Fatalf("run = %v, want an error wrapping %v", err, tc.is)
			}
			if msg := err.Error(); !strings.Contains(msg, dir) || !strings.Contains(msg, tc.names) {
				t.Errorf("the error does not name the bundle %s and %q: %v", dir, tc.names, err)
			}
			if strings.Contains(out.String(), "listening") {
				t.Errorf("the server listened on a bundle it refused:\n%s", out.String())
			}
		})
	}
}

// TestRunReplacesThePolicy starts the server with -policy-mode replace on
// a bundle that is a whole policy of its own, which refuses everything with
// a code of its own: the default policy's rules are gone (Ada, who may add
// anyone, is refused), and the bundle's answer is the server's.
func TestRunReplacesThePolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const maintenance = `package spaceauthz

decision := {"allow": false, "violations": [{
	"code": "maintenance",
	"rule": "maintenance",
	"status": 423,
	"detail": "memberships cannot change during maintenance",
}]}
`
	if err := os.WriteFile(filepath.Join(dir, "maintenance.rego"), []byte(maintenance), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".manifest"), []byte(`{"revision": "maintenance-1", "roots": ["spaceauthz"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startRun(t, "-addr", "127.0.0.1:0", "-policy", dir, "-policy-mode", "replace")
	if loaded := r.startRecord(t, "policy loaded"); loaded["mode"] != "replace" || loaded["revision"] != "maintenance-1" {
		t.Errorf("policy loaded %v, want mode replace and revision maintenance-1", loaded)
	}
	for _, c := range []struct{ method, body string }{
		{http.MethodPost, predefinedBody(userGrace, "PREDEFINED", "MEMBER")},
		{http.MethodGet, ""},
	} {
		resp, body := r.request(t, c.method, keyAdmin, usersPath(spaceLLMEvals), c.body)
		if resp.StatusCode != http.StatusLocked || !strings.Contains(string(body), `"error_code":"maintenance"`) {
			t.Errorf("%s as Ada: status %d, want 423 maintenance; %s", c.method, resp.StatusCode, body)
		}
	}
	r.stopAndDrain(t)
}
