package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func kidOf(t testing.TB, token string) string {
	t.Helper()
	kid, _ := decodeSegment(t, token, 0)["kid"].(string)
	return kid
}

func jwksKIDs(t testing.TB, iss *Issuer) []string {
	t.Helper()
	set, err := iss.JWKS(context.Background())
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	return kids
}

func TestEnsureKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newTestEnv(t)
	first := env.store.activeKeyIDs()
	if len(first) != 1 {
		t.Fatalf("after EnsureKey on an empty store: got %d keys, want 1", len(first))
	}

	// A second call, or a second replica starting later, keeps the key.
	if err := env.iss.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	mustIssuer(t, env.store, env.clock)
	if got := env.store.activeKeyIDs(); !slices.Equal(got, first) {
		t.Errorf("after more EnsureKey calls: got keys %q, want %q", got, first)
	}
	if got := env.store.callCount("AddKey"); got != 1 {
		t.Errorf("got %d AddKey calls, want 1", got)
	}
}

// TestEnsureKeyRace has two replicas start on an empty store at the same
// moment: both see no key and both add one. Afterwards they must agree on
// one signing key, and each accepts what the other signed in between.
func TestEnsureKeyRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, clock := newMemStore(), newFakeClock()
	cfg := Config{Issuer: testIssuer, ClientID: testClientID, Now: clock.Now}
	a, err := New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Replica B runs all of EnsureKey, and signs a token, between replica
	// A's first look at the empty store and A's AddKey.
	var tokenFromB string
	store.afterKeys = func() {
		if err := b.EnsureKey(ctx); err != nil {
			t.Errorf("B: EnsureKey: %v", err)
		}
		var err error
		if tokenFromB, err = b.SignAccess(ctx, sampleAccess()); err != nil {
			t.Errorf("B: SignAccess: %v", err)
		}
	}
	if err := a.EnsureKey(ctx); err != nil {
		t.Fatalf("A: EnsureKey: %v", err)
	}

	if got := store.callCount("AddKey"); got != 2 {
		t.Fatalf("got %d AddKey calls, want 2 (the race did not happen)", got)
	}
	if got := len(store.activeKeyIDs()); got != 1 {
		t.Errorf("got %d keys that are not retired, want 1", got)
	}
	if _, err := a.VerifyAccess(ctx, tokenFromB); err != nil {
		t.Errorf("A verifying B's token: %v", err)
	}

	// Once B's cache has expired, both sign with the same key.
	clock.Advance(keyCacheTTL)
	kidA := kidOf(t, (&testEnv{iss: a}).mustSignAccess(t, sampleAccess()))
	kidB := kidOf(t, (&testEnv{iss: b}).mustSignAccess(t, sampleAccess()))
	if want := store.activeKeyIDs()[0]; kidA != want || kidB != want {
		t.Errorf("got kids %q (A) and %q (B), want both %q", kidA, kidB, want)
	}
}

// TestEnsureKeyConcurrent starts replicas in parallel on an empty store.
// Whatever the interleaving, one key must be left signing, used by all.
func TestEnsureKeyConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, clock := newMemStore(), newFakeClock()
	replicas := make([]*Issuer, 8)
	for n := range replicas {
		var err error
		if replicas[n], err = New(store, Config{Issuer: testIssuer, ClientID: testClientID, Now: clock.Now}); err != nil {
			t.Fatal(err)
		}
	}

	var wg sync.WaitGroup
	for _, r := range replicas {
		wg.Go(func() {
			if err := r.EnsureKey(ctx); err != nil {
				t.Errorf("EnsureKey: %v", err)
			}
		})
	}
	wg.Wait()

	active := store.activeKeyIDs()
	if len(active) != 1 {
		t.Fatalf("got %d keys that are not retired, want 1", len(active))
	}
	clock.Advance(keyCacheTTL)
	for n, r := range replicas {
		if got := kidOf(t, (&testEnv{iss: r}).mustSignAccess(t, sampleAccess())); got != active[0] {
			t.Errorf("replica %d signs with %q, want %q", n, got, active[0])
		}
	}
}

// TestRotate follows one key from signing, through retirement, to deletion.
func TestRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newTestEnv(t)
	oldKID, oldPrivate := env.signingKey(t)
	oldAccess := env.mustSignAccess(t, sampleAccess())
	oldID := env.mustSignID(t, sampleID(env.clock.Now()))

	env.clock.Advance(10 * time.Minute)
	newKID, err := env.iss.Rotate(ctx)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	retiredAt := env.clock.Now()

	if newKID == oldKID {
		t.Fatalf("Rotate returned the old kid %q", oldKID)
	}
	if got := env.store.snapshot()[oldKID].RetiredAt; got == nil || !got.Equal(retiredAt) {
		t.Errorf("old key retired at %v, want %v", got, retiredAt)
	}
	if got := kidOf(t, env.mustSignAccess(t, sampleAccess())); got != newKID {
		t.Errorf("new access token has kid %q, want %q", got, newKID)
	}
	if got := kidOf(t, env.mustSignID(t, sampleID(env.clock.Now()))); got != newKID {
		t.Errorf("new ID token has kid %q, want %q", got, newKID)
	}
	if _, err := env.iss.VerifyAccess(ctx, oldAccess); err != nil {
		t.Errorf("access token signed before the rotation: %v", err)
	}
	if _, err := env.iss.VerifyID(ctx, oldID); err != nil {
		t.Errorf("ID token signed before the rotation: %v", err)
	}
	if got, want := jwksKIDs(t, env.iss), []string{newKID, oldKID}; !slices.Equal(got, want) {
		t.Errorf("JWKS after rotation: got %q, want %q", got, want)
	}

	// The retired key lives for the token lifetime, the leeway, and the
	// key cache lifetime (another replica may not have noticed the rotation
	// yet and still sign with the old key).
	if want := DefaultTTL + leeway + keyCacheTTL; env.iss.retiredKeyLifetime != want {
		t.Fatalf("got retired key lifetime %v, want %v", env.iss.retiredKeyLifetime, want)
	}
	forged := func() string {
		// What the old key could sign if it were still trusted, e.g. leaked.
		now := env.clock.Now()
		return signES256(t, oldPrivate, map[string]any{"alg": "ES256", "kid": oldKID}, accessPayloadMap(now))
	}

	env.clock.Advance(env.iss.retiredKeyLifetime - time.Second)
	if got, want := jwksKIDs(t, env.iss), []string{newKID, oldKID}; !slices.Equal(got, want) {
		t.Errorf("JWKS a second before the old key's end: got %q, want %q", got, want)
	}
	if _, err := env.iss.VerifyAccess(ctx, forged()); err != nil {
		t.Errorf("token from the old key a second before its end: %v", err)
	}

	env.clock.Advance(time.Second)
	if got, want := jwksKIDs(t, env.iss), []string{newKID}; !slices.Equal(got, want) {
		t.Errorf("JWKS at the old key's end: got %q, want %q", got, want)
	}
	_, err = env.iss.VerifyAccess(ctx, forged())
	wantInvalid(t, err, "unknown kid")

	// The next rotation deletes the old key from the store.
	newerKID, err := env.iss.Rotate(ctx)
	if err != nil {
		t.Fatalf("second Rotate: %v", err)
	}
	keys := env.store.snapshot()
	if _, ok := keys[oldKID]; ok {
		t.Errorf("old key still in the store after the second rotation")
	}
	if _, ok := keys[newKID]; !ok || len(keys) != 2 {
		t.Errorf("got %d keys in the store, want the 2 most recent", len(keys))
	}
	if got, want := jwksKIDs(t, env.iss), []string{newerKID, newKID}; !slices.Equal(got, want) {
		t.Errorf("JWKS after the second rotation: got %q, want %q", got, want)
	}
	_, err = env.iss.VerifyAccess(ctx, oldAccess)
	wantInvalid(t, err, "unknown kid")
}

// TestReplicaPicksUpRotation has replica B verify, then sign with, a key that
// replica A created after B had loaded its cache.
func TestReplicaPicksUpRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newTestEnv(t)
	b := &testEnv{store: a.store, clock: a.clock, iss: mustIssuer(t, a.store, a.clock)}
	if _, err := b.iss.VerifyAccess(ctx, a.mustSignAccess(t, sampleAccess())); err != nil {
		t.Fatalf("B verifying A's token: %v", err)
	}

	newKID, err := a.iss.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fresh := a.mustSignAccess(t, sampleAccess())

	// B read the store moments ago; an unknown kid does not make it read
	// again so soon.
	loads := a.store.callCount("Keys")
	_, err = b.iss.VerifyAccess(ctx, fresh)
	wantInvalid(t, err, "unknown kid")
	if got := a.store.callCount("Keys"); got != loads {
		t.Errorf("got %d store reads for an unknown kid right after a load, want 0", got-loads)
	}

	// A few seconds later it does, once, and finds the key.
	a.clock.Advance(unknownKIDReloadInterval)
	if _, err := b.iss.VerifyAccess(ctx, fresh); err != nil {
		t.Fatalf("B verifying a token from A's new key: %v", err)
	}
	if got := a.store.callCount("Keys"); got != loads+1 {
		t.Errorf("got %d store reads, want 1", got-loads)
	}
	if _, err := b.iss.VerifyAccess(ctx, a.mustSignAccess(t, sampleAccess())); err != nil {
		t.Fatalf("B verifying a second token from A's new key: %v", err)
	}
	if got := a.store.callCount("Keys"); got != loads+1 {
		t.Errorf("got %d store reads after the key was cached, want still 1", got-loads)
	}
	if got := kidOf(t, b.mustSignAccess(t, sampleAccess())); got != newKID {
		t.Errorf("B signs with %q, want the new key %q", got, newKID)
	}
}

// TestReplicaRefreshesKeys checks that a replica which never sees a token
// from the new key still switches to it within keyCacheTTL.
func TestReplicaRefreshesKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newTestEnv(t)
	b := &testEnv{store: a.store, clock: a.clock, iss: mustIssuer(t, a.store, a.clock)}
	oldKID, _ := a.signingKey(t)

	newKID, err := a.iss.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.clock.Advance(keyCacheTTL - time.Second)
	if got := kidOf(t, b.mustSignAccess(t, sampleAccess())); got != oldKID {
		t.Errorf("B before its cache expires signs with %q, want the old key %q", got, oldKID)
	}
	a.clock.Advance(time.Second)
	if got := kidOf(t, b.mustSignAccess(t, sampleAccess())); got != newKID {
		t.Errorf("B after its cache expired signs with %q, want the new key %q", got, newKID)
	}
}

// TestUnknownKIDFlood throws thousands of tokens with made-up kids at an
// Issuer from many goroutines: the store must be read at most once per
// unknownKIDReloadInterval, whatever the number.
func TestUnknownKIDFlood(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newTestEnv(t)
	_, private := env.signingKey(t)
	tokens := make([]string, 2000)
	for n := range tokens {
		header := map[string]any{"alg": "ES256", "kid": fmt.Sprintf("made-up-%d", n)}
		tokens[n] = signES256(t, private, header, accessPayloadMap(env.clock.Now()))
	}

	flood := func() {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for n := w; n < len(tokens); n += 8 {
					if _, err := env.iss.VerifyAccess(ctx, tokens[n]); !errors.Is(err, ErrInvalidToken) {
						t.Errorf("token %d: got %v, want ErrInvalidToken", n, err)
						return
					}
				}
			})
		}
		wg.Wait()
	}

	loads := env.store.callCount("Keys")
	flood() // right after EnsureKey read the store: no read at all
	if got := env.store.callCount("Keys") - loads; got != 0 {
		t.Errorf("first flood: got %d store reads, want 0", got)
	}
	env.clock.Advance(unknownKIDReloadInterval)
	flood()
	if got := env.store.callCount("Keys") - loads; got != 1 {
		t.Errorf("second flood, %v later: got %d store reads, want 1", unknownKIDReloadInterval, got)
	}
}

// TestStoreOutage checks that a store that stops answering does not stop
// signing and verifying with the keys already cached, and is not retried on
// every request.
func TestStoreOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newTestEnv(t)
	raw := env.mustSignAccess(t, sampleAccess())

	env.store.mu.Lock()
	env.store.keysErr = errors.New("connection refused")
	env.store.mu.Unlock()
	env.clock.Advance(keyCacheTTL) // the cache is due for a refresh, which fails

	loads := env.store.callCount("Keys")
	for range 10 {
		if _, err := env.iss.VerifyAccess(ctx, raw); err != nil {
			t.Fatalf("verify during the outage: %v", err)
		}
		env.mustSignAccess(t, sampleAccess())
	}
	if got := env.store.callCount("Keys") - loads; got != 1 {
		t.Errorf("got %d store reads during the outage, want 1", got)
	}

	// An Issuer that never loaded its keys has nothing to fall back on.
	cold, err := New(env.store, Config{Issuer: testIssuer, ClientID: testClientID, Now: env.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cold.SignAccess(ctx, sampleAccess()); err == nil {
		t.Errorf("SignAccess with no keys and no store: got no error")
	}
	_, err = cold.VerifyAccess(ctx, raw)
	wantInvalid(t, err, "connection refused")
}

func TestCorruptKeyInStore(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	if err := store.AddKey(context.Background(), Key{ID: "bad", PrivateDER: []byte("not DER"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	iss, err := New(store, Config{Issuer: testIssuer, ClientID: testClientID})
	if err != nil {
		t.Fatal(err)
	}
	if err := iss.EnsureKey(context.Background()); err == nil {
		t.Errorf("EnsureKey with a corrupt key in the store: got no error")
	}
}
