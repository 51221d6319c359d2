package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"

	"github.com/spaceauthz/spaceauthz/policy"
)

// errNoBundle is what a reload returns when the server runs without
// -policy: the default policy is compiled into the binary, so there is
// nothing on disk to read again.
var errNoBundle = errors.New("no -policy bundle to reload")

// policyReloader reads the policy bundle from disk again and swaps it into
// the engine. SIGHUP and the -policy-watch watcher both call Reload; so can
// a test.
//
// A reload fails closed: a bundle that cannot be read, whose signature does
// not verify, that does not compile or whose Rego tests fail is refused, and
// the policy in force stays, whole. Engine.Reload swaps the new policy in at
// once, so a request is decided by the old policy or the new one, never a
// mix.
type policyReloader struct {
	engine *policy.Engine
	source policySource
	logger *slog.Logger

	// mu makes reloads take turns, so that two at once (a signal and a
	// file change) cannot land out of order, an older read of the bundle
	// swapped in after a newer one; and so that the revision a reload
	// logs as old is the one it replaced.
	mu sync.Mutex
}

// Reload reads the bundle again and, if it is sound, puts it in force. It
// logs the outcome: "policy reloaded" with the old and the new revision, or
// "policy reload refused" with the reason and the revision that stays in
// force. trigger says what asked for the reload, for the log. It returns
// the reason of a refusal, errNoBundle without -policy.
func (r *policyReloader) Reload(trigger string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.engine.Revision()
	if !r.source.hasBundle() {
		r.logger.Info("policy reload skipped",
			slog.String("trigger", trigger),
			slog.String("reason", errNoBundle.Error()),
			slog.String("revision", old))
		return errNoBundle
	}
	attrs := append([]any{slog.String("trigger", trigger)}, r.source.logAttrs()...)
	if err := r.reload(); err != nil {
		r.logger.Error("policy reload refused",
			append(attrs, slog.String("error", err.Error()), slog.String("kept_revision", old))...)
		return err
	}
	r.logger.Info("policy reloaded",
		append(attrs, slog.String("old_revision", old), slog.String("new_revision", r.engine.Revision()))...)
	return nil
}

// reload reads the bundle and hands it to the engine, which compiles it and
// runs its tests before swapping it in.
func (r *policyReloader) reload() error {
	opts, err := r.source.read()
	if err != nil {
		return err
	}
	return r.engine.Reload(opts...)
}

// reloadOnHangup calls Reload for every signal that arrives on hangups
// (SIGHUP, in run), until ctx is done.
func reloadOnHangup(ctx context.Context, hangups <-chan os.Signal, r *policyReloader) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hangups:
			r.Reload("SIGHUP") // logged; on a refusal the policy in force stays
		}
	}
}
