// Package bundletest signs OPA bundles for tests, the way `opa sign` does:
// a .signatures.json holding a JWT over the digest of every file.
package bundletest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// Key is a signing key pair, PEM-encoded, and the JWS algorithm it signs
// with.
type Key struct {
	Alg        string
	PrivatePEM []byte
	PublicPEM  []byte
}

// RSAKey returns a new 2048-bit RSA key, for RS256.
func RSAKey(tb testing.TB) Key {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return encode(tb, k, &k.PublicKey, "RS256")
}

// ECDSAKey returns a new P-256 ECDSA key, for ES256.
func ECDSAKey(tb testing.TB) Key {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return encode(tb, k, &k.PublicKey, "ES256")
}

func encode(tb testing.TB, private, public any, alg string) Key {
	tb.Helper()
	priv, err := x509.MarshalPKCS8PrivateKey(private)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(public)
	if err != nil {
		tb.Fatal(err)
	}
	return Key{
		Alg:        alg,
		PrivatePEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}),
		PublicPEM:  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}
}

// Tarball returns b as a gzipped tarball, signed with key (unsigned when
// key is nil); tamper, if not nil, changes the bundle after it is signed.
func Tarball(tb testing.TB, b bundle.Bundle, key *Key, tamper func(*bundle.Bundle)) []byte {
	tb.Helper()
	if key != nil {
		if err := b.GenerateSignature(bundle.NewSigningConfig(string(key.PrivatePEM), key.Alg, ""), "", false); err != nil {
			tb.Fatal(err)
		}
	}
	if tamper != nil {
		tamper(&b)
	}
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(b); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
