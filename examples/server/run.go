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
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
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

// run is the whole program but for SIGINT and SIGTERM, which main turns
// into ctx being done: it parses args, builds the service and serves until
// ctx is done, then shuts down gracefully. SIGHUP reloads the policy bundle
// meanwhile. Logs go to logOut.
func run(ctx context.Context, args []string, logOut io.Writer) error {
	// Caught here rather than in main, so that the tests run the same code.
	// Caught even without -policy, where a reload only says that there is
	// nothing to reload: SIGHUP's default action would end the server.
	hangups := make(chan os.Signal, 1)
	signal.Notify(hangups, syscall.SIGHUP)
	defer signal.Stop(hangups)
	return runWithHangups(ctx, args, logOut, hangups)
}

// runWithHangups is run, with the reload requests that SIGHUP sends
// arriving on hangups: a test sends them without a signal.
func runWithHangups(ctx context.Context, args []string, logOut io.Writer, hangups <-chan os.Signal) error {
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
	bundlePath := flags.String("policy", "", "OPA policy bundle `path`, a directory or a .tar.gz, whose Rego tests must pass;\n"+
		"SIGHUP reads it again (default: the default policy alone)")
	publicKeyPath := flags.String("policy-pubkey", "", "PEM public key `file` (RSA or ECDSA) that the -policy bundle's signature must verify with")
	mode := policyExtend
	flags.Var(&mode, "policy-mode", "`how` the -policy bundle makes the policy: extend (added to the default policy) or\n"+
		"replace (the whole policy; it must define data.spaceauthz.decision)")
	watch := flags.Bool("policy-watch", false, "reload the -policy bundle when it changes on disk, as SIGHUP does")
	audit := flags.Bool("audit", true, "log every decision of the policy as a record with message \"decision\" (-audit=false: none)")
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
	if err := checkPolicyFlags(*bundlePath, *publicKeyPath, mode, *watch); err != nil {
		fmt.Fprintln(logOut, err)
		flags.Usage()
		return errUsage
	}

	f, fixtureSource, err := loadFixture(*fixturePath)
	if err != nil {
		return err
	}
	source, err := newPolicySource(*bundlePath, *publicKeyPath, mode)
	if err != nil {
		return err
	}
	// The policy comes before the store: a bundle that is refused must
	// stop the server before it seeds a database.
	engine, err := newEngine(source, *audit, logger)
	if err != nil {
		return err
	}
	logger.Info("policy loaded", append(source.logAttrs(),
		slog.String("revision", engine.Revision()),
		slog.Bool("watch", *watch),
		slog.Bool("audit", *audit))...)
	store, closeStore, err := openStore(ctx, *storeFlag, seed, f, logger)
	if err != nil {
		return err
	}
	defer closeStore()
	svc, err := membership.NewService(store, engine)
	if err != nil {
		return err
	}
	auth, err := newAPIKeyAuthenticator(f.APIKeys)
	if err != nil {
		return err
	}

	// Reloads stop with the server, and run returns only after the last
	// one has finished and logged.
	reloadCtx, stopReloads := context.WithCancel(ctx)
	var reloads sync.WaitGroup
	defer reloads.Wait()
	defer stopReloads()
	reloader := &policyReloader{engine: engine, source: source, logger: logger}
	reloads.Go(func() { reloadOnHangup(reloadCtx, hangups, reloader) })
	if *watch {
		waitWatch, err := watchBundle(reloadCtx, source.bundlePath, watchQuietPeriod, func() { reloader.Reload("file change") }, logger)
		if err != nil {
			return err
		}
		reloads.Go(waitWatch)
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	logger.Info("listening",
		slog.String("addr", ln.Addr().String()),
		slog.String("url", "http://"+ln.Addr().String()),
		slog.Int("pid", os.Getpid()), // where to send SIGHUP; go run's own pid is another
		slog.String("fixture", fixtureSource),
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
