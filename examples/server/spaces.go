package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
)

// getSpace serves GET /v2/spaces/{space_id} for an authenticated actor:
// the checks of a read through membership.ParseGetSpaceRequest and
// Service.GetSpace, which gets timeout to finish. The answer is 200 with
// the space record, or 404 space_not_found alike for a space that does not
// exist and one the actor may not read. A read takes no parameters: a query
// string is ignored, as a remove ignores a body.
func getSpace(svc *membership.Service, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := membership.ParseGetSpaceRequest(actorFrom(r.Context()), r.PathValue("space_id"))
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		sp, err := svc.GetSpace(ctx, req)
		writeResult(w, r, spaceInUTC(sp), err, "the space")
	})
}

// listSpaces serves GET /v2/spaces?org_id=&name=&limit=&cursor= for an
// authenticated actor: the checks of a list of spaces through
// membership.ParseListSpacesRequest and Service.ListSpaces, which gets
// timeout to finish. The answer is 200 with the page: exactly the spaces
// getSpace answers 200 for, narrowed by the filters. The query string is
// parsed strictly (see parseQueryOf).
func listSpaces(svc *membership.Service, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := parseQueryOf(r, membership.ParseListSpacesRequest)
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		page, err := svc.ListSpaces(ctx, req)
		spaces := make([]membership.Space, len(page.Spaces))
		for i, sp := range page.Spaces {
			spaces[i] = spaceInUTC(sp)
		}
		page.Spaces = spaces
		writeResult(w, r, page, err, "the page")
	})
}

// spaceInUTC returns sp with its creation time in UTC, so that created_at
// is written as an RFC 3339 time ending in "Z" whatever zone the store
// read it in. The stores of the repository keep UTC already; another store
// may not. A time that RFC 3339 cannot write (a year outside 0 to 9999)
// fails the encoding, and the answer is 500 internal rather than a
// malformed time.
func spaceInUTC(sp membership.Space) membership.Space {
	sp.CreatedAt = sp.CreatedAt.UTC()
	return sp
}

// parseQueryOf parses the query string of r strictly with parse, for a
// list whose id filter (org_id, user_id) is itself a query parameter: a
// malformed query string still has that id checked first, from the pairs
// that do decode (url.ParseQuery keeps them beside its error), so that
// invalid_id ranks before the invalid_field of the malformed query, as it
// does before every other parameter check.
func parseQueryOf[Req any](r *http.Request, parse func(membership.ID, url.Values) (Req, error)) (Req, error) {
	params, queryErr := url.ParseQuery(r.URL.RawQuery)
	req, err := parse(actorFrom(r.Context()), params)
	if queryErr != nil && !errors.Is(err, membership.ErrUnauthenticated) && !errors.Is(err, membership.ErrInvalidID) {
		err = errMalformedQuery
	}
	return req, err
}
