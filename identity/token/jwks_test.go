package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestJWKSVerifiesTokens checks the JWKS the way a client would, sharing no
// code with the Issuer: decode the JSON, rebuild each public key from x and
// y with the standard library, and verify tokens with plain golang-jwt.
func TestJWKSVerifiesTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newTestEnv(t)
	before := env.mustSignAccess(t, sampleAccess())
	if _, err := env.iss.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	after := env.mustSignID(t, sampleID(env.clock.Now()))

	set, err := env.iss.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}

	var published struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &published); err != nil {
		t.Fatalf("JWKS is not a JSON object of string-valued keys: %v\n%s", err, doc)
	}
	if len(published.Keys) != 2 {
		t.Fatalf("got %d keys, want 2:\n%s", len(published.Keys), doc)
	}
	publicKeys := make(map[string]*ecdsa.PublicKey)
	for _, k := range published.Keys {
		for field, want := range map[string]string{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig"} {
			if k[field] != want {
				t.Errorf("key %s: got %s %q, want %q", k["kid"], field, k[field], want)
			}
		}
		if len(k) != 7 {
			t.Errorf("key %s: got fields %v, want exactly kty, crv, x, y, kid, alg, use", k["kid"], k)
		}
		publicKeys[k["kid"]] = publicKeyFromJWK(t, k["x"], k["y"])
	}

	keyFunc := func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if key, ok := publicKeys[kid]; ok {
			return key, nil
		}
		return nil, jwt.ErrTokenUnverifiable
	}
	for name, raw := range map[string]string{"access token before rotation": before, "ID token after rotation": after} {
		_, err := jwt.Parse(raw, keyFunc,
			jwt.WithValidMethods([]string{"ES256"}),
			jwt.WithTimeFunc(env.clock.Now),
			jwt.WithIssuer(testIssuer))
		if err != nil {
			t.Errorf("%s: verify with the published key: %v", name, err)
		}
	}
}

// publicKeyFromJWK rebuilds a P-256 public key from base64url x and y.
func publicKeyFromJWK(t *testing.T, x, y string) *ecdsa.PublicKey {
	t.Helper()
	xb, errX := base64.RawURLEncoding.DecodeString(x)
	yb, errY := base64.RawURLEncoding.DecodeString(y)
	if errX != nil || errY != nil || len(xb) != 32 || len(yb) != 32 {
		t.Fatalf("got x %q and y %q, want 32 bytes each in unpadded base64url", x, y)
	}
	point := append(append([]byte{4}, xb...), yb...) // SEC 1 uncompressed point
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		t.Fatalf("x and y are not a P-256 point: %v", err)
	}
	return key
}

// TestJWKLeftPads checks that a coordinate with leading zero bytes is still
// encoded as 32 bytes, as RFC 7518 requires (encoding a big.Int would drop
// them, and strict clients reject the key). About one key in 128 has such a
// coordinate, so the test generates keys until it finds one.
func TestJWKLeftPads(t *testing.T) {
	t.Parallel()
	for range 5000 {
		private, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		point, err := private.PublicKey.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if point[1] != 0 && point[33] != 0 {
			continue // neither coordinate starts with a zero byte
		}

		jwk, err := newJWK("k", &private.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		got := publicKeyFromJWK(t, jwk.X, jwk.Y)
		if !got.Equal(&private.PublicKey) {
			t.Errorf("key rebuilt from the JWK differs from the original")
		}
		return
	}
	t.Fatal("no key with a leading zero byte in 5000 tries")
}

func TestJWKSEmpty(t *testing.T) {
	t.Parallel()
	iss, err := New(newMemStore(), Config{Issuer: testIssuer, ClientID: testClientID})
	if err != nil {
		t.Fatal(err)
	}
	set, err := iss.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(set)
	if got, want := string(doc), `{"keys":[]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
