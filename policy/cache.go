package policy

import (
	"sync"

	"github.com/spaceauthz/spaceauthz/membership"
)

// DefaultCacheSize is the number of decisions an Engine remembers unless
// WithDecisionCache says otherwise.
const DefaultCacheSize = 16384

// decisionCache remembers the decisions of one compiled policy, keyed by the
// part of the input that the policy reads (see keys.go). Errors are never
// remembered. It holds at most size entries; when full, an arbitrary entry
// makes room, which keeps memory bounded without bookkeeping on hits.
type decisionCache struct {
	nodes []node
	size  int

	mu        sync.RWMutex
	decisions map[string]membership.Decision
}

// newDecisionCache returns the cache for a policy with the given read set,
// or nil when decisions cannot be remembered: the policy is
// nondeterministic, or the size is zero.
func newDecisionCache(rs readSet, size int) *decisionCache {
	if rs.nondeterministic || size <= 0 {
		return nil
	}
	return &decisionCache{
		nodes:     keyNodes(rs.paths),
		size:      size,
		decisions: make(map[string]membership.Decision),
	}
}

// key appends the decision key of f to b.
func (c *decisionCache) key(b []byte, f *membership.Facts) []byte {
	for _, n := range c.nodes {
		b = writeNode(b, f, n)
	}
	return b
}

// get returns the remembered decision for key. The decision's Violations
// are shared: callers copy before handing them out.
func (c *decisionCache) get(key []byte) (membership.Decision, bool) {
	c.mu.RLock()
	d, ok := c.decisions[string(key)]
	c.mu.RUnlock()
	return d, ok
}

func (c *decisionCache) put(key []byte, d membership.Decision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.decisions) >= c.size {
		for k := range c.decisions {
			delete(c.decisions, k)
			break
		}
	}
	c.decisions[string(key)] = d
}
