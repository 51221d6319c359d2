package storetest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

// testPages: pages come in user id order (byte order), hold at most their
// limit, start after the user given, and say whether more follow.
func testPages(t *testing.T, s Store) {
	seed(t, s)
	users := newUsers(t, s, "p", 9)
	for _, u := range users {
		upsert(t, s, u, member)
	}
	all := walk(t, s, 100)
	if len(all) != 10 { // the actor's and the nine
		t.Fatalf("the space lists %d memberships, want 10", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b membership.Membership) int {
		return compare(a.UserID, b.UserID)
	}) {
		t.Errorf("memberships not in user id order: %v", userIDs(all))
	}
	for _, limit := range []int{1, 3, 4, 10, 11} {
		if got := walk(t, s, limit); !slices.Equal(userIDs(got), userIDs(all)) {
			t.Errorf("pages of %d list %v, want %v", limit, userIDs(got), userIDs(all))
		}
	}
	_, page, err := s.Read(context.Background(), listQuery(all[3].UserID, 2))
	if err != nil {
		t.Fatal(err)
	}
	if want := userIDs(all[4:6]); !slices.Equal(userIDs(page.Members), want) || !page.More {
		t.Errorf("page after %s = %v (more %v), want %v and more", all[3].UserID, userIDs(page.Members), page.More, want)
	}
	_, page, err = s.Read(context.Background(), listQuery(all[9].UserID, 5))
	if err != nil || len(page.Members) != 0 || page.More {
		t.Errorf("page after the last = %+v, %v; want an empty last page", page, err)
	}
	// A page of a user who is no member starts after where they would be.
	_, page, err = s.Read(context.Background(), listQuery(id("User:p004x"), 100))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page.Members {
		if compare(m.UserID, id("User:p004x")) <= 0 {
			t.Errorf("page after a non-member lists %s", m.UserID)
		}
	}
}

// testPageWalkUnderWrites: a walk of small pages while other memberships
// are added and removed sees every membership present for the whole walk
// exactly once.
func testPageWalkUnderWrites(t *testing.T, s Store) {
	seed(t, s)
	stable := newUsers(t, s, "s", 40)
	churn := newUsers(t, s, "r", 40)
	for _, u := range stable {
		upsert(t, s, u, member)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; !stop.Load(); i += 2 {
				u := churn[i%len(churn)]
				if i%3 == 0 {
					if _, err := writeSpace(context.Background(), s, removeQuery(u), remove); err != nil && err != membership.ErrMembershipNotFound {
						t.Errorf("churn remove: %v", err)
						return
					}
					continue
				}
				if _, err := writeSpace(context.Background(), s, addQuery(u, member), put); err != nil {
					t.Errorf("churn add: %v", err)
					return
				}
			}
		})
	}
	for range 5 {
		seen := map[membership.ID]int{}
		got := walk(t, s, 7)
		for i, m := range got {
			seen[m.UserID]++
			if i > 0 && compare(got[i-1].UserID, m.UserID) >= 0 {
				t.Errorf("the walk went back: %s after %s", m.UserID, got[i-1].UserID)
			}
		}
		for _, u := range append(stable, actor.ID) {
			if seen[u] != 1 {
				t.Errorf("a member for the whole walk was seen %d times", seen[u])
			}
		}
	}
	stop.Store(true)
	wg.Wait()
}

func compare(a, b membership.ID) int { return strings.Compare(string(a), string(b)) }

func userIDs(ms []membership.Membership) []membership.ID {
	out := make([]membership.ID, len(ms))
	for i, m := range ms {
		out[i] = m.UserID
	}
	return out
}
