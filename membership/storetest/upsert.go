package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

var errDenied = errors.New("storetest: denied by the check")

func testCreate(t *testing.T, s Store) {
	seed(t, s)
	req := request(target.ID, annotator)
	req.Role.Spelling = membership.SpellingUpper
	m := upsert(t, s, req)
	if !m.ID.Valid() {
		t.Errorf("new membership ID %q is not an ID", m.ID)
	}
	want := membership.Membership{ID: m.ID, UserID: target.ID, SpaceID: space.ID, Role: annotator}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("returned membership (-want +got), the role must be canonical:\n%s", diff)
	}
	if diff := cmp.Diff(want, members(t, s)[target.ID]); diff != "" {
		t.Errorf("stored membership (-want +got):\n%s", diff)
	}
}

func testRepeat(t *testing.T, s Store) {
	seed(t, s)
	first := upsert(t, s, request(target.ID, annotator))
	again := upsert(t, s, request(target.ID, annotator))
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("repeating the add changed the membership (-first +again):\n%s", diff)
	}
	if got := len(members(t, s)); got != 2 { // the actor's and the target's
		t.Errorf("space has %d memberships, want 2", got)
	}
}

func testRoleChange(t *testing.T, s Store) {
	seed(t, s)
	first := upsert(t, s, request(target.ID, annotator))
	changed := upsert(t, s, request(target.ID, membership.Custom(reviewer.ID)))
	if changed.ID != first.ID {
		t.Errorf("role change gave ID %q, want the old ID %q", changed.ID, first.ID)
	}
	if got := members(t, s)[target.ID]; !got.Role.SameRole(membership.Custom(reviewer.ID)) || got.ID != first.ID {
		t.Errorf("stored membership is %+v, want ID %q with the reviewer role", got, first.ID)
	}
}

func testDenied(t *testing.T, s Store) {
	seed(t, s)
	before := members(t, s)
	// A deny of a new membership and of a role change.
	for _, req := range []membership.AddUserRequest{request(target.ID, annotator), request(actor.ID, orgAdmin)} {
		_, err := s.UpsertMembership(context.Background(), req, func(*membership.Facts) error { return errDenied })
		if err != errDenied {
			t.Errorf("UpsertMembership(%v) returned %v, want the check's error unchanged", req.Role, err)
		}
	}
	if diff := cmp.Diff(before, members(t, s)); diff != "" {
		t.Errorf("a denied add wrote (-before +after):\n%s", diff)
	}
}

func testCancelled(t *testing.T, s Store) {
	seed(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.UpsertMembership(ctx, request(target.ID, annotator), allow); err == nil {
		t.Error("UpsertMembership on a cancelled context succeeded")
	}
	if _, ok := members(t, s)[target.ID]; ok {
		t.Error("a cancelled add wrote a membership")
	}
}

func testCancelledDuringCheck(t *testing.T, s Store) {
	seed(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := s.UpsertMembership(ctx, request(target.ID, annotator), func(*membership.Facts) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("UpsertMembership cancelled during the check returned %v, want context.Canceled", err)
	}
	if _, ok := members(t, s)[target.ID]; ok {
		t.Error("an add cancelled during its check wrote a membership")
	}
}

func testChecksOnce(t *testing.T, s Store) {
	seed(t, s)
	calls := 0
	if _, err := s.UpsertMembership(context.Background(), request(target.ID, annotator), func(*membership.Facts) error {
		calls++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("check ran %d times on a store nobody else writes, want 1", calls)
	}
}

// testRevalidation demotes the actor while the first check runs. The check
// allowed on the old facts; the store must not write on them: it checks
// again (and the check, now seeing a demoted actor, denies) or it fails.
func testRevalidation(t *testing.T, s Store) {
	seed(t, s)
	ctx := context.Background()
	calls := 0
	_, err := s.UpsertMembership(ctx, request(target.ID, annotator), func(f *membership.Facts) error {
		calls++
		if calls == 1 {
			demoted := membership.OrganizationMember{OrganizationID: org.ID, UserID: actor.ID, Role: member}
			if err := s.PutOrganizationMember(ctx, demoted); err != nil {
				t.Errorf("demoting the actor: %v", err)
			}
			return nil
		}
		if f.ActorOrganizationRole.Role.Is(membership.RoleAdmin) {
			return nil
		}
		return errDenied
	})
	if err == nil {
		t.Fatal("the add succeeded on facts that changed before its write")
	}
	if calls > 1 && err != errDenied {
		t.Errorf("after re-checking, UpsertMembership returned %v, want the check's error", err)
	}
	if _, ok := members(t, s)[target.ID]; ok {
		t.Error("the add wrote on facts that changed before its write")
	}
}
