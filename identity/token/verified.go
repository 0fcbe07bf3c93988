package token

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// verifiedCacheSize bounds the memory of the cache below: a few hundred
// bytes per entry, so about 2 MB when full.
const verifiedCacheSize = 8192

// verifiedCache remembers access tokens that passed full verification, so a
// client presenting the same token on every request (the usual case) pays
// for one ECDSA verification per token instead of one per request.
//
// It is safe because it changes nothing about what is accepted: a token's
// signature and claims cannot change, the key is the SHA-256 of the whole
// token (a forgery cannot collide with a verified token), and an entry dies
// when the token itself expires (with the same leeway as full verification).
// Keys are only pruned after every token they signed has expired, so no
// cached token outlives its key. What stays per request, and outside this
// package, is the session check: revocation still takes effect at once.
type verifiedCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedEntry
}

type verifiedEntry struct {
	claims  AccessClaims
	expires time.Time // the token's exp plus leeway
}

// get returns a copy of the cached claims of raw if it is still valid at now.
func (c *verifiedCache) get(raw string, now time.Time) (*AccessClaims, bool) {
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok && !now.Before(e.expires) {
		delete(c.entries, key)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	claims := e.claims
	claims.Groups = slices.Clone(e.claims.Groups)
	return &claims, true
}

// put remembers verified claims. When full it first drops expired entries,
// then, if still full, starts over: simple, bounded, and a miss only costs
// one verification.
func (c *verifiedCache) put(raw string, claims *AccessClaims, now time.Time) {
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[[sha256.Size]byte]verifiedEntry)
	}
	if len(c.entries) >= verifiedCacheSize {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= verifiedCacheSize {
			clear(c.entries)
		}
	}
	stored := *claims
	stored.Groups = slices.Clone(claims.Groups)
	c.entries[key] = verifiedEntry{claims: stored, expires: claims.ExpiresAt.Add(leeway)}
}
