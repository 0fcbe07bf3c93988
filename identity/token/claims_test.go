package token

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestTokenClaimNames decodes signed tokens and checks they carry exactly the
// claims the spec lists, under exactly those names, and nothing else.
func TestTokenClaimNames(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	now := env.clock.Now()

	noGroups := sampleAccess()
	noGroups.Groups = nil
	noPhone := sampleID(now)
	noPhone.PhoneNumber, noPhone.Custom, noPhone.Groups = "", nil, nil

	for _, tc := range []struct {
		name      string
		token     string
		wantNames []string
		wantUse   string
	}{
		{
			"access", env.mustSignAccess(t, sampleAccess()),
			[]string{"client_id", "exp", "groups", "iat", "iss", "jti", "scope", "sid", "sub", "token_use"},
			"access",
		},
		{
			"access without groups", env.mustSignAccess(t, noGroups),
			[]string{"client_id", "exp", "iat", "iss", "jti", "scope", "sid", "sub", "token_use"},
			"access",
		},
		{
			"ID", env.mustSignID(t, sampleID(now)),
			[]string{
				"aud", "auth_time", "custom:photos_max", "custom:plan", "email", "email_verified", "exp", "groups",
				"iat", "iss", "jti", "phone_number", "phone_number_verified", "sid", "sub", "token_use",
			},
			"id",
		},
		{
			"ID without phone, custom attributes or groups", env.mustSignID(t, noPhone),
			[]string{"aud", "auth_time", "email", "email_verified", "exp", "iat", "iss", "jti", "sid", "sub", "token_use"},
			"id",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			payload := decodeSegment(t, tc.token, 1)
			if got := slices.Sorted(maps.Keys(payload)); !slices.Equal(got, tc.wantNames) {
				t.Errorf("got claims %q,\nwant %q", got, tc.wantNames)
			}
			if got := payload["token_use"]; got != tc.wantUse {
				t.Errorf("got token_use %v, want %q", got, tc.wantUse)
			}
			if aud, ok := payload["aud"]; ok && aud != testClientID {
				t.Errorf(`got aud %#v, want the single string %q, as Cognito writes it`, aud, testClientID)
			}

			header := decodeSegment(t, tc.token, 0)
			wantHeader := map[string]any{"alg": "ES256", "typ": "JWT", "kid": header["kid"]}
			if kid, _ := header["kid"].(string); len(kid) != 22 || !reflect.DeepEqual(header, wantHeader) {
				t.Errorf("got header %v, want alg ES256, typ JWT and a 22-character kid", header)
			}
		})
	}
}

// TestIDPayloadCustomAttributes covers the flattening of custom attributes:
// they become top-level "custom:<name>" claims and come back into Custom,
// and nothing else can get in either way.
func TestIDPayloadCustomAttributes(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_770_000_000, 0)
	base := (&IDClaims{
		Subject: "u", SessionID: "s", Email: "a@example.com",
		Issuer: testIssuer, Audience: testClientID, ID: "j",
		AuthTime: now, IssuedAt: now, ExpiresAt: now.Add(time.Hour),
	}).payload()

	t.Run("marshal refuses", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name   string
			custom map[string]any
		}{
			{"a name without the prefix", map[string]any{"plan": "pro"}},
			{"a standard claim", map[string]any{"sub": "someone-else"}},
			{"another standard claim", map[string]any{"email_verified": true}},
			{"the prefix alone", map[string]any{"custom:": "x"}},
			{"a prefix in the wrong case", map[string]any{"Custom:plan": "pro"}},
			{"a value JSON cannot hold", map[string]any{"custom:f": func() {}}},
		} {
			p := *base
			p.Custom = tc.custom
			if b, err := json.Marshal(p); err == nil {
				t.Errorf("%s: got %s, want an error", tc.name, b)
			}
		}
	})

	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		p := *base
		p.Custom = map[string]any{
			"custom:plan":      "pro",
			"custom:quota":     float64(500), // JSON numbers come back as float64, as encoding/json decodes into any
			"custom:beta":      true,
			"custom:with:more": "colons are part of the name",
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"custom:plan":"pro"`) || strings.Contains(string(b), `"Custom"`) {
			t.Errorf("got %s, want custom attributes flattened to top-level claims", b)
		}

		var got idPayload
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Custom, p.Custom) {
			t.Errorf("got custom %v, want %v", got.Custom, p.Custom)
		}
		if got.Subject != "u" || got.Email != "a@example.com" {
			t.Errorf("got sub %q email %q, want the standard claims intact", got.Subject, got.Email)
		}
	})

	t.Run("unmarshal keeps standard and unknown claims out of Custom", func(t *testing.T) {
		t.Parallel()
		var got idPayload
		in := `{"sub":"u","email":"a@example.com","custom:plan":"pro","nbf":1,"x-other":"ignored"}`
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"custom:plan": "pro"}
		if !reflect.DeepEqual(got.Custom, want) {
			t.Errorf("got custom %v, want %v", got.Custom, want)
		}
		if got.NotBefore == nil || !got.NotBefore.Equal(time.Unix(1, 0)) {
			t.Errorf("got nbf %v, want 1 (decoded into its field, so that it is enforced)", got.NotBefore)
		}
	})

	t.Run("unmarshal refuses a nameless custom attribute", func(t *testing.T) {
		t.Parallel()
		var got idPayload
		if err := json.Unmarshal([]byte(`{"sub":"u","custom:":"x"}`), &got); err == nil {
			t.Errorf("got %+v, want an error", got)
		}
	})
}

// TestPayloadAudience checks the aud golang-jwt sees: the client for ID
// tokens, nothing for access tokens (which name the client in client_id).
func TestPayloadAudience(t *testing.T) {
	t.Parallel()
	aud, _ := (&idPayload{Audience: testClientID}).GetAudience()
	if !slices.Equal(aud, jwt.ClaimStrings{testClientID}) {
		t.Errorf("got ID token audience %v, want [%s]", aud, testClientID)
	}
	aud, _ = (&accessPayload{}).GetAudience()
	if aud != nil {
		t.Errorf("got access token audience %v, want none", aud)
	}
}
