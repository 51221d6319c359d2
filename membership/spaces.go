package membership

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameFilter is the longest name filter of a list of spaces, in
// characters.
const MaxNameFilter = 256

// GetSpaceRequest asks for the space SpaceID on behalf of Actor.
type GetSpaceRequest struct {
	// Actor is the authenticated caller; empty means nobody is.
	Actor   ID
	SpaceID ID
}

// Validate runs the input checks of a read: an actor is present (401), the
// space id is an ID (400 invalid_id).
func (r GetSpaceRequest) Validate() error {
	if err := checkActor(r.Actor); err != nil {
		return err
	}
	if !r.SpaceID.Valid() {
		return ErrInvalidID.with("space_id", "space_id is not an ID")
	}
	return nil
}

// ParseGetSpaceRequest builds the request of GET /v2/spaces/{space_id} from
// the authenticated actor and the space id taken from the path (already
// percent-decoded).
func ParseGetSpaceRequest(actor ID, spaceID string) (GetSpaceRequest, error) {
	req := GetSpaceRequest{Actor: actor, SpaceID: ID(spaceID)}
	if err := req.Validate(); err != nil {
		return GetSpaceRequest{}, err
	}
	return req, nil
}

// GetSpace returns the space req.SpaceID when req.Actor may read it, decided
// by the policy (operation read) on the facts of that space. A space that
// does not exist, lies in another account or that the actor may not read
// answers ErrSpaceNotFound alike.
func (s *Service) GetSpace(ctx context.Context, req GetSpaceRequest) (Space, error) {
	if err := req.Validate(); err != nil {
		return Space{}, err
	}
	f, _, err := s.store.Read(ctx, Query{Operation: OperationRead, Actor: req.Actor, SpaceID: req.SpaceID})
	if err != nil {
		return Space{}, asError(err)
	}
	if err := s.decide(ctx, f); err != nil {
		return Space{}, err
	}
	if f.Space == nil {
		// Fail closed against a policy that allows reading nothing.
		return Space{}, ErrSpaceNotFound
	}
	return *f.Space, nil
}

// ListSpacesRequest asks for a page of the spaces Actor can read: those of
// the organization OrganizationID when set, whose name contains Name
// ignoring case when set, at most Limit of them (DefaultPageSize when zero),
// after the place Cursor marks. A transport fills Actor from its own
// authentication and the rest from ParseListSpacesRequest; Go callers may
// fill it directly.
type ListSpacesRequest struct {
	// Actor is the authenticated caller; empty means nobody is.
	Actor          ID
	OrganizationID ID
	Name           string
	Limit          int
	// Cursor is a SpacePage.NextCursor of the same OrganizationID and Name.
	Cursor string
}

// Validate runs the input checks of a list of spaces, in their order: an
// actor is present (401), the organization id, when set, is an ID (400
// invalid_id), the limit is from 1 to MaxPageSize (or zero, for the
// default), the name filter at most MaxNameFilter characters and the
// cursor one that a page of the same filters returned (422 invalid_field
// naming the parameter).
func (r ListSpacesRequest) Validate() error {
	_, err := r.query()
	return err
}

func (r ListSpacesRequest) query() (SpaceQuery, error) {
	if err := checkActor(r.Actor); err != nil {
		return SpaceQuery{}, err
	}
	if r.OrganizationID != "" && !r.OrganizationID.Valid() {
		return SpaceQuery{}, ErrInvalidID.with("org_id", "org_id is not an ID")
	}
	limit, err := pageLimit(r.Limit)
	if err != nil {
		return SpaceQuery{}, err
	}
	q := SpaceQuery{Actor: r.Actor, OrganizationID: r.OrganizationID, Name: FoldName(r.Name), Limit: limit}
	if utf8.RuneCountInString(r.Name) > MaxNameFilter {
		return SpaceQuery{}, ErrInvalidField.with("name", "name must be at most "+strconv.Itoa(MaxNameFilter)+" characters")
	}
	if r.Cursor != "" {
		after, ok := decodeSpaceCursor(r.Cursor, r.OrganizationID, r.Name)
		if !ok {
			return SpaceQuery{}, ErrInvalidField.with("cursor", "cursor is not one that a page of the same org_id and name returned")
		}
		q.After = after
	}
	return q, nil
}

// The query parameters of a list of spaces.
var listSpacesParams = []string{"cursor", "limit", "name", "org_id"}

// ParseListSpacesRequest builds the request of GET /v2/spaces from the
// authenticated actor and the query parameters, running the input checks of
// a list of spaces: the parameters are org_id, name, limit and cursor, each
// at most once and not empty, and nothing else.
func ParseListSpacesRequest(actor ID, params url.Values) (ListSpacesRequest, error) {
	if err := checkListParams(actor, params, "org_id", listSpacesParams); err != nil {
		return ListSpacesRequest{}, err
	}
	req := ListSpacesRequest{Actor: actor, OrganizationID: ID(params.Get("org_id")), Name: params.Get("name"), Cursor: params.Get("cursor")}
	limit, err := limitParam(params)
	if err != nil {
		return ListSpacesRequest{}, err
	}
	req.Limit = limit
	if err := req.Validate(); err != nil {
		return ListSpacesRequest{}, err
	}
	return req, nil
}

// SpacePage is one page of the spaces a caller can read, in space id order.
// NextCursor, set exactly when HasMore is, asks for the next page.
type SpacePage struct {
	Spaces     []Space
	NextCursor string
	HasMore    bool
}

// MarshalJSON writes the page as GET /v2/spaces answers it.
func (p SpacePage) MarshalJSON() ([]byte, error) {
	return marshalPage("spaces", p.Spaces, p.NextCursor, p.HasMore)
}

// ListSpaces returns a page of the spaces req.Actor can read: exactly the
// spaces of the actor's account for which GetSpace would answer, narrowed
// by the request's organization and name, in space id order. An
// organization that does not exist or that the actor cannot see gives an
// empty page, never an error.
//
// When the Authorizer is a ReadFilterer, its filter decides which spaces
// the Store reads (see ReadFilter): an exact filter is the decision itself,
// and no space is decided one by one; otherwise every space the filter lets
// through is decided by the Authorizer, as GetSpace would decide it. Errors
// are as for AddUserToSpace; a failed decision fails the whole page.
func (s *Service) ListSpaces(ctx context.Context, req ListSpacesRequest) (SpacePage, error) {
	q, err := req.query()
	if err != nil {
		return SpacePage{}, err
	}
	q.Filter = everySpace
	if rf, ok := s.authz.(ReadFilterer); ok {
		q.Filter = rf.ReadFilter()
	}
	var decide func(*Facts) (bool, error)
	if !q.Filter.Exact {
		decide = func(f *Facts) (bool, error) {
			err := s.decide(ctx, f)
			var e *Error
			if err == nil {
				return true, nil
			}
			if errors.As(err, &e) && e.Status < 500 {
				return false, nil
			}
			return false, err
		}
	}
	list, err := s.store.ListSpaces(ctx, q, decide)
	if err != nil {
		return SpacePage{}, asError(err)
	}
	// Who the actor is, the first check of every operation, is the
	// policy's: it decides on the actor's record with no space.
	if err := s.decide(ctx, &Facts{Query: Query{Operation: OperationRead, Actor: req.Actor}, Actor: list.Actor}); err != nil && (errors.Is(err, ErrUnauthenticated) || isInternal(err)) {
		return SpacePage{}, err
	}
	if list.Actor == nil && len(list.Spaces) > 0 {
		return SpacePage{}, Internal(errors.New("store listed spaces for an actor it did not find"))
	}
	out := SpacePage{Spaces: list.Spaces, HasMore: list.More}
	if list.More && len(list.Spaces) > 0 {
		out.NextCursor = encodeSpaceCursor(req.OrganizationID, req.Name, list.Spaces[len(list.Spaces)-1].ID)
	}
	return out, nil
}

// everySpace is the filter of an Authorizer that states none: every space
// of the account is decided one by one.
var everySpace = NewReadFilter(True, false)

// isInternal reports whether err answers 500 or 503.
func isInternal(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status >= 500
}

// SpaceQuery is what a list of spaces reads: the spaces of the actor's
// account that pass Filter, that lie in OrganizationID when set and whose
// FoldName contains Name, in space id order after After, at most Limit.
type SpaceQuery struct {
	Actor          ID
	OrganizationID ID
	// Name is already folded (FoldName); empty matches every name.
	Name   string
	After  ID
	Limit  int
	Filter ReadFilter
}

// SpaceList is what a Store's ListSpaces found: the actor's record (nil
// when Actor names no user, and then no space), the spaces in id order,
// and whether more follow the last one.
type SpaceList struct {
	Actor  *User
	Spaces []Space
	More   bool
}

// ReadFilter is the policy's read decision as a filter over the spaces of
// the actor's account. A space on which Condition does not hold is one the
// policy would not let the actor read. When Exact is set the converse holds
// too, and Condition is the decision; otherwise each space that passes it
// is decided one by one.
//
// Build one with NewReadFilter, which plans the condition's reads once: a
// policy's filter serves every list until the policy changes.
type ReadFilter struct {
	Condition Condition
	Exact     bool

	plan    []Source
	planned bool
}

// NewReadFilter returns the filter of c, with its plan made once.
func NewReadFilter(c Condition, exact bool) ReadFilter {
	return ReadFilter{Condition: c, Exact: exact, plan: c.Plan(), planned: true}
}

// Plan returns Condition.Plan(), made once by NewReadFilter (or now, for a
// filter built otherwise). The sources are shared: they must not be
// modified.
func (f ReadFilter) Plan() []Source {
	if f.planned {
		return f.plan
	}
	return f.Condition.Plan()
}

// A ReadFilterer is an Authorizer that can state its read decision as a
// ReadFilter, as package policy's engine does. The filter must agree with
// Decide on operation read: an Exact one holds on exactly the facts Decide
// allows, any other at least on those.
type ReadFilterer interface {
	ReadFilter() ReadFilter
}

// FoldName folds s for a case-insensitive match of names: each character
// is replaced by the smallest of the characters that Unicode simple case
// folding makes equal to it, so that two names are equal ignoring case
// exactly when their folded forms are equal, and one contains the other
// exactly when its folded form does.
func FoldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// A space cursor names the filters of its walk and the last space of a
// page. The name filter is kept as a digest, so that the cursor stays short
// and says nothing of it.
const spaceCursorPrefix = "s1:"

func spaceFilterDigest(org ID, name string) string {
	sum := sha256.Sum256([]byte(string(org) + "\x00" + name))
	return hex.EncodeToString(sum[:8])
}

func encodeSpaceCursor(org ID, name string, after ID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(spaceCursorPrefix + spaceFilterDigest(org, name) + ":" + string(after)))
}

func decodeSpaceCursor(cursor string, org ID, name string) (ID, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(string(raw), spaceCursorPrefix)
	if !ok {
		return "", false
	}
	digest, after, ok := strings.Cut(rest, ":")
	if !ok || digest != spaceFilterDigest(org, name) || !ID(after).Valid() {
		return "", false
	}
	return ID(after), true
}
