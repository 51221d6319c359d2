package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/policy"
)

// Timeouts of the server. A request's own work is bounded by requestTimeout
// (503 unavailable after it); the connection-level timeouts keep slow or
// idle clients from holding connections: a client whose headers have not
// arrived within readHeaderTimeout is disconnected without an answer, one
// whose body has not arrived within readTimeout of the start of its request
// is answered 408 request_timeout. shutdownTimeout bounds how long a
// graceful stop waits for the requests in flight.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	requestTimeout    = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 20 * time.Second
	maxHeaderBytes    = 32 << 10
)

// errUsage is returned by run for a command line it cannot parse, after the
// flag package has printed why.
var errUsage = errors.New("usage error")

// run is the whole program but for signal handling: it parses args, builds
// the service and serves until ctx is done, then shuts down gracefully. Logs
// go to logOut.
func run(ctx context.Context, args []string, logOut io.Writer) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	flags.SetOutput(logOut)
	addr := flags.String("addr", "127.0.0.1:8080", "`address` to listen on (host:port; port 0 picks a free one)")
	fixturePath := flags.String("fixture", "", "fixture `file` to seed the store from (default: the built-in demo fixture)")
	logFormat := flags.String("log-format", "text", "log `format`: text or json")
	storeFlag := flags.String("store", "memory", "the `store`: memory (go-memdb), or a postgres:// URL of a PostgreSQL database")
	seed := seedAuto
	flags.Var(&seed, "seed", "`when` to write the fixture into the store at start: auto (only into a store that holds none of\n"+
		"the fixture's users, spaces and roles, so that a restart keeps what the API changed; a store that holds\n"+
		"some but not all of them is refused), always (an upsert: memberships the fixture lists take its roles\n"+
		"again), or never")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(logOut, "unexpected argument %q\n", flags.Arg(0))
		flags.Usage()
		return errUsage
	}
	logger, err := newLogger(logOut, *logFormat)
	if err != nil {
		fmt.Fprintln(logOut, err)
		flags.Usage()
		return errUsage
	}

	f, source, err := loadFixture(*fixturePath)
	if err != nil {
		return err
	}
	store, closeStore, err := openStore(ctx, *storeFlag, seed, f, logger)
	if err != nil {
		return err
	}
	defer closeStore()
	engine, err := policy.New()
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	svc, err := membership.NewService(store, engine)
	if err != nil {
		return err
	}
	auth, err := newAPIKeyAuthenticator(f.APIKeys)
	if err != nil {
		return err
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	logger.Info("listening",
		slog.String("addr", ln.Addr().String()),
		slog.String("url", "http://"+ln.Addr().String()),
		slog.String("fixture", source),
		slog.Int("users", len(f.Users)),
		slog.Int("spaces", len(f.Spaces)),
		slog.Int("api_keys", len(f.APIKeys)))
	return serve(ctx, newHTTPServer(newHandler(svc, auth, logger, requestTimeout), logger), ln, logger, shutdownTimeout)
}

// newLogger returns the structured logger of the server, writing to w in the
// given format.
func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("-log-format must be text or json, not %q", format)
}

// loadFixture returns the fixture at path, or the demo fixture when path is
// empty, and a name for it in logs.
func loadFixture(path string) (*fixture.Fixture, string, error) {
	if path == "" {
		return fixture.Demo(), "demo", nil
	}
	f, err := fixture.Load(path)
	if err != nil {
		return nil, "", err
	}
	return f, path, nil
}

// newHTTPServer returns the http.Server for h, with the timeouts above.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serve serves srv on ln until ctx is done, then shuts down gracefully: it
// stops accepting connections, waits up to grace for the requests in flight to
// finish, and closes what is left after that. It returns nil after a clean
// shutdown.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger, grace time.Duration) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err // Serve failed before any shutdown was asked for
	case <-ctx.Done():
	}
	logger.Info("shutting down", slog.Duration("grace", grace))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		<-served
		return fmt.Errorf("shutdown: requests still in flight after %v: %w", grace, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
