package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pinhole/pinhole/internal/testenv"
)

// TestTokenAttacks presents forged and misused tokens to an authenticated
// endpoint. Each must be refused with 401 and the error shape, never a panic
// or a 500.
func TestTokenAttacks(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	signIn := e.signUpConfirmed(uniqueEmail("victim"))
	access, idToken := signIn.str("access_token"), signIn.str("id_token")

	// The real access token's claims and header, to forge variations of.
	parsed, _, err := jwt.NewParser().ParseUnverified(access, jwt.MapClaims{})
	if err != nil {
		t.Fatalf("parse own token: %v", err)
	}
	claims := parsed.Claims.(jwt.MapClaims)
	kid := parsed.Header["kid"].(string)
	keys, err := e.store.Keys(t.Context())
	if err != nil || len(keys) == 0 {
		t.Fatalf("signing keys: %v (%d)", err, len(keys))
	}
	priv := mustParseKey(t, keys[0].PrivateDER)
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	with := func(change map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		for k, v := range change {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	sign := func(method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(method, c)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatalf("sign forged token: %v", err)
		}
		return s
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b64 := base64.RawURLEncoding.EncodeToString

	attacks := []struct {
		name  string
		token string
	}{
		{"alg none", b64([]byte(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`)) + "." + strings.Split(access, ".")[1] + "."},
		{"HS256 signed with the public key", sign(jwt.SigningMethodHS256, pubDER, kid, with(nil))},
		{"unknown kid", sign(jwt.SigningMethodES256, otherKey, "no-such-kid", with(nil))},
		{"our kid, someone else's key", sign(jwt.SigningMethodES256, otherKey, kid, with(nil))},
		{"wrong issuer", sign(jwt.SigningMethodES256, priv, kid, with(map[string]any{"iss": "https://evil.example"}))},
		{"wrong client", sign(jwt.SigningMethodES256, priv, kid, with(map[string]any{"client_id": "another-app"}))},
		{"expired", sign(jwt.SigningMethodES256, priv, kid, with(map[string]any{
			"iat": e.clock.Now().Add(-2 * time.Hour).Unix(), "exp": e.clock.Now().Add(-time.Hour).Unix()}))},
		{"no token_use", sign(jwt.SigningMethodES256, priv, kid, with(map[string]any{"token_use": nil}))},
		{"ID token as access token", idToken},
		{"tampered payload", strings.Split(access, ".")[0] + "." + b64([]byte(`{"sub":"someone-else"}`)) + "." + strings.Split(access, ".")[2]},
		{"1 MB of dots", strings.Repeat(".", 1<<20)},
		{"garbage", "not-a-jwt"},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			// Straight through the router: the HTTP server's own header limit
			// would stop the 1 MB case before our code saw it.
			srv := NewServer(Deps{Config: mustConfig(t), Identity: e.ids})
			req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			req.Header.Set("Authorization", "Bearer "+a.token)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"error":"invalid_token"`) {
				t.Errorf("got %d %s, want 401 invalid_token", rec.Code, rec.Body.String()[:min(200, rec.Body.Len())])
			}
			if got := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
			}
		})
	}

	// The genuine token still works: the attacks above were refused for
	// what they changed, not because the test broke authentication.
	want(t, e.do("GET", "/api/me", nil, access), http.StatusOK, "")
	// And it stops working after its lifetime.
	e.clock.Advance(16 * time.Minute)
	want(t, e.do("GET", "/api/me", nil, access), http.StatusUnauthorized, "invalid_token")
}

func mustParseKey(t *testing.T, der []byte) *ecdsa.PrivateKey {
	t.Helper()
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatalf("parse key: %v", err)
	}
	return k.(*ecdsa.PrivateKey)
}

func mustConfig(t *testing.T) Config {
	t.Helper()
	cfg, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestSessionsAfterPasswordChanges: a reset signs out every session; a change
// signs out all but the device that made it.
func TestSessionsAfterPasswordChanges(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t, d.URL(t))
			email := uniqueEmail("careful")
			laptop := e.signUpConfirmed(email)
			phone := e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword})
			want(t, phone, http.StatusOK, "")

			// Change on the laptop: the phone is signed out, the laptop is not.
			r := e.do("POST", "/api/auth/password/change", map[string]any{"current_password": "wrong wrong wrong", "new_password": "an even better passphrase"}, laptop.str("access_token"))
			want(t, r, http.StatusBadRequest, "incorrect_password")
			r = e.do("POST", "/api/auth/password/change", map[string]any{"current_password": testPassword, "new_password": "an even better passphrase"}, laptop.str("access_token"))
			want(t, r, http.StatusOK, "")
			want(t, e.do("GET", "/api/me", nil, laptop.str("access_token")), http.StatusOK, "")
			want(t, e.do("GET", "/api/me", nil, phone.str("access_token")), http.StatusUnauthorized, "invalid_token")
			want(t, e.post("/api/auth/refresh", map[string]any{"refresh_token": phone.str("refresh_token")}), http.StatusUnauthorized, "invalid_refresh_token")
			want(t, e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword}), http.StatusUnauthorized, "invalid_credentials")

			// Reset: every session ends, the laptop's too.
			want(t, e.post("/api/auth/password/forgot", map[string]any{"email": email}), http.StatusAccepted, "")
			_, text := e.mailTo(email, subjectReset)
			code := codeFrom(t, text)
			r = e.post("/api/auth/password/reset", map[string]any{"email": email, "code": code, "new_password": "password"})
			want(t, r, http.StatusBadRequest, "password_too_short")
			r = e.post("/api/auth/password/reset", map[string]any{"email": email, "code": code, "new_password": "the third passphrase of the day"})
			want(t, r, http.StatusOK, "")
			want(t, e.do("GET", "/api/me", nil, laptop.str("access_token")), http.StatusUnauthorized, "invalid_token")
			want(t, e.post("/api/auth/signin", map[string]any{"email": email, "password": "the third passphrase of the day"}), http.StatusOK, "")
			// The reset code is spent.
			want(t, e.post("/api/auth/password/reset", map[string]any{"email": email, "code": code, "new_password": "yet another passphrase here"}), http.StatusBadRequest, "invalid_code")
		})
	}
}

// TestEmailChangeNeedsConfirmation: a new address takes effect only once the
// code sent to it is confirmed.
func TestEmailChangeNeedsConfirmation(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[1].URL(t))
	old := uniqueEmail("old")
	access := e.signUpConfirmed(old).str("access_token")
	newAddr := uniqueEmail("new")

	r := e.do("PATCH", "/api/me", map[string]any{"email": newAddr}, access)
	want(t, r, http.StatusOK, "")
	if r.str("email") != old || r.str("pending_email") != newAddr {
		t.Fatalf("after PATCH: email=%q pending=%q, want %q pending %q", r.str("email"), r.str("pending_email"), old, newAddr)
	}
	// The old address still signs in; the new one does not yet.
	want(t, e.post("/api/auth/signin", map[string]any{"email": newAddr, "password": testPassword}), http.StatusUnauthorized, "invalid_credentials")
	want(t, e.post("/api/auth/signin", map[string]any{"email": old, "password": testPassword}), http.StatusOK, "")

	_, text := e.mailTo(newAddr, subjectNewAddress)
	want(t, e.do("POST", "/api/me/email/confirm", map[string]any{"code": "999999"}, access), http.StatusBadRequest, "invalid_code")
	r = e.do("POST", "/api/me/email/confirm", map[string]any{"code": codeFrom(t, text)}, access)
	want(t, r, http.StatusOK, "")
	if r.str("email") != newAddr || r.str("pending_email") != "" {
		t.Fatalf("after confirm: %s", r.Raw)
	}
	want(t, e.post("/api/auth/signin", map[string]any{"email": newAddr, "password": testPassword}), http.StatusOK, "")
	want(t, e.post("/api/auth/signin", map[string]any{"email": old, "password": testPassword}), http.StatusUnauthorized, "invalid_credentials")
}

// TestPendingEmailChangeEnds: a pending change can be canceled by setting the
// email back, and stops being shown once its code can no longer work
// (expired, or out of attempts). Either way the old code is refused.
func TestPendingEmailChangeEnds(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	current := uniqueEmail("stays")
	tokens := e.signUpConfirmed(current)
	access := tokens.str("access_token")
	pending := func(wantPending string) {
		t.Helper()
		r := e.do("GET", "/api/me", nil, access)
		want(t, r, http.StatusOK, "")
		if r.str("email") != current || r.str("pending_email") != wantPending {
			t.Fatalf("GET /api/me: email=%q pending=%q, want %q pending %q", r.str("email"), r.str("pending_email"), current, wantPending)
		}
	}
	request := func(local string) (addr, code string) {
		t.Helper()
		addr = uniqueEmail(local)
		want(t, e.do("PATCH", "/api/me", map[string]any{"email": addr}, access), http.StatusOK, "")
		pending(addr)
		_, text := e.mailTo(addr, subjectNewAddress)
		return addr, codeFrom(t, text)
	}
	confirmFails := func(code string) {
		t.Helper()
		want(t, e.do("POST", "/api/me/email/confirm", map[string]any{"code": code}, access), http.StatusBadRequest, "invalid_code")
		pending("")
	}

	// Canceled: PATCH with the current address (any case) ends it at once.
	_, code := request("canceled")
	r := e.do("PATCH", "/api/me", map[string]any{"email": strings.ToUpper(current)}, access)
	want(t, r, http.StatusOK, "")
	if r.str("pending_email") != "" {
		t.Fatalf("PATCH back to the current email: %s, want no pending_email", r.Raw)
	}
	confirmFails(code)

	// Expired: the change is no longer pending after a day.
	_, code = request("expired")
	e.clock.Advance(24 * time.Hour)
	tokens = e.post("/api/auth/refresh", map[string]any{"refresh_token": tokens.str("refresh_token")})
	want(t, tokens, http.StatusOK, "")
	access = tokens.str("access_token")
	pending("")
	confirmFails(code)

	// Out of attempts: five wrong codes end it.
	_, code = request("guessed")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range 5 {
		want(t, e.do("POST", "/api/me/email/confirm", map[string]any{"code": wrong}, access), http.StatusBadRequest, "invalid_code")
	}
	confirmFails(code)

	// Nothing moved the account.
	want(t, e.post("/api/auth/signin", map[string]any{"email": current, "password": testPassword}), http.StatusOK, "")
}

// TestInputHygiene: malformed requests get a 4xx with the error shape.
func TestInputHygiene(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	raw := func(contentType, body string) response {
		req, _ := http.NewRequest("POST", e.URL+"/api/auth/signin", strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return response{Status: resp.StatusCode, Raw: b.String()}
	}
	tests := []struct {
		name, contentType, body string
		wantStatus              int
		wantCode                string
	}{
		{"form encoded", "application/x-www-form-urlencoded", "email=a&password=b", 415, "unsupported_media_type"},
		{"no content type", "", `{"email":"a@b.co","password":"x"}`, 415, "unsupported_media_type"},
		{"malformed", "application/json", `{"email":`, 400, "malformed_json"},
		{"empty", "application/json", ``, 400, "malformed_json"},
		{"two objects", "application/json", `{"email":"a@b.co","password":"x"}{}`, 400, "malformed_json"},
		{"unknown field", "application/json", `{"email":"a@b.co","password":"x","admin":true}`, 400, "unknown_field"},
		{"wrong type", "application/json", `{"email":42,"password":"x"}`, 400, "validation_failed"},
		{"too large", "application/json", `{"email":"` + strings.Repeat("a", 70<<10) + `","password":"x"}`, 413, "request_too_large"},
		{"json with charset", "application/json; charset=utf-8", `{"email":"nobody@example.com","password":"x"}`, 401, "invalid_credentials"},
	}
	for _, tt := range tests {
		r := raw(tt.contentType, tt.body)
		if r.Status != tt.wantStatus || !strings.Contains(r.Raw, `"error":"`+tt.wantCode+`"`) {
			t.Errorf("%s: got %d %s, want %d %s", tt.name, r.Status, r.Raw, tt.wantStatus, tt.wantCode)
		}
	}
	// Validation problems come back per field.
	r := e.post("/api/auth/signup", map[string]any{"email": "not-an-email", "password": "a long enough passphrase", "phone_number": "555"})
	want(t, r, http.StatusBadRequest, "validation_failed")
	fields, _ := r.JSON["fields"].(map[string]any)
	if fields["email"] == nil || fields["phone_number"] == nil {
		t.Errorf("fields = %v, want problems for email and phone_number", fields)
	}
	// Passwords that break the policy say why.
	for pw, code := range map[string]string{
		"short":                      "password_too_short",
		"passwordpassword":           "password_too_common",
		"mary.smith-rocks-forever-1": "password_contains_email",
	} {
		r := e.post("/api/auth/signup", map[string]any{"email": "mary.smith@example.com", "password": pw})
		want(t, r, http.StatusBadRequest, code)
	}
}

// decodeClaims reads a JWT's payload without verifying it (the test already
// trusts where the token came from).
func decodeClaims(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	return parsed.Claims.(jwt.MapClaims)
}
