package policy

import (
	"cmp"
	"hash/maphash"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/spaceauthz/spaceauthz/membership"
)

// DefaultCacheSize is the number of decisions (and decided rules) an Engine
// remembers unless WithDecisionCache says otherwise.
const DefaultCacheSize = 16384

// maxShards bounds the shards of a cache; a small cache has fewer, so that
// each holds at least one entry.
const maxShards = 64

// decisionCache remembers decisions under their keys (see keys.go). It is
// read far more often than written, from every core at once, so a lookup
// takes no lock and writes no shared memory in the common case: each shard
// keeps its entries in an immutable map behind an atomic pointer, and new
// entries wait in a small locked map until enough lookups have had to look
// there too; then the two are merged into a new immutable map (the scheme
// of sync.Map, with string keys looked up from a byte slice without
// allocating).
//
// Eviction keeps what is used: every entry counts its hits up to a small
// limit; when a full shard makes room, the entries with the fewest hits go,
// and the survivors' counts are halved, so that what was popular long ago
// fades.
type decisionCache struct {
	seed   maphash.Seed
	shards []cacheShard
}

type cacheShard struct {
	read    atomic.Pointer[map[string]*cacheEntry]
	pending atomic.Int32 // len(dirty), readable without the lock

	mu       sync.Mutex
	dirty    map[string]*cacheEntry
	misses   int // lookups since the last merge that had to take the lock
	capacity int
	inserted uint64

	// Keep shards on separate cache lines: two cores reading two shards
	// must not contend.
	_ [64]byte
}

type cacheEntry struct {
	d    membership.Decision
	hits atomic.Uint32 // up to maxHits
	// seq orders the entries of a shard by insertion: between two entries
	// used as little, the older goes first.
	seq uint64
}

// maxHits caps the hit count, so that a popular entry stops writing to
// memory that every core reads.
const maxHits = 7

// newDecisionCache returns a cache of at most size entries, or nil when
// size is not positive.
func newDecisionCache(size int) *decisionCache {
	if size <= 0 {
		return nil
	}
	return newShardedCache(size, min(maxShards, size))
}

func newShardedCache(size, n int) *decisionCache {
	c := &decisionCache{seed: maphash.MakeSeed(), shards: make([]cacheShard, n)}
	for i := range c.shards {
		s := &c.shards[i]
		// Share the size out so that the shards add up to exactly size.
		s.capacity = size / n
		if i < size%n {
			s.capacity++
		}
		s.read.Store(&map[string]*cacheEntry{})
		s.dirty = map[string]*cacheEntry{}
	}
	return c
}

func (c *decisionCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%uint64(len(c.shards))]
}

// get returns the remembered decision for key. The decision's Violations
// are shared: callers copy before handing them out.
func (c *decisionCache) get(key []byte) (membership.Decision, bool) {
	s := c.shard(key)
	if e, ok := (*s.read.Load())[string(key)]; ok {
		e.hit()
		return e.d, true
	}
	if s.pending.Load() == 0 {
		return membership.Decision{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.dirty[string(key)]
	if !ok {
		// Merged meanwhile?
		e, ok = (*s.read.Load())[string(key)]
	}
	// Merge once the locked lookups have cost about as much as copying the
	// shard will, as sync.Map does.
	if s.misses++; len(s.dirty) > 0 && s.misses >= len(*s.read.Load())+len(s.dirty) {
		s.merge()
	}
	if !ok {
		return membership.Decision{}, false
	}
	e.hit()
	return e.d, true
}

// hit counts a hit. Two cores may both add one and lose one of the two: the
// count is a hint, not a tally.
func (e *cacheEntry) hit() {
	if h := e.hits.Load(); h < maxHits {
		e.hits.Store(h + 1)
	}
}

// put remembers d under key.
func (c *decisionCache) put(key []byte, d membership.Decision) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	read := *s.read.Load()
	if _, ok := read[string(key)]; ok {
		return
	}
	s.inserted++
	s.dirty[string(key)] = &cacheEntry{d: d, seq: s.inserted}
	s.pending.Store(int32(len(s.dirty)))
	if len(read)+len(s.dirty) > s.capacity {
		s.merge()
	}
}

// merge moves the waiting entries into a new immutable map, evicting the
// least used entries when the shard is over capacity: down to 7/8 of it, so
// that a full shard does not sort its entries on every insert. s.mu must be
// held.
func (s *cacheShard) merge() {
	read := *s.read.Load()
	room := s.capacity - len(s.dirty)
	if len(read) > room {
		room = s.capacity - s.capacity/8 - len(s.dirty)
	}
	room = max(room, 0)
	next := make(map[string]*cacheEntry, min(len(read), room)+len(s.dirty))
	if len(read) <= room {
		maps.Copy(next, read)
	} else {
		type kept struct {
			key   string
			entry *cacheEntry
		}
		all := make([]kept, 0, len(read))
		for k, e := range read {
			all = append(all, kept{k, e})
		}
		slices.SortFunc(all, func(a, b kept) int {
			return cmp.Or(cmp.Compare(b.entry.hits.Load(), a.entry.hits.Load()), cmp.Compare(b.entry.seq, a.entry.seq))
		})
		for _, k := range all[:room] {
			k.entry.hits.Store(k.entry.hits.Load() / 2)
			next[k.key] = k.entry
		}
	}
	for k, e := range s.dirty {
		if len(next) >= s.capacity {
			break
		}
		next[k] = e
	}
	s.read.Store(&next)
	clear(s.dirty)
	s.pending.Store(0)
	s.misses = 0
}

// len counts the entries, for tests.
func (c *decisionCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(*s.read.Load()) + len(s.dirty)
		s.mu.Unlock()
	}
	return n
}
