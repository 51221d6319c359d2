package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
)

// maxBodyBytes is the largest request body the server reads; a larger one
// is answered 413 body_too_large before any of it is parsed.
const maxBodyBytes = 64 << 10

// The routes of the API, as ServeMux patterns without a method.
const (
	spacesRoute   = "/v2/spaces"
	spaceRoute    = "/v2/spaces/{space_id}"
	usersRoute    = "/v2/spaces/{space_id}/users"
	userRoute     = "/v2/spaces/{space_id}/users/{user_id}"
	orgUsersRoute = "/v2/organizations/{org_id}/users"
	orgUserRoute  = "/v2/organizations/{org_id}/users/{user_id}"
	auditRoute    = "/v2/audit-logs"
)

// The Allow headers of the routes. ServeMux routes a HEAD request to the
// handler of a GET pattern (net/http then sends the headers without the
// body), so every route that takes GET takes HEAD as well and says so.
const (
	spacesAllow   = "GET, HEAD"
	spaceAllow    = "GET, HEAD"
	usersAllow    = "GET, HEAD, POST"
	userAllow     = "DELETE"
	orgUsersAllow = "POST"
	orgUserAllow  = "DELETE"
	auditAllow    = "GET, HEAD"
)

// newHandler returns the HTTP API of the server: the routes, and around them
// panic recovery and the request log. Each operation gets timeout to finish.
//
// Every route authenticates first, so that a caller without a valid key
// learns nothing else about the request. A known path with a method it does
// not take is answered 405 with its Allow header, before authentication,
// like an unknown path (404): neither says anything about the data.
//
// Routes are ServeMux patterns, matched on the escaped path, so an ID that
// contains "/" or "+" arrives percent-encoded in one path segment and
// r.PathValue hands it over decoded.
func newHandler(svc *membership.Service, auth *apiKeyAuthenticator, logger *slog.Logger, timeout time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+spacesRoute, requireAPIKey(auth, listSpaces(svc, timeout)))
	mux.Handle(spacesRoute, methodNotAllowed(spacesAllow))
	mux.Handle("GET "+spaceRoute, requireAPIKey(auth, getSpace(svc, timeout)))
	mux.Handle(spaceRoute, methodNotAllowed(spaceAllow))
	mux.Handle("POST "+usersRoute, requireAPIKey(auth, addSpaceUser(svc, timeout)))
	mux.Handle("GET "+usersRoute, requireAPIKey(auth, listSpaceUsers(svc, timeout)))
	mux.Handle(usersRoute, methodNotAllowed(usersAllow))
	mux.Handle("DELETE "+userRoute, requireAPIKey(auth, removeSpaceUser(svc, timeout)))
	mux.Handle(userRoute, methodNotAllowed(userAllow))
	mux.Handle("POST "+orgUsersRoute, requireAPIKey(auth, addOrganizationUser(svc, timeout)))
	mux.Handle(orgUsersRoute, methodNotAllowed(orgUsersAllow))
	mux.Handle("DELETE "+orgUserRoute, requireAPIKey(auth, removeOrganizationUser(svc, timeout)))
	mux.Handle(orgUserRoute, methodNotAllowed(orgUserAllow))
	mux.Handle("GET "+auditRoute, requireAPIKey(auth, listAuditLogs(svc, timeout)))
	mux.Handle(auditRoute, methodNotAllowed(auditAllow))
	mux.HandleFunc("/", routeNotFound)
	return logRequests(logger, recoverPanics(canonicalPaths(mux)))
}

// addSpaceUser serves POST /v2/spaces/{space_id}/users for an authenticated
// actor, through membership.ParseAddUserRequest and Service.AddUserToSpace
// (see addHandler).
func addSpaceUser(svc *membership.Service, timeout time.Duration) http.Handler {
	return addHandler(timeout, func(actor membership.ID, r *http.Request, body []byte) (membership.AddUserRequest, error) {
		req, err := membership.ParseAddUserRequest(actor, r.PathValue("space_id"), body)
		req.Origin = requestOrigin(r, body)
		return req, err
	}, svc.AddUserToSpace)
}

// addOrganizationUser serves POST /v2/organizations/{org_id}/users for an
// authenticated actor, through membership.ParseAddOrganizationUserRequest
// and Service.AddUserToOrganization (see addHandler).
func addOrganizationUser(svc *membership.Service, timeout time.Duration) http.Handler {
	return addHandler(timeout, func(actor membership.ID, r *http.Request, body []byte) (membership.AddOrganizationUserRequest, error) {
		req, err := membership.ParseAddOrganizationUserRequest(actor, r.PathValue("org_id"), body)
		req.Origin = requestOrigin(r, body)
		return req, err
	}, svc.AddUserToOrganization)
}

// addHandler serves an add route for an authenticated actor: the media type
// (415), the body size (413), then the checks of the add through parse and
// add, which gets timeout to finish (503 unavailable after that). Success
// is 200 with the membership add returns. Both add routes take the same
// body, so they answer their transport errors alike.
func addHandler[Req, Member any](timeout time.Duration,
	parse func(actor membership.ID, r *http.Request, body []byte) (Req, error),
	add func(context.Context, Req) (Member, error),
) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := requireJSON(r.Header); err != nil {
			writeProblem(w, r, err)
			return
		}
		body, err := readBody(w, r, maxBodyBytes)
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		req, err := parse(actorFrom(r.Context()), r, body)
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		m, err := add(ctx, req)
		writeResult(w, r, m, err, "the membership")
	})
}

// removeSpaceUser serves DELETE /v2/spaces/{space_id}/users/{user_id} for an
// authenticated actor, through membership.ParseRemoveUserRequest and
// Service.RemoveUserFromSpace (see removeHandler).
func removeSpaceUser(svc *membership.Service, timeout time.Duration) http.Handler {
	return removeHandler(timeout, func(actor membership.ID, r *http.Request) (membership.RemoveUserRequest, error) {
		req, err := membership.ParseRemoveUserRequest(actor, r.PathValue("space_id"), r.PathValue("user_id"))
		req.Origin = requestOrigin(r, nil)
		return req, err
	}, svc.RemoveUserFromSpace)
}

// removeOrganizationUser serves
// DELETE /v2/organizations/{org_id}/users/{user_id} for an authenticated
// actor, through membership.ParseRemoveOrganizationUserRequest and
// Service.RemoveUserFromOrganization, which also removes the user from
// every space of the organization (see removeHandler).
func removeOrganizationUser(svc *membership.Service, timeout time.Duration) http.Handler {
	return removeHandler(timeout, func(actor membership.ID, r *http.Request) (membership.RemoveOrganizationUserRequest, error) {
		req, err := membership.ParseRemoveOrganizationUserRequest(actor, r.PathValue("org_id"), r.PathValue("user_id"))
		req.Origin = requestOrigin(r, nil)
		return req, err
	}, svc.RemoveUserFromOrganization)
}

// removeHandler serves a remove route for an authenticated actor: the
// checks of the remove through parse and remove, which gets timeout to
// finish. A remove takes no body, so none is read and none is checked: a
// body a client sends anyway is ignored, whatever its type or size
// (net/http discards it, or closes the connection after a large one).
// Success is 204 with no body.
func removeHandler[Req any](timeout time.Duration,
	parse func(actor membership.ID, r *http.Request) (Req, error),
	remove func(context.Context, Req) error,
) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := parse(actorFrom(r.Context()), r)
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := remove(ctx, req); err != nil {
			writeProblem(w, r, err)
			return
		}
		writeNoContent(w)
	})
}

// listSpaceUsers serves GET /v2/spaces/{space_id}/users?limit=&cursor= for
// an authenticated actor: the checks of a list through
// membership.ParseListMembersRequest and Service.ListSpaceMembers, which
// gets timeout to finish. The answer is 200 with the page.
//
// The query string is parsed strictly: r.URL.Query drops the pairs it
// cannot decode, which would turn "limit=%zz" into no limit at all, so a
// malformed query string is a 422 naming the query instead. It ranks with
// the other parameter checks, after the actor and the space id.
func listSpaceUsers(svc *membership.Service, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params, queryErr := url.ParseQuery(r.URL.RawQuery)
		if queryErr != nil {
			params = nil // check the actor and the space id first
		}
		req, err := membership.ParseListMembersRequest(actorFrom(r.Context()), r.PathValue("space_id"), params)
		if err == nil && queryErr != nil {
			err = errMalformedQuery
		}
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		page, err := svc.ListSpaceMembers(ctx, req)
		writeResult(w, r, page, err, "the page")
	})
}

// writeResult answers an operation: the problem document of err, or 200
// with v as JSON. what names v in the internal cause of a failed encoding.
func writeResult(w http.ResponseWriter, r *http.Request, v any, err error, what string) {
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	if err := writeJSON(w, http.StatusOK, v); err != nil {
		writeProblem(w, r, membership.Internal(fmt.Errorf("encode %s: %w", what, err)))
	}
}

// errMalformedQuery answers a query string that url.ParseQuery refuses: a
// bad percent-escape, or a ";" between parameters. Its detail is fixed, so
// that nothing of the client's input is echoed.
var errMalformedQuery = membership.ErrInvalidField.WithDetail(
	"the query string is malformed: parameters must be name=value pairs separated by '&', with valid percent-escapes")

// requireJSON reports a 415 unsupported_media_type *membership.Error unless
// the Content-Type is application/json (any case, with optional parameters;
// a charset, if given, must be UTF-8, the only encoding of JSON, RFC 8259).
func requireJSON(h http.Header) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		return errUnsupportedMediaType.WithDetail("the Content-Type header is missing; the request body must be application/json")
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil || mediaType != "application/json" {
		return errUnsupportedMediaType
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errUnsupportedMediaType.WithDetail("the request body must be application/json in UTF-8")
	}
	return nil
}

// readBody reads the whole request body, or reports a 413 body_too_large
// *membership.Error when it is longer than limit bytes, and a 408
// request_timeout one when the body does not arrive before the server's
// read timeout. A body announced as too long is refused without being read.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	tooLarge := errBodyTooLarge.WithDetail(fmt.Sprintf("the request body must not be larger than %d bytes", limit))
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(innermost(w), r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection's read deadline (the server's ReadTimeout)
			// passed while the client was still sending: a slow or stalled
			// client. net/http closes the connection after this answer.
			return nil, errRequestTimeout
		}
		// The client went away or sent a broken body. If it is still there,
		// it gets a 400: what arrived is not a JSON body.
		return nil, membership.ErrInvalidJSON.WithDetail("the request body could not be read")
	}
	return body, nil
}

// innermost returns the connection's own ResponseWriter under the wrappers
// of the middleware, so that http.MaxBytesReader can tell the server to close
// the connection after a body that was too large.
func innermost(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// canonicalPaths answers 404 for a path that is not in canonical form
// (empty, "." or ".." segments, a trailing slash), where ServeMux would
// redirect: an API route has one spelling. Like ServeMux, it looks at the
// escaped path, in which "%2F" inside an ID is not a separator.
func canonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.EscapedPath(); p != "/" && path.Clean(p) != p {
			routeNotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics answers 500 internal with a problem document when a handler
// panics, and logs the panic value through the request log.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			writeProblem(w, r, membership.Internal(fmt.Errorf("panic: %v", v)))
		}()
		next.ServeHTTP(w, r)
	})
}
