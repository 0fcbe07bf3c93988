package storage

import (
	"sync"
	"time"
)

// credCache holds vended credentials per cache key (a session id) so a
// page that asks for credentials on every load does not cost an STS call,
// and a disk write in MinIO, each time. It is bounded: stale entries are
// dropped when met or when the cache is full, and a full cache of fresh
// entries evicts an arbitrary one (Go randomises map iteration), which
// costs that session one extra STS call and nothing else.
//
// It is deliberately small and clock-free: callers pass "now", so tests
// drive it with a fake clock.
type credCache struct {
	mu      sync.Mutex
	limit   int
	entries map[string]cacheEntry
	// forgets counts forget calls. A vend reads it before calling STS and
	// hands it back to put; if it changed meanwhile, the session may have
	// been revoked while the call was in flight, and its result is
	// returned to that caller but not kept.
	forgets uint64
}

// cacheEntry is one session's credentials and when to stop reusing them.
type cacheEntry struct {
	sub       string // the user the credentials were vended for
	creds     Credentials
	refreshAt time.Time
}

func newCredCache(limit int) *credCache {
	return &credCache{limit: limit, entries: make(map[string]cacheEntry)}
}

// get returns the credentials cached under key if they were vended for sub
// and are not due for refresh. The sub check means a caller that reuses a
// key across users gets a miss, never another user's credentials.
func (c *credCache) get(key, sub string, now time.Time) (Credentials, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return Credentials{}, false
	}
	if !now.Before(e.refreshAt) {
		delete(c.entries, key)
		return Credentials{}, false
	}
	if e.sub != sub {
		return Credentials{}, false
	}
	return e.creds, true
}

// generation returns the token a vend passes to put; see forgets.
func (c *credCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.forgets
}

// put stores e under key unless a forget happened since gen was read. It
// makes room first when the cache is full.
func (c *credCache) put(key string, e cacheEntry, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.forgets {
		return
	}
	if _, replacing := c.entries[key]; !replacing && len(c.entries) >= c.limit {
		c.evictLocked(now)
	}
	c.entries[key] = e
}

// evictLocked drops every stale entry and, if that freed nothing, one
// arbitrary entry. The sweep is O(n), but it only runs when a fresh vend
// meets a full cache, and it is dwarfed by the STS round trip just made.
func (c *credCache) evictLocked(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.refreshAt) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) < c.limit {
		return
	}
	for k := range c.entries {
		delete(c.entries, k)
		return
	}
}

// forget drops key's entry and makes in-flight vends not cache their result.
func (c *credCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
	c.forgets++
}

// len reports how many entries are held, for tests.
func (c *credCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
