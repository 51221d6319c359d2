package membership

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The page sizes of a list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// ListMembersRequest asks for a page of the members of the space SpaceID,
// on behalf of Actor: at most Limit memberships (DefaultPageSize when zero),
// after the place Cursor marks (from the start when empty). A transport
// fills Actor from its own authentication and the rest from
// ParseListMembersRequest; Go callers may fill it directly.
type ListMembersRequest struct {
	// Actor is the authenticated caller; empty means nobody is.
	Actor   ID
	SpaceID ID
	Limit   int
	// Cursor is a MemberPage.NextCursor of the same space.
	Cursor string
}

// Validate runs the input checks of a list, in their order: an actor is
// present (401), the space id is an ID (400 invalid_id), the limit is from
// 1 to MaxPageSize (or zero, for the default) and the cursor is one that a
// page of this space returned (422 invalid_field naming the parameter).
func (r ListMembersRequest) Validate() error {
	_, err := r.page()
	return err
}

// page validates r and returns the page it asks for.
func (r ListMembersRequest) page() (PageQuery, error) {
	if err := checkActor(r.Actor); err != nil {
		return PageQuery{}, err
	}
	if !r.SpaceID.Valid() {
		return PageQuery{}, ErrInvalidID.with("space_id", "space_id is not an ID")
	}
	limit, err := pageLimit(r.Limit)
	if err != nil {
		return PageQuery{}, err
	}
	p := PageQuery{Limit: limit}
	if r.Cursor != "" {
		after, ok := decodeCursor(r.Cursor, r.SpaceID)
		if !ok {
			return PageQuery{}, ErrInvalidField.with("cursor", "cursor is not one that a page of this space returned")
		}
		p.After = after
	}
	return p, nil
}

// ParseListMembersRequest builds the request of
// GET /v2/spaces/{space_id}/users from the authenticated actor, the space
// id taken from the path (already percent-decoded) and the query
// parameters, running the input checks of a list: the parameters are limit
// and cursor, each at most once, and nothing else.
func ParseListMembersRequest(actor ID, spaceID string, params url.Values) (ListMembersRequest, error) {
	req := ListMembersRequest{Actor: actor, SpaceID: ID(spaceID)}
	if err := checkActor(req.Actor); err != nil {
		return ListMembersRequest{}, err
	}
	if !req.SpaceID.Valid() {
		return ListMembersRequest{}, ErrInvalidID.with("space_id", "space_id is not an ID")
	}
	if err := checkParams(params, "cursor", "limit"); err != nil {
		return ListMembersRequest{}, err
	}
	limit, err := limitParam(params)
	if err != nil {
		return ListMembersRequest{}, err
	}
	req.Limit = limit
	if v, ok := params["cursor"]; ok {
		if v[0] == "" {
			return ListMembersRequest{}, ErrInvalidField.with("cursor", "cursor is not one that a page of this space returned")
		}
		req.Cursor = v[0]
	}
	if err := req.Validate(); err != nil {
		return ListMembersRequest{}, err
	}
	return req, nil
}

// pageLimit is the size of the page a request's limit asks for:
// DefaultPageSize for zero, and invalid_field outside 1 to MaxPageSize.
func pageLimit(limit int) (int, error) {
	if limit == 0 {
		return DefaultPageSize, nil
	}
	if limit < 1 || limit > MaxPageSize {
		return 0, errLimit()
	}
	return limit, nil
}

func errLimit() *Error {
	return ErrInvalidField.with("limit", "limit must be an integer from 1 to "+strconv.Itoa(MaxPageSize))
}

// limitParam reads the limit query parameter: zero when it is absent, and
// invalid_field when it is not an integer from 1 to MaxPageSize.
func limitParam(params url.Values) (int, error) {
	v, ok := params["limit"]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, errLimit()
	}
	return n, nil
}

// checkListParams runs the checks that come first on the query string of a
// list whose parameters are all optional, in their order: an actor is
// present (401); the id parameter idParam, when given, is an ID (400
// invalid_id); every parameter is one of known, given once and not empty
// (422 invalid_field naming it).
func checkListParams(actor ID, params url.Values, idParam string, known []string) error {
	if err := checkActor(actor); err != nil {
		return err
	}
	if v := params[idParam]; len(v) == 1 && v[0] != "" && !ID(v[0]).Valid() {
		return ErrInvalidID.with(idParam, idParam+" is not an ID")
	}
	if err := checkParams(params, known...); err != nil {
		return err
	}
	for _, name := range known {
		if v, ok := params[name]; ok && v[0] == "" {
			return ErrInvalidField.with(name, name+" is empty")
		}
	}
	return nil
}

// checkParams checks that every query parameter is one of known and given
// once, reporting the first wrong one in name order so that the same
// request always names the same parameter.
func checkParams(params url.Values, known ...string) error {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case !slices.Contains(known, name):
			return ErrInvalidField.with(clip(name), "unknown query parameter "+QuoteInput(name))
		case len(params[name]) != 1:
			return ErrInvalidField.with(name, name+" is given more than once")
		}
	}
	return nil
}

// MemberPage is one page of a space's members: memberships in user id
// order, roles in the upper-case spelling. NextCursor, set exactly when
// HasMore is, asks for the next page.
type MemberPage struct {
	Members    []Membership
	NextCursor string
	HasMore    bool
}

// MarshalJSON writes the page as the list endpoint answers it.
func (p MemberPage) MarshalJSON() ([]byte, error) {
	return marshalPage("space_memberships", p.Members, p.NextCursor, p.HasMore)
}

// marshalPage writes a page of a list: {"<key>": [items], "pagination":
// {"next_cursor", "has_more"}}, an empty list as [] and next_cursor absent
// when there is no next page.
func marshalPage[T any](key string, items []T, next string, more bool) ([]byte, error) {
	type pagination struct {
		NextCursor string `json:"next_cursor,omitempty"`
		HasMore    bool   `json:"has_more"`
	}
	if items == nil {
		items = []T{}
	}
	list, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	page, err := json.Marshal(pagination{next, more})
	if err != nil {
		return nil, err
	}
	k, _ := json.Marshal(key)
	return []byte(`{` + string(k) + `:` + string(list) + `,"pagination":` + string(page) + `}`), nil
}

// A cursor names the space and the last user of a page, so that the next
// page starts after that user whatever was added or removed meanwhile. It
// is opaque to clients but no secret: it holds only ids its caller has
// seen. The version prefix lets its form change later.
const cursorPrefix = "m1:"

func encodeCursor(space, after ID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + string(space) + ":" + string(after)))
}

// decodeCursor returns the user a cursor of space starts after; ok is false
// for anything else, a cursor of another space among them.
func decodeCursor(cursor string, space ID) (ID, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return "", false
	}
	// IDs are base64, which has no ':'.
	s, after, ok := strings.Cut(rest, ":")
	if !ok || ID(s) != space || !ID(after).Valid() {
		return "", false
	}
	return ID(after), true
}
