package policy

import (
	"fmt"
	"sync"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
)

func TestCacheSharesItsSizeOut(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 3, 64, 100, DefaultCacheSize} {
		c := newDecisionCache(size)
		total := 0
		for i := range c.shards {
			if c.shards[i].capacity < 1 {
				t.Errorf("size %d: shard %d holds nothing", size, i)
			}
			total += c.shards[i].capacity
		}
		if total != size {
			t.Errorf("size %d: shards hold %d", size, total)
		}
	}
}

// TestCacheKeepsWhatIsUsed: when a full cache makes room, the entries in
// use stay and the others go.
func TestCacheKeepsWhatIsUsed(t *testing.T) {
	t.Parallel()
	c := newShardedCache(4, 1)
	key := func(i int) []byte { return fmt.Appendf(nil, "key-%d", i) }
	for i := range 4 {
		c.put(key(i), membership.Decision{Allow: true})
	}
	for i := 4; i < 12; i++ {
		for range 3 {
			c.get(key(0))
			c.get(key(2))
		}
		c.put(key(i), membership.Decision{})
	}
	for _, i := range []int{0, 2} {
		if _, ok := c.get(key(i)); !ok {
			t.Errorf("key %d, used all along, was evicted", i)
		}
	}
	for _, i := range []int{1, 3, 4, 5, 6, 7, 8, 9} {
		if _, ok := c.get(key(i)); ok {
			t.Errorf("key %d, never used and long ago put, is still there", i)
		}
	}
	if n := c.len(); n > 4 {
		t.Errorf("cache holds %d entries, want at most 4", n)
	}
}

// TestCacheConcurrentUse: lookups and inserts from many goroutines, under
// -race, keep the cache's answers right and its size bounded.
func TestCacheConcurrentUse(t *testing.T) {
	t.Parallel()
	c := newDecisionCache(128)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := (i*7 + g) % 300
				key := fmt.Appendf(nil, "k%d", k)
				want := membership.Decision{Allow: k%2 == 0}
				if d, ok := c.get(key); ok && d.Allow != want.Allow {
					t.Errorf("key %d: got %+v", k, d)
					return
				}
				c.put(key, want)
			}
		})
	}
	wg.Wait()
	if n := c.len(); n > 128 {
		t.Errorf("cache holds %d entries, want at most 128", n)
	}
}
