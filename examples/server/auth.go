package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// apiKeyAuthenticator maps bearer API keys to the users they authenticate.
// It keeps only the SHA-256 digests of the keys, and compares a presented
// key's digest with every one of them in constant time, so that neither the
// time taken nor anything kept in memory reveals a key. It is safe for
// concurrent use and is never modified after newAPIKeyAuthenticator.
//
// Comparing with every key makes a check linear in the number of keys, which
// suits fixture-sized key sets; a server with many keys would look the digest
// up in a map instead.
type apiKeyAuthenticator struct {
	keys []apiKeyDigest
}

type apiKeyDigest struct {
	digest [sha256.Size]byte
	user   membership.ID
}

// newAPIKeyAuthenticator returns an authenticator for the API keys of a
// fixture. The fixture is validated already; an empty key or a repeated one
// is refused all the same, since either would make authentication ambiguous.
func newAPIKeyAuthenticator(keys []fixture.APIKey) (*apiKeyAuthenticator, error) {
	a := &apiKeyAuthenticator{keys: make([]apiKeyDigest, 0, len(keys))}
	seen := make(map[[sha256.Size]byte]bool, len(keys))
	for _, k := range keys {
		if k.Key == "" {
			return nil, errors.New("api_keys: a key is empty")
		}
		d := sha256.Sum256([]byte(k.Key))
		if seen[d] {
			// The key itself is a credential and is never printed.
			return nil, errors.New("api_keys: a key is listed twice")
		}
		seen[d] = true
		a.keys = append(a.keys, apiKeyDigest{digest: d, user: k.UserID})
	}
	return a, nil
}

// bearerChallenge is the WWW-Authenticate header of every 401 answer (RFC
// 6750 section 3); invalidTokenChallenge adds the error code of a key that
// is well formed but not known.
const (
	bearerChallenge       = `Bearer realm="spaceauthz"`
	invalidTokenChallenge = `Bearer realm="spaceauthz", error="invalid_token"`
)

// authenticate returns the user behind the request's bearer API key, or a
// 401 unauthenticated *membership.Error and the challenge to send with it.
// It reads nothing but the Authorization header.
func (a *apiKeyAuthenticator) authenticate(h http.Header) (membership.ID, string, error) {
	values := h.Values("Authorization")
	switch len(values) {
	case 0:
		return "", bearerChallenge, membership.ErrUnauthenticated.WithDetail("an Authorization header with a Bearer API key is required")
	case 1:
	default:
		return "", bearerChallenge, membership.ErrUnauthenticated.WithDetail("the request has more than one Authorization header")
	}
	key, ok := bearerToken(values[0])
	if !ok {
		return "", bearerChallenge, membership.ErrUnauthenticated.WithDetail("the Authorization header must be Bearer followed by an API key")
	}
	presented := sha256.Sum256([]byte(key))
	var user membership.ID
	for _, k := range a.keys {
		// No early exit: every request compares with every key.
		if subtle.ConstantTimeCompare(presented[:], k.digest[:]) == 1 {
			user = k.user
		}
	}
	if user == "" {
		return "", invalidTokenChallenge, membership.ErrUnauthenticated.WithDetail("the API key is not valid")
	}
	return user, "", nil
}

// bearerToken returns the credentials of an Authorization header value of
// the Bearer scheme (RFC 6750 section 2.1; the scheme name is
// case-insensitive, RFC 9110 section 11.1). The token must be visible ASCII,
// which every fixture key is.
func bearerToken(v string) (string, bool) {
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return "", false
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c > '~' {
			return "", false
		}
	}
	return token, true
}

// actorKey is the context key of the authenticated actor.
type actorKey struct{}

// requireAPIKey runs next only for a request with a valid bearer API key,
// with the actor in its context (see actorFrom); any other request is
// answered 401 before its body is read.
func requireAPIKey(a *apiKeyAuthenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, challenge, err := a.authenticate(r.Header)
		if err != nil {
			w.Header().Set("WWW-Authenticate", challenge)
			writeProblem(w, r, err)
			return
		}
		noteActor(r.Context(), actor)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, actor)))
	})
}

// actorFrom returns the actor requireAPIKey authenticated, or the empty ID,
// which the service answers with 401.
func actorFrom(ctx context.Context) membership.ID {
	id, _ := ctx.Value(actorKey{}).(membership.ID)
	return id
}
