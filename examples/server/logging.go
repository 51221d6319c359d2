package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
)

// requestNotes is what the handlers tell the request log about one request.
// Only the request's own goroutine touches it.
type requestNotes struct {
	actor     membership.ID
	errorCode membership.Code
	err       error
}

type requestNotesKey struct{}

// noteActor records the authenticated actor for the request log.
func noteActor(ctx context.Context, actor membership.ID) {
	if n, ok := ctx.Value(requestNotesKey{}).(*requestNotes); ok {
		n.actor = actor
	}
}

// noteError records the error_code of the answer, and the error behind it,
// for the request log.
func noteError(ctx context.Context, code membership.Code, err error) {
	if n, ok := ctx.Value(requestNotesKey{}).(*requestNotes); ok {
		n.errorCode, n.err = code, err
	}
}

// logRequests writes one log record per request: method, route (the
// ServeMux pattern, empty when none matched), status, duration, and, where
// they apply, the actor's user id, the error_code, and for a 5xx the internal
// cause. Request headers are never logged: the Authorization header holds an
// API key.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		notes := new(requestNotes)
		r = r.WithContext(context.WithValue(r.Context(), requestNotesKey{}, notes))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			// Deferred so that a handler that aborts (http.ErrAbortHandler)
			// is logged too.
			status := rec.status
			if status == 0 {
				status = http.StatusOK // nothing written; net/http sends 200
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("route", r.Pattern),
				slog.Int("status", status),
				slog.Duration("duration", time.Since(start)),
			}
			if notes.actor != "" {
				attrs = append(attrs, slog.String("actor", string(notes.actor)))
			}
			if notes.errorCode != "" {
				attrs = append(attrs, slog.String("error_code", string(notes.errorCode)))
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
				if cause := causeOf(notes.err); cause != nil {
					attrs = append(attrs, slog.String("cause", cause.Error()))
				}
			}
			logger.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// causeOf returns the first error in err's chain that is not a
// *membership.Error: the internal cause that the problem document leaves
// out. It returns nil when there is none.
func causeOf(err error) error {
	for err != nil {
		if _, ok := err.(*membership.Error); !ok {
			return err
		}
		err = errors.Unwrap(err)
	}
	return nil
}

// statusRecorder remembers the status a handler writes.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
