package membership_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/memstore"
)

// checkCase is one add through the whole stack (default policy, memstore)
// and the error class it must end in; a nil want means success.
type checkCase struct {
	name string
	req  membership.AddUserRequest
	want *membership.Error
}

// runChecks runs the cases in parallel, each on a fresh world, and asserts
// the outcome and that a denied add wrote nothing.
func runChecks(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store, svc := newWorld(t)
			before := spaceMembers(t, store, tc.req.SpaceID)
			m, err := svc.AddUserToSpace(context.Background(), tc.req)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("AddUserToSpace: %v, want success", err)
				}
				if m.UserID != tc.req.UserID || m.SpaceID != tc.req.SpaceID || !m.Role.SameRole(tc.req.Role) {
					t.Errorf("AddUserToSpace returned %+v for %+v", m, tc.req)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("AddUserToSpace: %v, want %s", err, tc.want.Code)
			}
			var e *membership.Error
			if !errors.As(err, &e) || e.Status != tc.want.Status {
				t.Errorf("error %v has status %d, want %d", err, e.Status, tc.want.Status)
			}
			if diff := cmp.Diff(before, spaceMembers(t, store, tc.req.SpaceID)); diff != "" {
				t.Errorf("a denied add wrote (-before +after):\n%s", diff)
			}
		})
	}
}

func spaceMembers(t *testing.T, s *memstore.Store, spaceID membership.ID) map[membership.ID]membership.Membership {
	t.Helper()
	out := map[membership.ID]membership.Membership{}
	for _, m := range spaceMemberList(t, s, spaceID) {
		out[m.UserID] = m
	}
	return out
}

// spaceMemberList reads every membership of a space straight from the store.
func spaceMemberList(t *testing.T, s *memstore.Store, spaceID membership.ID) []membership.Membership {
	t.Helper()
	q := membership.Query{Operation: membership.OperationList, SpaceID: spaceID, Page: &membership.PageQuery{Limit: 1000}}
	_, page, err := s.Read(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return page.Members
}

// One test per check of an add, each rule both ways.

func TestCheck1Unauthenticated(t *testing.T) {
	runChecks(t, []checkCase{
		{"no actor", add("", spaceS, target, member), membership.ErrUnauthenticated},
		{"actor that is not an ID", add("not an id", spaceS, target, member), membership.ErrUnauthenticated},
		{"actor that is no user", add(missing, spaceS, target, member), membership.ErrUnauthenticated},
		{"known actor", add(accountAdmin, spaceS, target, member), nil},
	})
}

func TestCheck2InvalidID(t *testing.T) {
	runChecks(t, []checkCase{
		{"space id", add(accountAdmin, "S", target, member), membership.ErrInvalidID},
		{"user id", add(accountAdmin, spaceS, "not base64!", member), membership.ErrInvalidID},
		{"custom role id", add(accountAdmin, spaceS, target, membership.Custom("%%%%")), membership.ErrInvalidID},
		{"space id before a missing field", add(accountAdmin, "S", "", member), membership.ErrInvalidID},
		{"valid ids", add(accountAdmin, spaceS, target, member), nil},
	})
}

func TestCheck3InvalidField(t *testing.T) {
	runChecks(t, []checkCase{
		{"no user", add(accountAdmin, spaceS, "", member), membership.ErrInvalidField},
		{"no role", add(accountAdmin, spaceS, target, membership.RoleAssignment{}), membership.ErrInvalidField},
		{"unknown predefined name", add(accountAdmin, spaceS, target, membership.Predefined(99)), membership.ErrInvalidField},
		{"custom without id", add(accountAdmin, spaceS, target, membership.Custom("")), membership.ErrInvalidField},
		{"both name and id", add(accountAdmin, spaceS, target, membership.RoleAssignment{Kind: membership.RoleKindPredefined, Name: membership.RoleAdmin, ID: binder}), membership.ErrInvalidField},
		{"well formed", add(accountAdmin, spaceS, target, customBind), nil},
	})
}

func TestCheck4SpaceNotFound(t *testing.T) {
	runChecks(t, []checkCase{
		{"no such space", add(accountAdmin, missing, target, member), membership.ErrSpaceNotFound},
		{"space of another account, even to its admin", add(userB, spaceS, target, member), membership.ErrSpaceNotFound},
		{"private space to an organization reader", add(orgReader, spaceP, target, member), membership.ErrSpaceNotFound},
		{"private space to a stranger", add(stranger, spaceP, target, member), membership.ErrSpaceNotFound},
		{"public space to a non-member of the organization", add(stranger, spaceS, target, member), membership.ErrSpaceNotFound},
		{"private space to the account admin", add(accountAdmin, spaceP, target, member), nil},
		{"private space to the organization admin", add(orgAdmin, spaceP, target, member), nil},
		{"private space to its member", add(spaceAdmin, spaceP, target, member), nil},
		{"public space to an organization reader", add(orgReader, spaceS, target, member), membership.ErrForbidden},
	})
}

func TestCheck5Forbidden(t *testing.T) {
	runChecks(t, []checkCase{
		// Predefined roles need space admin.
		{"predefined by account admin", add(accountAdmin, spaceS, target, member), nil},
		{"predefined by organization admin", add(orgAdmin, spaceS, target, member), nil},
		{"predefined by space admin", add(spaceAdmin, spaceS, target, member), nil},
		{"predefined by space member", add(spaceMember, spaceS, target, member), membership.ErrForbidden},
		{"predefined by organization reader", add(orgReader, spaceS, target, member), membership.ErrForbidden},
		{"predefined by a binder", add(orgBinder, spaceS, target, member), membership.ErrForbidden},
		// Custom roles need ROLE_BINDING_CREATE on the space.
		{"custom by account admin", add(accountAdmin, spaceS, target, customBind), nil},
		{"custom by organization admin", add(orgAdmin, spaceS, target, customBind), nil},
		{"custom by space admin", add(spaceAdmin, spaceS, target, customBind), nil},
		{"custom by organization binder", add(orgBinder, spaceS, target, customBind), nil},
		{"custom by space binder", add(spaceBinder, spaceS, target, customBind), nil},
		{"custom by space member", add(spaceMember, spaceS, target, customBind), membership.ErrForbidden},
		{"custom by organization reader", add(orgReader, spaceS, target, customBind), membership.ErrForbidden},
		// Only a space admin changes a space admin's membership.
		{"custom to a space admin by a binder", add(orgBinder, spaceS, spaceAdmin, customBind), membership.ErrForbidden},
		{"custom to a space admin by a space binder", add(spaceBinder, spaceS, spaceAdmin, customBind), membership.ErrForbidden},
		{"custom to a space member by a binder", add(orgBinder, spaceS, spaceMember, customBind), nil},
		{"custom to a space admin by the organization admin", add(orgAdmin, spaceS, spaceAdmin, customBind), nil},
	})
}

func TestCheck6UserNotFound(t *testing.T) {
	runChecks(t, []checkCase{
		{"no such user", add(accountAdmin, spaceS, missing, member), membership.ErrUserNotFound},
		{"user of another account", add(accountAdmin, spaceS, userB, member), membership.ErrUserNotFound},
		{"user of the account", add(accountAdmin, spaceS, target, member), nil},
	})
}

func TestCheck7RoleNotFound(t *testing.T) {
	runChecks(t, []checkCase{
		{"no such role", add(accountAdmin, spaceS, target, membership.Custom(missing)), membership.ErrRoleNotFound},
		{"role of another account", add(accountAdmin, spaceS, target, membership.Custom(roleB)), membership.ErrRoleNotFound},
		{"role of the account", add(accountAdmin, spaceS, target, membership.Custom(reviewer)), nil},
	})
}

func TestCheck8UserNotInOrganization(t *testing.T) {
	runChecks(t, []checkCase{
		{"user outside the organization", add(accountAdmin, spaceS, stranger, member), membership.ErrUserNotInOrganization},
		{"account admin outside the organization", add(orgAdmin, spaceS, accountAdmin, member), membership.ErrUserNotInOrganization},
		{"user in the organization", add(accountAdmin, spaceS, target, member), nil},
	})
}

func TestCheck9AnnotatorRoleRequired(t *testing.T) {
	runChecks(t, []checkCase{
		{"annotator given member", add(accountAdmin, spaceS, annotatorU, member), membership.ErrAnnotatorRoleRequired},
		{"annotator given a custom role", add(accountAdmin, spaceS, annotatorU, membership.Custom(reviewer)), membership.ErrAnnotatorRoleRequired},
		{"annotator given annotator", add(accountAdmin, spaceS, annotatorU, annotator), nil},
	})
}

func TestCheck10AnnotatorRoleNotAllowed(t *testing.T) {
	runChecks(t, []checkCase{
		{"member given annotator", add(accountAdmin, spaceS, target, annotator), membership.ErrAnnotatorRoleNotAllowed},
		{"member given read-only", add(accountAdmin, spaceS, target, readOnly), nil},
	})
}

// TestCheckOrder pairs failures so that each must lose to the earlier check.
func TestCheckOrder(t *testing.T) {
	runChecks(t, []checkCase{
		{"1 before 2", add("", "bad", target, member), membership.ErrUnauthenticated},
		{"2 before 3", add(accountAdmin, "bad", "", membership.RoleAssignment{}), membership.ErrInvalidID},
		{"1 before 4", add(missing, missing, target, member), membership.ErrUnauthenticated},
		{"4 before 5", add(orgReader, spaceP, target, member), membership.ErrSpaceNotFound},
		{"4 before 6", add(orgReader, spaceP, missing, member), membership.ErrSpaceNotFound},
		{"5 before 6: a caller without authority learns nothing of users", add(orgReader, spaceS, missing, member), membership.ErrForbidden},
		{"5 before 7: nor of roles", add(spaceMember, spaceS, target, membership.Custom(missing)), membership.ErrForbidden},
		{"6 before 7", add(accountAdmin, spaceS, missing, membership.Custom(missing)), membership.ErrUserNotFound},
		{"7 before 8", add(accountAdmin, spaceS, stranger, membership.Custom(missing)), membership.ErrRoleNotFound},
		{"8 before 9", add(accountAdmin, spaceS, stranger, annotator), membership.ErrUserNotInOrganization},
		{"8 before 10", add(orgAdmin, spaceS, accountAdmin, annotator), membership.ErrUserNotInOrganization},
	})
}

func TestSpellings(t *testing.T) {
	t.Parallel()
	_, svc := newWorld(t)
	for _, tc := range []struct {
		name, body, want string
	}{
		{"lower predefined", `{"user_id":"` + string(target) + `","role":{"type":"predefined","name":"read-only"}}`, `{"type":"predefined","name":"read-only"}`},
		{"upper predefined", `{"user_id":"` + string(target) + `","role":{"type":"PREDEFINED","name":"READ_ONLY"}}`, `{"type":"PREDEFINED","name":"READ_ONLY"}`},
		{"lower custom", `{"user_id":"` + string(target) + `","role":{"type":"custom","id":"` + string(reviewer) + `"}}`, `{"type":"custom","id":"` + string(reviewer) + `","name":"Reviewer"}`},
		{"upper custom", `{"user_id":"` + string(target) + `","role":{"type":"CUSTOM","id":"` + string(reviewer) + `"}}`, `{"type":"CUSTOM","id":"` + string(reviewer) + `","name":"Reviewer"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := membership.ParseAddUserRequest(accountAdmin, string(spaceS), []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			m, err := svc.AddUserToSpace(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Role.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("response role %s, want %s", got, tc.want)
			}
		})
	}
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	store, svc := newWorld(t)
	ctx := context.Background()
	created, err := svc.AddUserToSpace(ctx, add(accountAdmin, spaceS, target, member))
	if err != nil {
		t.Fatal(err)
	}
	if !created.ID.Valid() {
		t.Errorf("new membership id %q is not an ID", created.ID)
	}
	repeated, err := svc.AddUserToSpace(ctx, add(orgAdmin, spaceS, target, member))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(created, repeated); diff != "" {
		t.Errorf("repeating the add changed the membership (-created +repeated):\n%s", diff)
	}
	changed, err := svc.AddUserToSpace(ctx, add(accountAdmin, spaceS, target, customBind))
	if err != nil {
		t.Fatal(err)
	}
	want := membership.Membership{ID: created.ID, UserID: target, SpaceID: spaceS, Role: customBind}
	want.Role.DisplayName = "Binder"
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("role change (-want +got):\n%s", diff)
	}
	if got := spaceMembers(t, store, spaceS)[target]; got.ID != created.ID || !got.Role.SameRole(customBind) {
		t.Errorf("stored %+v, want id %s with the custom role", got, created.ID)
	}
}

// TestConcurrentAdds races many adds of the same and of different users
// through the whole stack: exactly one membership per (space, user).
func TestConcurrentAdds(t *testing.T) {
	t.Parallel()
	store, svc := newWorld(t)
	users := []membership.ID{target, annotatorU, spaceMember, orgReader}
	rolesFor := func(u membership.ID, i int) membership.RoleAssignment {
		if u == annotatorU {
			return annotator
		}
		return []membership.RoleAssignment{member, readOnly, customBind}[i%3]
	}
	const perUser = 16
	got := make([][]membership.ID, len(users))
	var wg sync.WaitGroup
	for ui, u := range users {
		got[ui] = make([]membership.ID, perUser)
		for i := range perUser {
			wg.Go(func() {
				m, err := svc.AddUserToSpace(context.Background(), add(accountAdmin, spaceS, u, rolesFor(u, i)))
				if err != nil {
					t.Errorf("add %s #%d: %v", u, i, err)
				}
				got[ui][i] = m.ID
			})
		}
	}
	wg.Wait()
	stored := spaceMembers(t, store, spaceS)
	if list := spaceMemberList(t, store, spaceS); len(list) != len(stored) {
		t.Fatalf("%d memberships for %d users: a (space, user) pair is doubled", len(list), len(stored))
	}
	for ui, u := range users {
		for i, mid := range got[ui] {
			if mid != stored[u].ID {
				t.Errorf("add %s #%d returned id %s, stored %s", u, i, mid, stored[u].ID)
			}
		}
	}
}

// Fail closed: failures of the policy or the store never allow and never
// write.

type authorizerFunc func(context.Context, *membership.Facts) (membership.Decision, error)

func (f authorizerFunc) Decide(ctx context.Context, facts *membership.Facts) (membership.Decision, error) {
	return f(ctx, facts)
}

func TestFailClosedOnPolicyFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		d    membership.Decision
		err  error
		want *membership.Error
	}{
		{"error with allow", membership.Decision{Allow: true}, errors.New("boom"), membership.ErrInternal},
		{"allow with violations", membership.Decision{Allow: true, Violations: []membership.Violation{{Code: membership.CodeForbidden}}}, nil, membership.ErrInternal},
		{"deny without violations", membership.Decision{}, nil, membership.ErrInternal},
		{"violation without code", membership.Decision{Violations: []membership.Violation{{Rule: "r"}}}, nil, membership.ErrInternal},
		{"clean deny", membership.Decision{Violations: []membership.Violation{{Code: membership.CodeForbidden}}}, nil, membership.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store, _ := newWorld(t)
			svc, err := membership.NewService(store, authorizerFunc(func(context.Context, *membership.Facts) (membership.Decision, error) {
				return tc.d, tc.err
			}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.AddUserToSpace(context.Background(), add(accountAdmin, spaceS, target, member))
			if !errors.Is(err, tc.want) {
				t.Fatalf("AddUserToSpace: %v, want %s", err, tc.want.Code)
			}
			if _, ok := spaceMembers(t, store, spaceS)[target]; ok {
				t.Error("a failed decision wrote a membership")
			}
		})
	}
}

// storeFunc is a Store whose writes are a function, to inject failures;
// it has nothing to read.
type storeFunc func(context.Context, membership.Query, func(*membership.Facts) (membership.Change, error)) (membership.Written, error)

func (f storeFunc) Write(ctx context.Context, q membership.Query, decide func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
	return f(ctx, q, decide)
}

func (f storeFunc) Read(context.Context, membership.Query) (*membership.Facts, membership.Page, error) {
	return nil, membership.Page{}, errors.New("storeFunc reads nothing")
}

func (f storeFunc) ListSpaces(context.Context, membership.SpaceQuery, func(*membership.Facts) (bool, error)) (membership.SpaceList, error) {
	return membership.SpaceList{}, errors.New("storeFunc lists nothing")
}

func (f storeFunc) AuditLog(context.Context, membership.AuditQuery) (membership.AuditPage, error) {
	return membership.AuditPage{}, errors.New("storeFunc keeps no audit log")
}

func TestFailClosedOnStoreFailure(t *testing.T) {
	t.Parallel()
	allow := authorizerFunc(func(context.Context, *membership.Facts) (membership.Decision, error) {
		return membership.Decision{Allow: true}, nil
	})
	boom := errors.New("disk on fire")
	for _, tc := range []struct {
		name  string
		store storeFunc
		want  *membership.Error
		cause error
	}{
		{"store error", func(context.Context, membership.Query, func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
			return membership.Written{}, boom
		}, membership.ErrInternal, boom},
		{"store unavailable", func(context.Context, membership.Query, func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
			return membership.Written{}, fmt.Errorf("pool exhausted: %w", membership.ErrUnavailable)
		}, membership.ErrUnavailable, membership.ErrUnavailable},
		{"store that skips the decision", func(_ context.Context, q membership.Query, _ func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
			return membership.Written{Space: membership.Membership{ID: id("M"), UserID: q.UserID, SpaceID: q.SpaceID, Role: q.Role}}, nil
		}, membership.ErrInternal, nil},
		{"store cancelled", func(context.Context, membership.Query, func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
			return membership.Written{}, context.Canceled
		}, membership.ErrInternal, context.Canceled},
		{"store out of time", func(context.Context, membership.Query, func(*membership.Facts) (membership.Change, error)) (membership.Written, error) {
			return membership.Written{}, fmt.Errorf("waiting for a connection: %w", context.DeadlineExceeded)
		}, membership.ErrUnavailable, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, err := membership.NewService(tc.store, allow)
			if err != nil {
				t.Fatal(err)
			}
			m, err := svc.AddUserToSpace(context.Background(), add(accountAdmin, spaceS, target, member))
			if !errors.Is(err, tc.want) {
				t.Fatalf("AddUserToSpace: %v, want %s", err, tc.want.Code)
			}
			if tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Errorf("error %v does not keep its cause %v", err, tc.cause)
			}
			if m != (membership.Membership{}) {
				t.Errorf("a failed add returned the membership %+v", m)
			}
			if p := membership.ProblemFor(err); p.Detail == boom.Error() {
				t.Errorf("the problem detail leaks the cause: %q", p.Detail)
			}
		})
	}
}

func TestNewServiceNeedsBoth(t *testing.T) {
	t.Parallel()
	if _, err := membership.NewService(nil, nil); err == nil {
		t.Error("NewService(nil, nil) succeeded")
	}
}
