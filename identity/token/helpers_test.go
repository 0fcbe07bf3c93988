package token

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pinhole/pinhole/internal/fakeclock"
)

const (
	testIssuer   = "http://localhost:8080"
	testClientID = "pinhole-web"
)

// memStore is an in-memory KeyStore that counts how often each method is
// called. The database adapter has its own tests against real databases.
type memStore struct {
	mu    sync.Mutex
	keys  map[string]Key
	calls map[string]int

	// afterKeys, if set, runs once in the next Keys call, after the keys
	// are read and before they are returned; tests use it to interleave
	// replicas.
	afterKeys func()
	// keysErr, if set, is returned by Keys.
	keysErr error
}

var _ KeyStore = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{keys: make(map[string]Key), calls: make(map[string]int)}
}

func (s *memStore) Keys(ctx context.Context) ([]Key, error) {
	s.mu.Lock()
	s.calls["Keys"]++
	if s.keysErr != nil {
		s.mu.Unlock()
		return nil, s.keysErr
	}
	keys := make([]Key, 0, len(s.keys))
	for _, k := range s.keys {
		keys = append(keys, k) // RetiredAt is never modified in place, so sharing it is safe
	}
	hook := s.afterKeys
	s.afterKeys = nil
	s.mu.Unlock()

	if hook != nil {
		hook()
	}
	return keys, nil
}

func (s *memStore) AddKey(ctx context.Context, k Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["AddKey"]++
	if _, ok := s.keys[k.ID]; ok {
		return fmt.Errorf("key %q already exists", k.ID)
	}
	s.keys[k.ID] = k
	return nil
}

func (s *memStore) RetireKey(ctx context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["RetireKey"]++
	k, ok := s.keys[id]
	if !ok {
		return fmt.Errorf("key %q not found", id)
	}
	if k.RetiredAt == nil {
		k.RetiredAt = &at
		s.keys[id] = k
	}
	return nil
}

func (s *memStore) DeleteKey(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["DeleteKey"]++
	delete(s.keys, id)
	return nil
}

// callCount returns how many times method was called.
func (s *memStore) callCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// snapshot returns a copy of the stored keys by id.
func (s *memStore) snapshot() map[string]Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.keys)
}

// activeKeyIDs returns the ids of the keys that are not retired.
func (s *memStore) activeKeyIDs() []string {
	var ids []string
	for id, k := range s.snapshot() {
		if k.RetiredAt == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

func newFakeClock() *fakeclock.Clock {
	return fakeclock.New(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC))
}

// mustIssuer returns an Issuer on store with the test configuration and the
// clock, and makes sure the store has a signing key.
func mustIssuer(t testing.TB, store KeyStore, clock *fakeclock.Clock) *Issuer {
	t.Helper()
	iss, err := New(store, Config{Issuer: testIssuer, ClientID: testClientID, Now: clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := iss.EnsureKey(context.Background()); err != nil {
		t.Fatalf("EnsureKey: %v", err)
	}
	return iss
}

// testEnv is one Issuer with its store and clock.
type testEnv struct {
	store *memStore
	clock *fakeclock.Clock
	iss   *Issuer
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	store, clock := newMemStore(), newFakeClock()
	return &testEnv{store: store, clock: clock, iss: mustIssuer(t, store, clock)}
}

// signingKey returns the key that signs now, read from the store, not from
// the Issuer's cache.
func (e *testEnv) signingKey(t testing.TB) (kid string, private *ecdsa.PrivateKey) {
	t.Helper()
	ids := e.store.activeKeyIDs()
	if len(ids) != 1 {
		t.Fatalf("store has %d active keys, want 1", len(ids))
	}
	return ids[0], mustParseKey(t, e.store.snapshot()[ids[0]])
}

func mustParseKey(t testing.TB, k Key) *ecdsa.PrivateKey {
	t.Helper()
	private, err := parsePrivateKey(k.PrivateDER)
	if err != nil {
		t.Fatalf("parse key %q: %v", k.ID, err)
	}
	return private
}

func (e *testEnv) mustSignAccess(t testing.TB, c AccessClaims) string {
	t.Helper()
	tok, err := e.iss.SignAccess(context.Background(), c)
	if err != nil {
		t.Fatalf("SignAccess: %v", err)
	}
	return tok
}

func (e *testEnv) mustSignID(t testing.TB, c IDClaims) string {
	t.Helper()
	tok, err := e.iss.SignID(context.Background(), c)
	if err != nil {
		t.Fatalf("SignID: %v", err)
	}
	return tok
}

// sampleAccess and sampleID are what the identity service would pass in.
func sampleAccess() AccessClaims {
	return AccessClaims{
		Subject:   "5f0c7a52-6a4e-4b8e-9a37-2f1d3c9b8e11",
		SessionID: "sess-1",
		Scope:     "openid email profile pinhole/photos",
		Groups:    []string{"admins", "beta"},
	}
}

func sampleID(authTime time.Time) IDClaims {
	return IDClaims{
		Subject:             "5f0c7a52-6a4e-4b8e-9a37-2f1d3c9b8e11",
		SessionID:           "sess-1",
		Email:               "alice@example.com",
		EmailVerified:       true,
		PhoneNumber:         "+33612345678",
		PhoneNumberVerified: false,
		Custom:              map[string]any{"custom:plan": "pro", "custom:photos_max": float64(500)},
		Groups:              []string{"beta"},
		AuthTime:            authTime,
	}
}

// The helpers below build tokens by hand, without the Issuer, to play the
// attacker (or a buggy signer) in the verification tests.

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signES256 returns header.payload.signature signed with private.
func signES256(t testing.TB, private *ecdsa.PrivateKey, header, payload map[string]any) string {
	t.Helper()
	signingInput := b64(mustJSON(t, header)) + "." + b64(mustJSON(t, payload))
	sig, err := jwt.SigningMethodES256.Sign(signingInput, private)
	if err != nil {
		t.Fatal(err)
	}
	return signingInput + "." + b64(sig)
}

// accessPayloadMap and idPayloadMap are valid payloads at now, as maps so
// that a test can change or delete any claim.
func accessPayloadMap(now time.Time) map[string]any {
	return map[string]any{
		"iss":       testIssuer,
		"sub":       "user-1",
		"client_id": testClientID,
		"token_use": "access",
		"scope":     "openid",
		"iat":       now.Unix(),
		"exp":       now.Add(15 * time.Minute).Unix(),
		"jti":       "jti-1",
		"sid":       "sess-1",
	}
}

func idPayloadMap(now time.Time) map[string]any {
	return map[string]any{
		"iss":            testIssuer,
		"sub":            "user-1",
		"aud":            testClientID,
		"token_use":      "id",
		"email":          "alice@example.com",
		"email_verified": true,
		"auth_time":      now.Unix(),
		"iat":            now.Unix(),
		"exp":            now.Add(15 * time.Minute).Unix(),
		"jti":            "jti-1",
		"sid":            "sess-1",
	}
}

// with returns a copy of m with the given claims set; a nil value deletes
// the claim.
func with(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// decodeSegment decodes the header (0) or payload (1) of a token into a map.
func decodeSegment(t testing.TB, token string, n int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[n])
	if err != nil {
		t.Fatalf("decode segment %d: %v", n, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("unmarshal segment %d: %v", n, err)
	}
	return m
}

// wantInvalid fails the test unless err wraps ErrInvalidToken and mentions
// reason, so that a token is known to be refused for the right reason.
func wantInvalid(t testing.TB, err error, reason string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("got no error, want ErrInvalidToken (%s)", reason)
	case !errors.Is(err, ErrInvalidToken):
		t.Fatalf("got error %q, want one wrapping ErrInvalidToken", err)
	case !strings.Contains(err.Error(), reason):
		t.Fatalf("got error %q, want it to mention %q", err, reason)
	}
}
