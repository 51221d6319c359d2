package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spaceauthz/spaceauthz/policy"
)

// policyMode says what a policy bundle does to the default policy: the
// value of the -policy-mode flag.
type policyMode string

const (
	// policyExtend adds the bundle's modules and data to the default
	// policy: its rules can only add violations, so it can refuse more,
	// never allow more.
	policyExtend policyMode = "extend"
	// policyReplace leaves the default policy out: the bundle is the whole
	// policy and must define data.spaceauthz.decision.
	policyReplace policyMode = "replace"
)

// String implements flag.Value.
func (m *policyMode) String() string { return string(*m) }

// Set implements flag.Value.
func (m *policyMode) Set(s string) error {
	switch policyMode(s) {
	case policyExtend, policyReplace:
		*m = policyMode(s)
		return nil
	}
	return fmt.Errorf("must be extend or replace")
}

// policySource is where the server's policy comes from: the default policy
// alone when bundlePath is empty, otherwise the OPA bundle at bundlePath
// (a directory or a .tar.gz), signed by publicKey when one is given.
type policySource struct {
	bundlePath string
	// publicKey is the PEM public key the bundle's signature must verify
	// with, nil when the bundle need not be signed. It is read once, at
	// start: a key is trusted configuration, not part of what a reload
	// picks up from disk.
	publicKey []byte
	mode      policyMode
}

// checkPolicyFlags refuses the -policy flags that make no sense without a
// bundle: a usage error.
func checkPolicyFlags(bundlePath, publicKeyPath string, mode policyMode, watch bool) error {
	if bundlePath != "" {
		return nil
	}
	switch {
	case publicKeyPath != "":
		return fmt.Errorf("-policy-pubkey needs -policy: there is no bundle to verify")
	case mode != policyExtend:
		return fmt.Errorf("-policy-mode %s needs -policy: there is no bundle to replace the default policy with", mode)
	case watch:
		return fmt.Errorf("-policy-watch needs -policy: there is no bundle to watch")
	}
	return nil
}

// newPolicySource returns the source the -policy flags describe, with the
// verification key read from publicKeyPath, if given.
func newPolicySource(bundlePath, publicKeyPath string, mode policyMode) (policySource, error) {
	src := policySource{bundlePath: bundlePath, mode: mode}
	if publicKeyPath != "" {
		key, err := os.ReadFile(publicKeyPath)
		if err != nil {
			return policySource{}, fmt.Errorf("-policy-pubkey: %w", err)
		}
		src.publicKey = key
	}
	return src, nil
}

// hasBundle reports whether the policy comes from a bundle, which a reload
// reads again.
func (s policySource) hasBundle() bool { return s.bundlePath != "" }

// read reads the bundle from disk, verifying its signature when a key was
// given, and returns what the policy is made of, for policy.New or
// Engine.Reload. The bundle's modules are compiled and its Rego tests run
// only there, with the rest of the policy.
func (s policySource) read() ([]policy.PolicyOption, error) {
	if !s.hasBundle() {
		return nil, nil
	}
	var readOpts []policy.BundleOption
	if s.publicKey != nil {
		readOpts = append(readOpts, policy.WithVerificationKey(s.publicKey))
	}
	b, err := policy.ReadBundle(s.bundlePath, readOpts...)
	if err != nil {
		return nil, err
	}
	opts := []policy.PolicyOption{policy.WithBundle(b)}
	if s.mode == policyReplace {
		opts = append(opts, policy.WithoutDefaultPolicy())
	}
	return opts, nil
}

// logAttrs describes the source in the log records about the policy.
func (s policySource) logAttrs() []any {
	if !s.hasBundle() {
		return []any{slog.String("bundle", "none")}
	}
	return []any{
		slog.String("bundle", s.bundlePath),
		slog.String("mode", string(s.mode)),
		slog.Bool("signed", s.publicKey != nil),
	}
}

// newEngine builds the policy engine from src: the default policy, with or
// without the bundle. With audit, every decision is written to logger as
// one record (message "decision"; see policy.NewSlogAudit). A bundle that
// cannot be read, whose signature does not verify, that does not compile
// or whose Rego tests fail is an error, which names the file.
func newEngine(src policySource, audit bool, logger *slog.Logger) (*policy.Engine, error) {
	var opts []policy.Option
	if audit {
		opts = append(opts, policy.WithAudit(policy.NewSlogAudit(logger, policy.SlogAuditOptions{})))
	}
	policyOpts, err := src.read()
	if err != nil {
		return nil, fmt.Errorf("-policy: %w", err)
	}
	for _, o := range policyOpts {
		opts = append(opts, o)
	}
	engine, err := policy.New(opts...)
	if err != nil {
		if src.hasBundle() {
			return nil, fmt.Errorf("-policy %s: %w", src.bundlePath, err)
		}
		return nil, fmt.Errorf("policy: %w", err)
	}
	return engine, nil
}
