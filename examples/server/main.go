// Command server is the HTTP example of spaceauthz: a small,
// production-shaped net/http server that exposes
//
//	GET    /v2/spaces                              list the spaces the caller can read (200)
//	GET    /v2/spaces/{space_id}                   read a space (200)
//	POST   /v2/spaces/{space_id}/users             add a user to a space (200)
//	DELETE /v2/spaces/{space_id}/users/{user_id}   remove a user from a space (204)
//	GET    /v2/spaces/{space_id}/users             list a space's members (200)
//	POST   /v2/organizations/{org_id}/users        add a user to an organization (200)
//	DELETE /v2/organizations/{org_id}/users/{user_id}
//	                                               remove a user from an organization and its spaces (204)
//
// on the go-memdb store (or PostgreSQL, with -store), seeded from the
// built-in demo fixture (fixture.Demo) or from the fixture document given
// with -fixture.
//
// Usage:
//
//	go run ./examples/server [-addr 127.0.0.1:8080] [-fixture FILE] [-log-format text|json]
//	                         [-store memory|postgres://...] [-seed auto|always|never]
//	                         [-policy DIR|FILE.tar.gz [-policy-pubkey FILE] [-policy-mode extend|replace]
//	                          [-policy-watch]] [-audit=true|false]
//
// The fixture is written into the store at start only if the store holds
// none of it (-seed auto, the default): a restart on PostgreSQL keeps the
// memberships and roles the API changed. -seed always writes it at every
// start, putting the fixture's memberships back; -seed never writes
// nothing. The log says what was seeded, or why nothing was.
//
// Callers authenticate with a bearer API key from the fixture's api_keys
// ("Authorization: Bearer demo-admin-key" with the demo fixture). Every error
// is an RFC 9457 problem document (application/problem+json) rendered by
// membership.ProblemFor. An add answers with the membership, in the
// spelling of the request; a remove with no body; a list with a page of
// memberships ({"space_memberships": [...], "pagination": {...}}), walked
// with ?limit= and the ?cursor= each page returns. A read of a space answers
// with the space record (created_at in UTC), and the list of spaces with a
// page of them ({"spaces": [...], "pagination": {...}}), narrowed with
// ?org_id= and ?name= (a part of the name, in any case) and walked like the
// list of members: it holds exactly the spaces a read would answer, so a
// space the caller may not read, or that a bundle's rule hides, is neither
// read (404, as a missing space) nor listed. Authentication (401)
// comes first on every route; an add then checks the media type (415) and
// the body size (413, over 64 KiB) before the library's own checks, while a
// remove reads no body at all. A known path with another method is 405 with
// an Allow header, any other path 404. A client that stops sending its body
// gets 408 once the server's read timeout passes.
//
// The policy is the library's default policy or, with -policy, the default
// policy extended by an OPA bundle: a directory, or a .tar.gz as opa build
// writes it, of Rego v1 modules in package spaceauthz that add violations,
// their data, and Rego tests (*_test.rego). With -policy-mode replace the
// bundle is the whole policy and must define data.spaceauthz.decision.
// With -policy-pubkey the bundle must be signed (.signatures.json, as opa
// sign writes it) by the private half of that PEM public key, RSA or ECDSA;
// the key is read once, at start. The bundle's Rego tests run against the
// whole policy before it is used. A bundle that cannot be read, is not
// signed by the key, does not compile or fails a test stops the server at
// start, with an error that names the file (and the line, where there is
// one). The log's "policy loaded" record names the revision in force: the
// bundle manifest's revision, or a digest of the policy. The directory
// examples/archived-spaces is such a bundle: it refuses new members in the
// spaces it lists.
//
// SIGHUP reads the bundle again and puts it in force; with -policy-watch, so
// does any change to the bundle on disk, once the bundle has stayed
// unchanged for a quarter of a second, so that one save is one reload. The
// watcher watches the bundle's directory tree and the directory that holds
// it, so a bundle replaced whole (a tarball renamed into place, a directory
// swapped for another) is reloaded too: write a tarball under another name
// and rename it, so that no reload reads half of it. Each reload is logged:
// "policy reloaded" with old_revision and new_revision, or "policy reload
// refused" with the error and kept_revision. A refused reload fails closed:
// a bundle that would be refused at start is refused, and the policy in
// force stays, whole. A request is decided by the old policy or the new one,
// never a mix, and none is dropped. Without -policy, SIGHUP only logs that
// there is no bundle to reload.
//
// Every decision of the policy is logged as one record with message
// "decision" (operation, actor, space, user, role, allow, the violations
// as rule=code, the policy's revision, duration, cached), just before the
// record of its request: an audit trail that says which policy decided.
// -audit=false leaves these records out.
//
// The server logs one structured line per request (method, route, status,
// duration, the actor and the error_code of a failure; never an API key),
// and the address it listens on: with -addr 127.0.0.1:0 that line carries
// the port the system chose. SIGINT or SIGTERM stops it gracefully: it stops
// accepting connections and lets the requests in flight finish; a second
// signal kills it at once.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, restore the default handling so that a
		// second one ends a shutdown that takes too long.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2) // the flag package has said why
	default:
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}
