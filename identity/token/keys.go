package token

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Key is one ES256 signing key of the pool, as the KeyStore keeps it.
// A key never changes once added, except that it gets retired.
type Key struct {
	ID         string     // kid: random, URL-safe
	PrivateDER []byte     // PKCS#8 DER of the ECDSA P-256 private key
	CreatedAt  time.Time  // orders the keys (the newest key that is not retired signs); stores keep at least whole seconds
	RetiredAt  *time.Time // set when a newer key took over signing; the key is still published and accepted for a while
}

// KeyStore keeps the pool's signing keys where every replica can see them;
// the database adapter implements it. It holds private keys, with which
// anyone could mint a token for any user: guard them at least as carefully
// as the password hashes.
type KeyStore interface {
	// Keys returns every key, in any order.
	Keys(ctx context.Context) ([]Key, error)
	// AddKey stores a new key.
	AddKey(ctx context.Context, k Key) error
	// RetireKey sets the key's RetiredAt, unless it is already set: the first retirement counts.
	RetireKey(ctx context.Context, id string, at time.Time) error
	// DeleteKey removes a key; deleting a key that is already gone is not an error.
	DeleteKey(ctx context.Context, id string) error
}

// parsedKey is a Key decoded once, ready to sign and verify with.
type parsedKey struct {
	id        string
	private   *ecdsa.PrivateKey
	createdAt time.Time
	retiredAt time.Time // zero while the key is not retired
	jwk       JWK
}

// keySet is a snapshot of the store's keys. It is never modified: a reload
// builds a new one and swaps it in, so readers need the lock only to fetch it.
type keySet struct {
	signing *parsedKey            // the newest key that is not retired; nil if there is none
	byID    map[string]*parsedKey // every key in the store, live or not
}

// live reports whether k may still verify tokens and appear in the JWKS at
// now: always until it is retired, and for lifetime after that.
func (k *parsedKey) live(now time.Time, lifetime time.Duration) bool {
	return k.retiredAt.IsZero() || now.Before(k.retiredAt.Add(lifetime))
}

// get returns the key with this kid, live or not, or nil; s may be nil.
func (s *keySet) get(kid string) *parsedKey {
	if s == nil {
		return nil
	}
	return s.byID[kid]
}

// lookup returns the key with this kid if it is live at now, or nil.
func (s *keySet) lookup(kid string, now time.Time, lifetime time.Duration) *parsedKey {
	k := s.get(kid)
	if k == nil || !k.live(now, lifetime) {
		return nil
	}
	return k
}

// compareAge orders keys by creation time, then by id, so that every replica
// picks the same signing key even if two keys were created in the same
// instant. Like cmp.Compare, it returns a positive number when a is newer.
func compareAge(aCreated time.Time, aID string, bCreated time.Time, bID string) int {
	return cmp.Or(aCreated.Compare(bCreated), strings.Compare(aID, bID))
}

// EnsureKey creates the pool's first signing key if the store has no key that
// signs. Call it once at start-up. Replicas starting together may each create
// one; afterwards the newest is used and the others are retired, so every
// replica signs with the same key.
func (i *Issuer) EnsureKey(ctx context.Context) error {
	keys, err := i.reload(ctx, 0)
	if err != nil {
		return fmt.Errorf("token: ensure key: %w", err)
	}
	if keys.signing != nil {
		return nil
	}
	if _, err := i.addSigningKey(ctx, keys); err != nil {
		return fmt.Errorf("token: ensure key: %w", err)
	}
	return nil
}

// Rotate adds a key that signs from now on and retires the one that signed so
// far. The retired key stays published and keeps verifying until every token
// it can have signed has expired; keys retired longer ago than that are
// deleted. It returns the kid of the key that now signs (if two replicas
// rotate at once, both return the same one).
func (i *Issuer) Rotate(ctx context.Context) (newKID string, err error) {
	keys, err := i.reload(ctx, 0)
	if err != nil {
		return "", fmt.Errorf("token: rotate keys: %w", err)
	}
	if newKID, err = i.addSigningKey(ctx, keys); err != nil {
		return "", fmt.Errorf("token: rotate keys: %w", err)
	}
	return newKID, nil
}

// addSigningKey adds a key newer than every key in existing, settles the
// store (retiring whatever signed before, and keys left by a race between
// replicas) and rereads it, returning the kid of the key that now signs.
// That may be another replica's key, if one added its own at the same time.
func (i *Issuer) addSigningKey(ctx context.Context, existing *keySet) (kid string, err error) {
	if err := i.addKey(ctx, existing); err != nil {
		return "", err
	}
	if err := i.settle(ctx); err != nil {
		return "", err
	}
	keys, err := i.reload(ctx, 0)
	if err != nil {
		return "", err
	}
	if keys.signing == nil {
		return "", errors.New("store has no signing key after adding one")
	}
	return keys.signing.id, nil
}

// addKey generates a P-256 key and adds it to the store, dated so that it is
// newer than every key in existing.
func (i *Issuer) addKey(ctx context.Context, existing *keySet) error {
	// Since Go 1.26 GenerateKey ignores its reader and always uses the
	// system's secure random source, so Config.Rand is not passed here.
	private, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(private)
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	id, err := i.randomID()
	if err != nil {
		return err
	}

	// The newest key signs, so a new key must sort after every existing one
	// even when the clock is coarse, stands still (as a test clock does), or
	// is behind the replica that created the last key. A whole second keeps
	// the order in stores that keep only whole seconds.
	created := i.cfg.Now()
	for _, k := range existing.byID {
		if !created.After(k.createdAt) {
			created = k.createdAt.Add(time.Second)
		}
	}

	k := Key{ID: id, PrivateDER: der, CreatedAt: created}
	if err := i.store.AddKey(ctx, k); err != nil {
		return fmt.Errorf("add key: %w", err)
	}
	return nil
}

// settle brings the store back to its resting state: exactly one key that is
// not retired (the newest; older ones left by a race between replicas are
// retired now), and no key retired so long ago that nothing it signed can
// still be valid. Every replica that runs it reaches the same state.
func (i *Issuer) settle(ctx context.Context) error {
	keys, err := i.store.Keys(ctx)
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	now := i.cfg.Now()

	var newest *Key
	for j := range keys {
		k := &keys[j]
		if k.RetiredAt == nil && (newest == nil || compareAge(k.CreatedAt, k.ID, newest.CreatedAt, newest.ID) > 0) {
			newest = k
		}
	}
	for _, k := range keys {
		switch {
		case k.RetiredAt == nil && k.ID != newest.ID: // newest is set: at least k is not retired
			if err := i.store.RetireKey(ctx, k.ID, now); err != nil {
				return fmt.Errorf("retire key %q: %w", k.ID, err)
			}
		case k.RetiredAt != nil && !now.Before(k.RetiredAt.Add(i.retiredKeyLifetime)):
			if err := i.store.DeleteKey(ctx, k.ID); err != nil {
				return fmt.Errorf("delete key %q: %w", k.ID, err)
			}
		}
	}
	return nil
}

// currentKeys returns the cached keys, first reading the store if the cache
// is older than keyCacheTTL. If that read fails, the cache keeps serving: a
// database hiccup should not stop every request.
func (i *Issuer) currentKeys(ctx context.Context) (*keySet, error) {
	i.mu.RLock()
	keys, checkedAt := i.keys, i.checkedAt
	i.mu.RUnlock()
	if keys != nil && i.cfg.Now().Sub(checkedAt) < keyCacheTTL {
		return keys, nil
	}

	fresh, err := i.reload(ctx, keyCacheTTL)
	if err != nil && keys != nil {
		return keys, nil
	}
	return fresh, err
}

// reload reads the store and caches its keys, unless the store was read (or
// tried) less than minInterval ago, in which case it returns the cache as it
// is. Pass 0 to read the store in any case.
func (i *Issuer) reload(ctx context.Context, minInterval time.Duration) (*keySet, error) {
	i.loadMu.Lock()
	defer i.loadMu.Unlock()

	now := i.cfg.Now()
	i.mu.RLock()
	prev, checkedAt := i.keys, i.checkedAt
	i.mu.RUnlock()
	if minInterval > 0 && !checkedAt.IsZero() && now.Sub(checkedAt) < minInterval {
		if prev == nil {
			return nil, fmt.Errorf("keys not loaded, retrying within %v: %w", minInterval, i.loadErr)
		}
		return prev, nil
	}

	// Record the attempt before making it, so that a failing store is not
	// retried on every request.
	i.mu.Lock()
	i.checkedAt = now
	i.mu.Unlock()

	keys, err := i.load(ctx, prev)
	i.loadErr = err
	if err != nil {
		return nil, err
	}

	i.mu.Lock()
	i.keys = keys
	i.mu.Unlock()
	return keys, nil
}

// load reads the store and parses its keys.
func (i *Issuer) load(ctx context.Context, prev *keySet) (*keySet, error) {
	stored, err := i.store.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load keys: %w", err)
	}
	keys, err := parseKeys(stored, prev)
	if err != nil {
		return nil, fmt.Errorf("load keys: %w", err)
	}
	return keys, nil
}

// parseKeys builds a keySet from the store's keys, reusing the parsed keys of
// prev so that a reload costs a DER decode only for keys it has not seen.
// A key that does not decode fails the whole load: a corrupt key table is an
// incident to notice, not something to paper over.
func parseKeys(stored []Key, prev *keySet) (*keySet, error) {
	set := &keySet{byID: make(map[string]*parsedKey, len(stored))}
	for _, k := range stored {
		pk := &parsedKey{id: k.ID, createdAt: k.CreatedAt}
		if old := prev.get(k.ID); old != nil {
			pk.private, pk.jwk = old.private, old.jwk
		} else {
			var err error
			if pk.private, err = parsePrivateKey(k.PrivateDER); err != nil {
				return nil, fmt.Errorf("key %q: %w", k.ID, err)
			}
			if pk.jwk, err = newJWK(k.ID, &pk.private.PublicKey); err != nil {
				return nil, fmt.Errorf("key %q: %w", k.ID, err)
			}
		}

		if k.RetiredAt != nil {
			pk.retiredAt = *k.RetiredAt
		} else if set.signing == nil || compareAge(pk.createdAt, pk.id, set.signing.createdAt, set.signing.id) > 0 {
			set.signing = pk
		}
		set.byID[k.ID] = pk
	}
	return set, nil
}

// parsePrivateKey decodes a PKCS#8 DER key and makes sure it is an ECDSA
// P-256 key, the only kind ES256 uses.
func parsePrivateKey(der []byte) (*ecdsa.PrivateKey, error) {
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	private, ok := key.(*ecdsa.PrivateKey)
	if !ok || private.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%T is not an ECDSA P-256 key", key)
	}
	return private, nil
}

// liveKeys returns the keys that verify tokens at now, newest first; the
// signing key, being the newest, comes first.
func (s *keySet) liveKeys(now time.Time, lifetime time.Duration) []*parsedKey {
	var live []*parsedKey
	for _, k := range s.byID {
		if k.live(now, lifetime) {
			live = append(live, k)
		}
	}
	slices.SortFunc(live, func(a, b *parsedKey) int {
		return compareAge(b.createdAt, b.id, a.createdAt, a.id) // b before a: newest first
	})
	return live
}
