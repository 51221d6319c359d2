package policy

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"

	defaultpolicy "github.com/spaceauthz/spaceauthz/rego"
)

// ErrBundleSignature is wrapped by the error ReadBundle returns for a
// bundle that a verification key was given for and that is not signed by
// it, or whose files do not match their signed digests.
var ErrBundleSignature = errors.New("bundle signature does not verify")

// Bundle is an OPA bundle read by ReadBundle: Rego v1 modules, data, and
// Rego tests (files named *_test.rego), which WithBundle runs against the
// whole policy before it is used. A Bundle does not change once read.
type Bundle struct {
	// Path is the directory or .tar.gz the bundle was read from.
	Path string
	// Revision is the revision of the bundle's manifest, "" when the
	// bundle has no manifest or its manifest gives none.
	Revision string

	modules []defaultpolicy.Module
	tests   []defaultpolicy.Module
	data    map[string]any
}

// Modules returns the bundle's Rego modules, its tests apart, each named by
// its file: its path on disk for a directory, the tarball's path and the
// file's path inside it otherwise.
func (b *Bundle) Modules() []defaultpolicy.Module { return slices.Clone(b.modules) }

// Tests returns the bundle's Rego test modules (files named *_test.rego),
// named as Modules names them.
func (b *Bundle) Tests() []defaultpolicy.Module { return slices.Clone(b.tests) }

// Data returns the bundle's data document, placed by the directories of
// its data files (a/b/data.json is data.a.b). It is the bundle's own: do
// not modify it.
func (b *Bundle) Data() map[string]any { return b.data }

// BundleOption configures ReadBundle.
type BundleOption func(*bundleConfig)

type bundleConfig struct {
	publicKey []byte
}

// WithVerificationKey has ReadBundle verify the bundle's signature
// (.signatures.json, as `opa sign` writes it) with a PEM-encoded public key:
// RSA (RS256) or ECDSA (ES256, ES384 or ES512, by the key's curve). A
// bundle without a signature, signed by another key, or holding a file
// whose digest differs from the signed one is refused.
func WithVerificationKey(publicKeyPEM []byte) BundleOption {
	return func(c *bundleConfig) { c.publicKey = publicKeyPEM }
}

// ReadBundle reads an OPA bundle from a directory or a gzipped tarball (a
// path ending in .tar.gz or .tgz) with OPA's bundle reader. It checks the
// bundle's signature when a verification key is given, and parses its
// modules; it does not compile them or run its tests, which WithBundle's
// New or Reload does with the rest of the policy.
func ReadBundle(path string, opts ...BundleOption) (*Bundle, error) {
	var cfg bundleConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	b, err := readBundle(path, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: bundle %s: %w", ErrInvalidPolicy, path, err)
	}
	if cfg.publicKey != nil {
		alg, err := signatureAlgorithm(cfg.publicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: bundle %s: verification key: %w", ErrInvalidPolicy, path, err)
		}
		const keyID = "spaceauthz"
		keys := map[string]*bundle.KeyConfig{keyID: {Key: string(cfg.publicKey), Algorithm: alg}}
		// The bundle reads without verification, so what fails now is
		// the signature.
		if b, err = readBundle(path, bundle.NewVerificationConfig(keys, keyID, "", nil)); err != nil {
			return nil, fmt.Errorf("%w: %w: bundle %s: %w", ErrInvalidPolicy, ErrBundleSignature, path, err)
		}
	}
	out := &Bundle{Path: path, Revision: b.Manifest.Revision, data: b.Data}
	if out.data == nil {
		out.data = map[string]any{}
	}
	for _, m := range b.Modules {
		mod := defaultpolicy.Module{Name: moduleName(path, m), Source: string(m.Raw)}
		if strings.HasSuffix(m.Path, "_test.rego") {
			out.tests = append(out.tests, mod)
		} else {
			out.modules = append(out.modules, mod)
		}
	}
	return out, nil
}

// readBundle reads the bundle at path, a tarball or a directory, and
// verifies its signature when verify is not nil, and ignores any signature
// otherwise.
func readBundle(path string, verify *bundle.VerificationConfig) (bundle.Bundle, error) {
	info, err := os.Stat(path)
	if err != nil {
		return bundle.Bundle{}, err
	}
	var reader *bundle.Reader
	switch {
	case info.IsDir():
		reader = bundle.NewCustomReader(bundle.NewDirectoryLoader(path))
	case strings.HasSuffix(path, ".tar.gz") || strings.HasSuffix(path, ".tgz"):
		f, err := os.Open(path)
		if err != nil {
			return bundle.Bundle{}, err
		}
		defer f.Close()
		reader = bundle.NewReader(f)
	default:
		return bundle.Bundle{}, errors.New("not a directory, nor a .tar.gz or .tgz file")
	}
	reader = reader.WithRegoVersion(ast.RegoV1)
	if verify != nil {
		reader = reader.WithBundleVerificationConfig(verify)
	} else {
		reader = reader.WithSkipBundleVerification(true)
	}
	return reader.Read()
}

// moduleName names a module of the bundle at path for error messages: the
// file's path on disk for a directory, the tarball's path and the file's
// path inside it otherwise.
func moduleName(path string, m bundle.ModuleFile) string {
	rel := strings.TrimPrefix(m.Path, "/")
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return filepath.Join(path, rel)
	}
	return path + "/" + rel
}

// signatureAlgorithm picks the JWS algorithm for a PEM public key.
func signatureAlgorithm(keyPEM []byte) (string, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return "", errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return "", fmt.Errorf("PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return "", err
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		return "RS256", nil
	case *ecdsa.PublicKey:
		switch k.Curve.Params().BitSize {
		case 256:
			return "ES256", nil
		case 384:
			return "ES384", nil
		case 521:
			return "ES512", nil
		}
		return "", fmt.Errorf("unsupported ECDSA curve %s", k.Curve.Params().Name)
	default:
		return "", fmt.Errorf("unsupported public key type %T", key)
	}
}

// revision names the policy made of modules and data (see
// Engine.Revision).
func (src *sources) revision(modules []defaultpolicy.Module, data map[string]any) (string, error) {
	var named []string
	for _, r := range src.revisions {
		if r != "" {
			named = append(named, r)
		}
	}
	if len(named) > 0 {
		return strings.Join(named, "+"), nil
	}
	sorted := slices.Clone(modules)
	slices.SortFunc(sorted, func(a, b defaultpolicy.Module) int { return strings.Compare(a.Name, b.Name) })
	h := sha256.New()
	for _, m := range sorted {
		fmt.Fprintf(h, "%d:%s%d:%s", len(m.Name), m.Name, len(m.Source), m.Source)
	}
	raw, err := json.Marshal(data) // encoding/json sorts map keys
	if err != nil {
		return "", fmt.Errorf("%w: data: %w", ErrInvalidPolicy, err)
	}
	h.Write(raw)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16], nil
}
