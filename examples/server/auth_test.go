package main

import (
	"net/http"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

func TestBearerToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer demo-admin-key", "demo-admin-key", true},
		{"bearer demo-admin-key", "demo-admin-key", true},
		{"Bearer  demo-admin-key", "demo-admin-key", true},
		{"Bearer a+b/c=", "a+b/c=", true},
		{"Bearer !#$%&'*", "!#$%&'*", true}, // visible ASCII, as fixture keys may be
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic ZGVtbw==", "", false},
		{"Bearerdemo-admin-key", "", false},
		{"Bearer demo admin key", "", false},
		{"Bearer demo-admin-key\t", "", false},
		{"Bearer demo-\x7fkey", "", false},
		{"Bearer clé", "", false},
		{" Bearer demo-admin-key", "", false},
	}
	for _, tc := range tests {
		got, ok := bearerToken(tc.header)
		if got != tc.want || ok != tc.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAuthenticatorMapsEveryKey(t *testing.T) {
	t.Parallel()
	f := fixture.Demo()
	a, err := newAPIKeyAuthenticator(f.APIKeys)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range f.APIKeys {
		h := http.Header{"Authorization": {"Bearer " + k.Key}}
		got, challenge, err := a.authenticate(h)
		if err != nil || got != k.UserID || challenge != "" {
			t.Errorf("authenticate(%s's key) = %q, %q, %v; want %q", k.UserID, got, challenge, err, k.UserID)
		}
	}
}

func TestAuthenticatorRefusesAmbiguousKeys(t *testing.T) {
	t.Parallel()
	tests := map[string][]fixture.APIKey{
		"empty key": {{Key: "", UserID: userAda}},
		"same key twice": {
			{Key: "shared", UserID: userAda},
			{Key: "shared", UserID: userGrace},
		},
	}
	for name, keys := range tests {
		if _, err := newAPIKeyAuthenticator(keys); err == nil {
			t.Errorf("%s: newAPIKeyAuthenticator accepted it", name)
		}
	}
}

func TestAuthenticatorWithoutKeys(t *testing.T) {
	t.Parallel()
	a, err := newAPIKeyAuthenticator(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, challenge, err := a.authenticate(http.Header{"Authorization": {"Bearer anything"}})
	if err == nil || challenge != invalidTokenChallenge {
		t.Errorf("authenticate with no keys = %q, %v; want a 401", challenge, err)
	}
	if e, ok := err.(*membership.Error); !ok || e.Code != membership.CodeUnauthenticated {
		t.Errorf("error %v is not unauthenticated", err)
	}
}
