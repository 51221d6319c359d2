package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The error classes that only the HTTP transport needs: the library knows
// nothing of routes, methods, media types or body sizes. They render as
// problem documents like the library's own classes.
const (
	codeRouteNotFound        membership.Code = "route_not_found"
	codeMethodNotAllowed     membership.Code = "method_not_allowed"
	codeBodyTooLarge         membership.Code = "body_too_large"
	codeUnsupportedMediaType membership.Code = "unsupported_media_type"
	codeRequestTimeout       membership.Code = "request_timeout"
)

var (
	errRouteNotFound        = membership.NewErrorClass(codeRouteNotFound, http.StatusNotFound, "Route not found", "no route matches the request")
	errMethodNotAllowed     = membership.NewErrorClass(codeMethodNotAllowed, http.StatusMethodNotAllowed, "Method not allowed", "the route does not take this method")
	errBodyTooLarge         = membership.NewErrorClass(codeBodyTooLarge, http.StatusRequestEntityTooLarge, "Request body too large", "the request body is too large")
	errUnsupportedMediaType = membership.NewErrorClass(codeUnsupportedMediaType, http.StatusUnsupportedMediaType, "Unsupported media type", "the request body must be application/json")
	// errRequestTimeout answers a client that stopped sending its body
	// before the server's read timeout: the fault is the client's, so it is
	// a 4xx (RFC 9110 section 15.5.9), not the 503 of a request whose own
	// work ran out of time.
	errRequestTimeout = membership.NewErrorClass(codeRequestTimeout, http.StatusRequestTimeout, "Request timeout", "the request body did not arrive in time")
)

// writeProblem answers the request with the problem document of err and
// notes the error for the request log.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := membership.ProblemFor(err)
	noteError(r.Context(), p.ErrorCode, err)
	writeProblemDocument(w, p)
}

// writeProblemDocument writes p with its status and media type.
func writeProblemDocument(w http.ResponseWriter, p membership.Problem) {
	body, err := marshal(p)
	if err != nil {
		// A Problem is five strings and an int; it always marshals.
		panic(err)
	}
	writeBody(w, p.Status, membership.ProblemContentType, body)
}

// routeNotFound answers every request that matches no route. The detail
// names the method and the path the client sent, quoted and cut to membership.MaxEcho
// bytes: a path may be as long as the header limit allows.
func routeNotFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, errRouteNotFound.WithDetail("no route matches "+membership.QuoteInput(r.Method+" "+r.URL.EscapedPath())))
}

// methodNotAllowed answers a request for a known route with a method the
// route does not take. allow lists the methods it does take, for the Allow
// header (RFC 9110 section 10.2.1).
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		// A method is any token, as long as the header limit allows: it is
		// quoted and cut like every echo of client input.
		writeProblem(w, r, errMethodNotAllowed.WithDetail("this route takes "+allow+", not "+membership.QuoteInput(r.Method)))
	})
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := marshal(v)
	if err != nil {
		return err
	}
	writeBody(w, status, "application/json", body)
	return nil
}

// marshal encodes v as one line of JSON. Answers are not HTML, so "<", ">"
// and "&" are written as they are.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeNoContent answers 204 with no body, and no Content-Type since there
// is nothing to describe.
func writeNoContent(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// writeBody writes a complete response. Answers are never cached: they
// describe one write, one caller's view of a space, or one caller's failure.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body) // a failed write is the client's loss; the status is logged
}
