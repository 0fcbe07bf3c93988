package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAccessRoundTrip(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	ctx := context.Background()
	now := env.clock.Now()

	for _, tc := range []struct {
		name string
		in   AccessClaims
	}{
		{"with groups", sampleAccess()},
		{"without groups", AccessClaims{Subject: "user-2", SessionID: "sess-2", Scope: "openid"}},
		{
			// Whatever the caller puts in the fields SignAccess owns is replaced.
			"caller-set fields replaced",
			AccessClaims{
				Subject: "user-3", SessionID: "sess-3", Scope: "openid",
				Issuer: "https://evil.example", ClientID: "other", ID: "fixed",
				IssuedAt: now.Add(-time.Hour), ExpiresAt: now.Add(100 * time.Hour),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := env.mustSignAccess(t, tc.in)
			got, err := env.iss.VerifyAccess(ctx, raw)
			if err != nil {
				t.Fatalf("VerifyAccess: %v", err)
			}

			want := tc.in
			want.Issuer, want.ClientID = testIssuer, testClientID
			want.IssuedAt, want.ExpiresAt = now, now.Add(DefaultTTL)
			if len(got.ID) != 22 || got.ID == tc.in.ID {
				t.Errorf("got jti %q, want a fresh 22-character random id", got.ID)
			}
			want.ID = got.ID
			if !got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("got iat %v exp %v, want %v and %v", got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt)
			}
			got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got claims\n%+v\nwant\n%+v", *got, want)
			}
		})
	}
}

func TestIDRoundTrip(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	ctx := context.Background()
	now := env.clock.Now()
	authTime := now.Add(-20 * time.Hour) // a refresh, long after sign-in

	withoutPhone := sampleID(authTime)
	withoutPhone.PhoneNumber, withoutPhone.PhoneNumberVerified = "", false
	withoutPhone.Custom, withoutPhone.Groups = nil, nil

	for _, tc := range []struct {
		name string
		in   IDClaims
	}{
		{"full", sampleID(authTime)},
		{"no phone, custom attributes or groups", withoutPhone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := env.mustSignID(t, tc.in)
			got, err := env.iss.VerifyID(ctx, raw)
			if err != nil {
				t.Fatalf("VerifyID: %v", err)
			}

			want := tc.in
			want.Issuer, want.Audience, want.ID = testIssuer, testClientID, got.ID
			for _, tm := range []struct {
				name      string
				got, want time.Time
			}{
				{"auth_time", got.AuthTime, authTime},
				{"iat", got.IssuedAt, now},
				{"exp", got.ExpiresAt, now.Add(DefaultTTL)},
			} {
				if !tm.got.Equal(tm.want) {
					t.Errorf("got %s %v, want %v", tm.name, tm.got, tm.want)
				}
			}
			got.AuthTime, got.IssuedAt, got.ExpiresAt = time.Time{}, time.Time{}, time.Time{}
			want.AuthTime = time.Time{}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got claims\n%+v\nwant\n%+v", *got, want)
			}
		})
	}
}

// TestVerifyRefuses plays the attacks (and the honest mistakes) a verifier
// must survive. Each must fail with ErrInvalidToken, for the stated reason,
// without a panic.
func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	ctx := context.Background()
	now := env.clock.Now()
	kid, private := env.signingKey(t)
	header := map[string]any{"alg": "ES256", "typ": "JWT", "kid": kid}

	publicDER, err := x509.MarshalPKIXPublicKey(&private.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicDER})

	foreign, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	// hs256 signs like a verifier that trusts the alg header would check:
	// HMAC-SHA256 keyed with whatever it holds as "the key", here our public
	// key, which the JWKS gives to everyone.
	hs256 := func(secret []byte, payload map[string]any) string {
		h := map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}
		input := b64(mustJSON(t, h)) + "." + b64(mustJSON(t, payload))
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(input))
		return input + "." + b64(mac.Sum(nil))
	}

	goodAccess := env.mustSignAccess(t, sampleAccess())
	goodID := env.mustSignID(t, sampleID(now))

	// A token the pool signed while the clock ran 2 minutes fast.
	env.clock.Advance(2 * time.Minute)
	futureAccess := env.mustSignAccess(t, sampleAccess())
	env.clock.Advance(-2 * time.Minute)

	tampered := func(token string) string {
		parts := strings.Split(token, ".")
		payload := decodeSegment(t, token, 1)
		payload["sub"] = "someone-else"
		return parts[0] + "." + b64(mustJSON(t, payload)) + "." + parts[2]
	}

	shortSig := func(token string) string {
		parts := strings.Split(token, ".")
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			t.Fatal(err)
		}
		return parts[0] + "." + parts[1] + "." + b64(sig[:len(sig)-1])
	}

	access, id := "access", "id"
	for _, tc := range []struct {
		name   string
		kind   string // which Verify to call
		token  string
		reason string // a fragment of the error message
	}{
		{"alg none", access,
			b64(mustJSON(t, map[string]any{"alg": "none", "typ": "JWT", "kid": kid})) + "." + b64(mustJSON(t, accessPayloadMap(now))) + ".",
			"signing method none is invalid"},
		{"HS256 keyed with the public key PEM", access, hs256(publicPEM, accessPayloadMap(now)), "signing method HS256 is invalid"},
		{"HS256 keyed with the public key DER", access, hs256(publicDER, accessPayloadMap(now)), "signing method HS256 is invalid"},
		{"alg ES384", access, signES256(t, private, with(header, "alg", "ES384"), accessPayloadMap(now)), "signing method ES384 is invalid"},
		{"unknown kid", access, signES256(t, foreign, with(header, "kid", "not-our-key"), accessPayloadMap(now)), "unknown kid"},
		{"missing kid", access, signES256(t, private, with(header, "kid", nil), accessPayloadMap(now)), "kid header is missing"},
		{"kid not a string", access, signES256(t, private, with(header, "kid", 7), accessPayloadMap(now)), "kid header is missing"},
		{"our kid, signed by another key", access, signES256(t, foreign, header, accessPayloadMap(now)), "signature is invalid"},
		{"tampered payload", access, tampered(goodAccess), "signature is invalid"},
		{"signature one byte short", access, shortSig(goodAccess), "signature is invalid"},
		{"signature not canonical base64", access, goodAccess[:len(goodAccess)-1] + "_", "malformed"},
		{"wrong iss", access, signES256(t, private, header, with(accessPayloadMap(now), "iss", "https://evil.example")), "invalid issuer"},
		{"iss with a trailing slash", access, signES256(t, private, header, with(accessPayloadMap(now), "iss", testIssuer+"/")), "invalid issuer"},
		{"no iss", access, signES256(t, private, header, with(accessPayloadMap(now), "iss", nil)), "iss claim is required"},
		{"wrong client_id", access, signES256(t, private, header, with(accessPayloadMap(now), "client_id", "other-app")), `client_id "other-app"`},
		{"no client_id", access, signES256(t, private, header, with(accessPayloadMap(now), "client_id", nil)), "client_id is missing"},
		{"wrong aud", id, signES256(t, private, header, with(idPayloadMap(now), "aud", "other-app")), "invalid audience"},
		{"no aud", id, signES256(t, private, header, with(idPayloadMap(now), "aud", nil)), "aud claim is required"},
		{"expired access token", access, signES256(t, private, header, accessPayloadMap(now.Add(-time.Hour))), "token is expired"},
		{"expired beyond leeway", access, signES256(t, private, header, with(accessPayloadMap(now), "exp", now.Add(-leeway-time.Second).Unix())), "token is expired"},
		{"expired ID token", id, signES256(t, private, header, idPayloadMap(now.Add(-time.Hour))), "token is expired"},
		{"no exp", access, signES256(t, private, header, with(accessPayloadMap(now), "exp", nil)), "exp"},
		{"issued in the future", access, futureAccess, "token used before issued"},
		{"not valid yet (nbf)", access, signES256(t, private, header, with(accessPayloadMap(now), "nbf", now.Add(time.Minute).Unix())), "token is not valid yet"},
		{"ID token as access token", access, goodID, `token_use is "id", want "access"`},
		{"access token as ID token", id, goodAccess, `token_use is "access", want "id"`},
		{"no token_use", access, signES256(t, private, header, with(accessPayloadMap(now), "token_use", nil)), `token_use is ""`},
		{"no sub", access, signES256(t, private, header, with(accessPayloadMap(now), "sub", nil)), "sub is missing"},
		{"no sid", access, signES256(t, private, header, with(accessPayloadMap(now), "sid", nil)), "sid is missing"},
		{"no jti", id, signES256(t, private, header, with(idPayloadMap(now), "jti", nil)), "jti is missing"},
		{"no iat", access, signES256(t, private, header, with(accessPayloadMap(now), "iat", nil)), "iat is missing"},
		{"no auth_time", id, signES256(t, private, header, with(idPayloadMap(now), "auth_time", nil)), "auth_time is missing"},
		{"exp of the wrong type", access, signES256(t, private, header, with(accessPayloadMap(now), "exp", "tomorrow")), "malformed"},
		{"custom attribute without a name", id, signES256(t, private, header, with(idPayloadMap(now), "custom:", "x")), "malformed"},
		{"1 MB of dots", access, strings.Repeat(".", 1<<20), "more than the 8192 accepted"},
		{"just over 8 KiB", access, goodAccess + strings.Repeat("A", maxTokenSize-len(goodAccess)+1), "more than the 8192 accepted"},
		{"garbage base64", access, "!!!.@@@.###", "malformed"},
		{"garbage JSON", access, b64([]byte("{")) + "." + b64([]byte("{")) + ".", "malformed"},
		{"two segments", access, "a.b", "malformed"},
		{"four segments", access, goodAccess + ".x", "malformed"},
		{"empty string", access, "", "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			switch tc.kind {
			case access:
				var c *AccessClaims
				c, err = env.iss.VerifyAccess(ctx, tc.token)
				if c != nil {
					t.Errorf("got claims %+v, want nil", c)
				}
			case id:
				var c *IDClaims
				c, err = env.iss.VerifyID(ctx, tc.token)
				if c != nil {
					t.Errorf("got claims %+v, want nil", c)
				}
			}
			wantInvalid(t, err, tc.reason)
		})
	}
}

// TestSignIDAuthTimeSkew accepts an auth_time slightly ahead of the clock: the
// session may have started on a replica whose clock runs a little fast.
func TestSignIDAuthTimeSkew(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	authTime := env.clock.Now().Add(leeway)
	got, err := env.iss.VerifyID(context.Background(), env.mustSignID(t, sampleID(authTime)))
	if err != nil {
		t.Fatalf("VerifyID: %v", err)
	}
	if !got.AuthTime.Equal(authTime) {
		t.Errorf("got auth_time %v, want %v", got.AuthTime, authTime)
	}
}

// TestVerifyLeeway shows the 30 seconds of leeway at work: a token stays
// valid that long past its exp, and not a second more.
func TestVerifyLeeway(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	ctx := context.Background()
	raw := env.mustSignAccess(t, sampleAccess())

	env.clock.Advance(DefaultTTL + leeway - time.Second)
	if _, err := env.iss.VerifyAccess(ctx, raw); err != nil {
		t.Fatalf("%v after exp: got %v, want the token accepted", leeway-time.Second, err)
	}
	env.clock.Advance(time.Second)
	_, err := env.iss.VerifyAccess(ctx, raw)
	wantInvalid(t, err, "token is expired")
}

func TestSignRefuses(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	ctx := context.Background()
	now := env.clock.Now()

	noKeys, err := New(newMemStore(), Config{Issuer: testIssuer, ClientID: testClientID, Now: env.clock.Now})
	if err != nil {
		t.Fatal(err)
	}

	huge := sampleID(now)
	huge.Custom = map[string]any{"custom:bio": strings.Repeat("x", maxTokenSize)}

	for _, tc := range []struct {
		name string
		sign func() (string, error)
		want string
	}{
		{"access without sub", func() (string, error) {
			return env.iss.SignAccess(ctx, AccessClaims{SessionID: "s"})
		}, "subject and session id are required"},
		{"access without sid", func() (string, error) {
			return env.iss.SignAccess(ctx, AccessClaims{Subject: "u"})
		}, "subject and session id are required"},
		{"ID without auth_time", func() (string, error) {
			return env.iss.SignID(ctx, sampleID(time.Time{}))
		}, "auth time"},
		{"ID with auth_time in the future beyond leeway", func() (string, error) {
			return env.iss.SignID(ctx, sampleID(now.Add(leeway+time.Second)))
		}, "auth time"},
		{"ID too large to verify", func() (string, error) {
			return env.iss.SignID(ctx, huge)
		}, "more than the 8192 accepted"},
		{"before EnsureKey", func() (string, error) {
			return noKeys.SignAccess(ctx, sampleAccess())
		}, "no signing key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := tc.sign()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got token %q, error %v; want an error mentioning %q", tok, err, tc.want)
			}
		})
	}
}
