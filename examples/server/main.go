// Command server is the HTTP example of spaceauthz (SPEC section 7): a small,
// production-shaped net/http server that exposes
//
//	POST /v2/spaces/{space_id}/users
//
// on the go-memdb store, seeded from the built-in demo fixture
// (fixture.Demo) or from the fixture document given with -fixture.
//
// Usage:
//
//	go run ./examples/server [-addr 127.0.0.1:8080] [-fixture FILE] [-log-format text|json]
//
// Callers authenticate with a bearer API key from the fixture's api_keys
// ("Authorization: Bearer demo-admin-key" with the demo fixture). Every error
// is an RFC 9457 problem document (application/problem+json) rendered by
// membership.ProblemFor; a success is 200 with the membership, in the
// spelling of the request. The checks run in this order: authentication
// (401), media type (415), body size (413, over 64 KiB), then the checks of
// SPEC section 3.
//
// The server logs one structured line per request (method, route, status,
// duration, and the error_code of a failure; never an API key), and the
// address it listens on: with -addr 127.0.0.1:0 that line carries the port
// the system chose. SIGINT or SIGTERM stops it gracefully: it stops accepting
// connections and lets the requests in flight finish; a second signal
// kills it at once.
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
