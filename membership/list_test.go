package membership_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

func list(actor, spaceID membership.ID, limit int, cursor string) membership.ListMembersRequest {
	return membership.ListMembersRequest{Actor: actor, SpaceID: spaceID, Limit: limit, Cursor: cursor}
}

func TestListChecks(t *testing.T) {
	t.Parallel()
	_, svc := newWorld(t)
	for _, tc := range []struct {
		name string
		req  membership.ListMembersRequest
		want *membership.Error
	}{
		{"no actor", list("", spaceS, 0, ""), membership.ErrUnauthenticated},
		{"actor that is no user", list(missing, spaceS, 0, ""), membership.ErrUnauthenticated},
		{"space id", list(accountAdmin, "S", 0, ""), membership.ErrInvalidID},
		{"limit too large", list(accountAdmin, spaceS, 101, ""), membership.ErrInvalidField},
		{"negative limit", list(accountAdmin, spaceS, -1, ""), membership.ErrInvalidField},
		{"cursor not issued", list(accountAdmin, spaceS, 0, "bm90IGEgY3Vyc29y"), membership.ErrInvalidField},
		{"no such space", list(accountAdmin, missing, 0, ""), membership.ErrSpaceNotFound},
		{"space of another account", list(userB, spaceS, 0, ""), membership.ErrSpaceNotFound},
		{"private space to an organization reader", list(orgReader, spaceP, 0, ""), membership.ErrSpaceNotFound},
		{"private space to a stranger", list(stranger, spaceP, 0, ""), membership.ErrSpaceNotFound},
		{"public space to a stranger", list(stranger, spaceS, 0, ""), membership.ErrSpaceNotFound},
		{"1 before 2", list("", "bad", 0, ""), membership.ErrUnauthenticated},
		{"2 before 3", list(accountAdmin, "bad", 500, ""), membership.ErrInvalidID},
		{"3 before 4", list(stranger, spaceP, 500, ""), membership.ErrInvalidField},
		{"public space to an organization reader", list(orgReader, spaceS, 0, ""), nil},
		{"private space to its member", list(spaceAdmin, spaceP, 0, ""), nil},
		{"private space to the account admin", list(accountAdmin, spaceP, 0, ""), nil},
		{"private space to the organization admin", list(orgAdmin, spaceP, 0, ""), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, err := svc.ListSpaceMembers(context.Background(), tc.req)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ListSpaceMembers: %v", err)
				}
				if len(page.Members) == 0 {
					t.Error("an allowed list is empty")
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("ListSpaceMembers: %v, want %s", err, tc.want.Code)
			}
			if page.Members != nil || page.NextCursor != "" {
				t.Errorf("a refused list answered %+v", page)
			}
		})
	}
}

// TestListPages walks the space a page at a time: every member once, in
// user id order, roles upper-case, the cursor absent on the last page and
// refused for another space.
func TestListPages(t *testing.T) {
	t.Parallel()
	_, svc := newWorld(t)
	ctx := context.Background()
	var (
		seen   []membership.ID
		cursor string
	)
	for pages := 1; ; pages++ {
		page, err := svc.ListSpaceMembers(ctx, list(accountAdmin, spaceS, 1, cursor))
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Members) != 1 {
			t.Fatalf("page %d holds %d members, want 1", pages, len(page.Members))
		}
		m := page.Members[0]
		if m.SpaceID != spaceS || m.Role.Spelling != membership.SpellingUpper {
			t.Errorf("member %+v", m)
		}
		seen = append(seen, m.UserID)
		if page.HasMore != (page.NextCursor != "") {
			t.Errorf("has_more %v with cursor %q", page.HasMore, page.NextCursor)
		}
		if !page.HasMore {
			break
		}
		cursor = page.NextCursor
	}
	want := []membership.ID{spaceAdmin, spaceBinder, spaceMember}
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Errorf("walk saw %v, want %v", seen, want)
	}
	first, err := svc.ListSpaceMembers(ctx, list(accountAdmin, spaceS, 1, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ListSpaceMembers(ctx, list(accountAdmin, spaceP, 1, first.NextCursor)); !errors.Is(err, membership.ErrInvalidField) {
		t.Errorf("a cursor of another space: %v, want invalid_field", err)
	}
	all, err := svc.ListSpaceMembers(ctx, list(accountAdmin, spaceS, 0, ""))
	if err != nil || len(all.Members) != 3 || all.HasMore {
		t.Errorf("default page = %+v, %v; want all three members", all, err)
	}
}

func TestMemberPageJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		page membership.MemberPage
		want string
	}{
		{membership.MemberPage{}, `{"space_memberships":[],"pagination":{"has_more":false}}`},
		{membership.MemberPage{
			Members:    []membership.Membership{{ID: id("M"), UserID: id("U"), SpaceID: id("S"), Role: membership.RoleAssignment{Kind: membership.RoleKindPredefined, Name: membership.RoleReadOnly, Spelling: membership.SpellingUpper}}},
			NextCursor: "abc", HasMore: true,
		}, `{"space_memberships":[{"id":"TQ==","user_id":"VQ==","space_id":"Uw==","role":{"type":"PREDEFINED","name":"READ_ONLY"}}],"pagination":{"next_cursor":"abc","has_more":true}}`},
	} {
		got, err := json.Marshal(tc.page)
		if err != nil || string(got) != tc.want {
			t.Errorf("json = %s, %v; want %s", got, err, tc.want)
		}
	}
}

func TestParseListMembersRequest(t *testing.T) {
	t.Parallel()
	_, svc := newWorld(t)
	page, err := svc.ListSpaceMembers(context.Background(), list(accountAdmin, spaceS, 1, ""))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 5000)
	for _, tc := range []struct {
		name, query string
		want        *membership.Error
		field       string
	}{
		{"no parameters", "", nil, ""},
		{"limit", "limit=7", nil, ""},
		{"limit and cursor", "limit=2&cursor=" + url.QueryEscape(page.NextCursor), nil, ""},
		{"limit zero", "limit=0", membership.ErrInvalidField, "limit"},
		{"limit 101", "limit=101", membership.ErrInvalidField, "limit"},
		{"limit not a number", "limit=ten", membership.ErrInvalidField, "limit"},
		{"limit with a sign", "limit=%2B5", nil, ""},
		{"limit twice", "limit=1&limit=2", membership.ErrInvalidField, "limit"},
		{"empty cursor", "cursor=", membership.ErrInvalidField, "cursor"},
		{"cursor not issued", "cursor=abc", membership.ErrInvalidField, "cursor"},
		{"unknown parameter", "offset=3", membership.ErrInvalidField, "offset"},
		{"long unknown parameter", long + "=1", membership.ErrInvalidField, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = membership.ParseListMembersRequest(accountAdmin, string(spaceS), params)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ParseListMembersRequest(%q): %v", tc.query, err)
				}
				return
			}
			var e *membership.Error
			if !errors.As(err, &e) || !errors.Is(err, tc.want) {
				t.Fatalf("ParseListMembersRequest(%q): %v, want %s", tc.query, err, tc.want.Code)
			}
			if tc.field != "" && e.Field != tc.field {
				t.Errorf("field %q, want %q", e.Field, tc.field)
			}
			if len(e.Detail) > 200 || len(e.Field) > 200 {
				t.Errorf("the error echoes %d bytes of detail and %d of field", len(e.Detail), len(e.Field))
			}
		})
	}
	if _, err := membership.ParseListMembersRequest(accountAdmin, "not an id", nil); !errors.Is(err, membership.ErrInvalidID) {
		t.Errorf("bad space id: %v", err)
	}
}
