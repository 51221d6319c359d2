package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The shape of testChangelogUnderConcurrentWrites: writers of one account,
// each with a user of its own, for rounds of changes; the reader reads
// changelogPage entries at a time.
const (
	changelogWriters = 4
	changelogRounds  = 12
	changelogPage    = 5
)

// loggedWrite is one write of a writer's round, and whether it changes
// something, and so commits an entry.
type loggedWrite struct {
	q       membership.Query
	decide  decider
	changes bool
}

// writerRound is what writer k does to its user in a round: an add, the
// same add again (no change), an add to the red team's space, then for an
// even k the organization removal with its cascade and the organization
// add back, for an odd k a role change and both removes.
func writerRound(k int, user membership.ID) []loggedWrite {
	inRedTeam := addQuery(user, member)
	inRedTeam.SpaceID = redTeam.ID
	outOfRedTeam := removeQuery(user)
	outOfRedTeam.SpaceID = redTeam.ID
	round := []loggedWrite{
		{addQuery(user, annotator), put, true},
		{addQuery(user, annotator), put, false},
		{inRedTeam, put, true},
	}
	if k%2 == 0 {
		return append(round,
			loggedWrite{orgRemoveQuery(user), cascade, true},
			loggedWrite{orgAddQuery(user, member), orgPut, true})
	}
	return append(round,
		loggedWrite{addQuery(user, member), put, true},
		loggedWrite{removeQuery(user), remove, true},
		loggedWrite{outOfRedTeam, remove, true})
}

// testChangelogUnderConcurrentWrites: a reader that follows the changelog
// while writers of the account commit, each page after the last entry it
// saw, until the writers are done and one more page is empty, sees every
// entry exactly once and in commit order: the entries of the final log,
// one for each write the writers were told changed something, each as
// that write returned it.
func testChangelogUnderConcurrentWrites(t *testing.T, s Store) {
	seed(t, s)
	users := newUsers(t, s, "log", changelogWriters)
	var (
		wg       sync.WaitGroup
		done     atomic.Bool
		mu       sync.Mutex
		returned = map[membership.ID]membership.AuditEntry{}
		changes  atomic.Int64
	)
	for k, user := range users {
		wg.Go(func() {
			for round := range changelogRounds {
				for i, lw := range writerRound(k, user) {
					w, err := s.Write(context.Background(), lw.q, lw.decide)
					switch {
					case err != nil:
						t.Errorf("writer %d, round %d, write %d: %v", k, round, i, err)
					case lw.changes && w.Entry.ID == "":
						t.Errorf("writer %d, round %d, write %d changed something and returned no entry", k, round, i)
					case !lw.changes && !cmp.Equal(w.Entry, membership.AuditEntry{}):
						t.Errorf("writer %d, round %d, write %d changed nothing and returned the entry %+v", k, round, i, w.Entry)
					case lw.changes:
						changes.Add(1)
						mu.Lock()
						returned[w.Entry.ID] = w.Entry
						mu.Unlock()
					}
				}
			}
		})
	}
	go func() {
		wg.Wait()
		done.Store(true)
	}()

	var (
		seen  []membership.AuditEntry
		after int64
	)
	for reads := 0; ; reads++ {
		if reads > 1_000_000 {
			t.Fatal("the reader never caught up with the writers")
		}
		finished := done.Load() // before the read: an empty page then is the end
		page := auditPage(t, s, membership.AuditQuery{Actor: actor.ID, Ascending: true, After: after, Limit: changelogPage})
		for _, e := range page.Entries {
			if e.Position <= after {
				t.Fatalf("the changelog after position %d returned position %d", after, e.Position)
			}
			after = e.Position
		}
		seen = append(seen, page.Entries...)
		if finished && len(page.Entries) == 0 && !page.More {
			break
		}
	}
	wg.Wait()

	if diff := cmp.Diff(changelog(t, s, actor.ID), seen, entryOptions); diff != "" {
		t.Errorf("the entries the reader saw differ from the final changelog (-final +seen):\n%s", diff)
	}
	ids := map[membership.ID]bool{}
	for _, e := range seen {
		if ids[e.ID] {
			t.Errorf("the reader saw the entry %s twice", e.ID)
		}
		ids[e.ID] = true
		if diff := cmp.Diff(returned[e.ID], e, entryOptions); diff != "" {
			t.Errorf("the entry at position %d, as its write returned it and as the reader saw it (-returned +seen):\n%s", e.Position, diff)
		}
	}
	if int64(len(seen)) != changes.Load() {
		t.Errorf("the reader saw %d entries; the writers were told of %d changes", len(seen), changes.Load())
	}
}
