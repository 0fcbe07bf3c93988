package app

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pinhole/pinhole/internal/testenv"
)

// TestOpenIDClientVerifiesOurTokens uses an ordinary OpenID Connect library
// (coreos/go-oidc), which knows nothing of Pinhole, to discover the issuer,
// fetch the JWKS and verify an ID token: what any outside relying party does.
func TestOpenIDClientVerifiesOurTokens(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	signIn := e.signUpConfirmed(uniqueEmail("oidc"))

	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, e.URL)
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	verifier := provider.Verifier(&oidc.Config{
		ClientID:             "pinhole-web",
		SupportedSigningAlgs: []string{oidc.ES256},
		Now:                  e.clock.Now,
	})
	idToken, err := verifier.Verify(ctx, signIn.str("id_token"))
	if err != nil {
		t.Fatalf("verify ID token with go-oidc: %v", err)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		TokenUse      string `json:"token_use"`
	}
	if err := idToken.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Email == "" || !claims.EmailVerified || claims.TokenUse != "id" {
		t.Errorf("claims = %+v, want a verified email and token_use id", claims)
	}
	// An access token is not an ID token: no audience, so the library refuses it.
	if _, err := verifier.Verify(ctx, signIn.str("access_token")); err == nil {
		t.Error("go-oidc accepted an access token as an ID token")
	}
	// Another client's verifier refuses our ID token.
	other := provider.Verifier(&oidc.Config{ClientID: "someone-else", Now: e.clock.Now})
	if _, err := other.Verify(ctx, signIn.str("id_token")); err == nil {
		t.Error("an ID token for pinhole-web verified for another client")
	}

	r := e.do("GET", "/.well-known/jwks.json", nil, "")
	want(t, r, http.StatusOK, "")
	if r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("JWKS Content-Type = %q", r.Header.Get("Content-Type"))
	}
}

// TestUserInfoEndpoint: the discovery document's userinfo_endpoint answers an
// ordinary OpenID library with standard claims, and only for a Bearer access
// token of a live session.
func TestUserInfoEndpoint(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	email := uniqueEmail("userinfo")
	signIn := e.signUpConfirmed(email)
	access := signIn.str("access_token")
	want(t, e.do("PATCH", "/api/me", map[string]any{"attributes": map[string]any{"custom:display_name": "Ada"}}, access), http.StatusOK, "")

	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, e.URL)
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	if got, wantURL := provider.UserInfoEndpoint(), e.URL+"/oauth2/userInfo"; got != wantURL {
		t.Errorf("userinfo_endpoint = %q, want %q", got, wantURL)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access, TokenType: "Bearer"}))
	if err != nil {
		t.Fatalf("go-oidc UserInfo: %v", err)
	}
	me := e.do("GET", "/api/me", nil, access)
	if info.Subject != me.str("sub") || info.Email != email || !info.EmailVerified {
		t.Errorf("UserInfo = sub %q email %q verified %v, want %q %q true", info.Subject, info.Email, info.EmailVerified, me.str("sub"), email)
	}
	var claims map[string]any
	if err := info.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if _, isNumber := claims["updated_at"].(float64); !isNumber {
		t.Errorf("updated_at = %#v, want a number of seconds (OpenID Connect Core §5.1)", claims["updated_at"])
	}
	if claims["custom:display_name"] != "Ada" {
		t.Errorf("custom:display_name = %#v, want \"Ada\"", claims["custom:display_name"])
	}
	for _, absent := range []string{"phone_number", "phone_number_verified", "password_hash", "status", "pending_email"} {
		if _, ok := claims[absent]; ok {
			t.Errorf("UserInfo has %q; want it left out: %v", absent, claims)
		}
	}
	r := e.do("GET", "/.well-known/openid-configuration", nil, "")
	if !strings.Contains(r.Raw, `"custom:display_name"`) {
		t.Errorf("claims_supported does not list the declared custom attribute: %s", r.Raw)
	}

	// POST works like GET (OpenID Connect Core §5.3.1).
	want(t, e.do("POST", "/oauth2/userInfo", nil, access), http.StatusOK, "")

	// Refused: no token (a bare challenge), an ID token, the session's
	// cookie without a Bearer header, and a token whose session ended.
	r = e.do("GET", "/oauth2/userInfo", nil, "")
	want(t, r, http.StatusUnauthorized, "invalid_token")
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="pinhole"` {
		t.Errorf("WWW-Authenticate without a token = %q, want a bare Bearer challenge", got)
	}
	r = e.do("GET", "/oauth2/userInfo", nil, signIn.str("id_token"))
	want(t, r, http.StatusUnauthorized, "invalid_token")
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
		t.Errorf("WWW-Authenticate for an ID token = %q", got)
	}
	req, _ := http.NewRequest("GET", e.URL+"/oauth2/userInfo", nil)
	req.AddCookie(&http.Cookie{Name: "pinhole_access", Value: access})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("UserInfo with only the session cookie = %d, want 401", resp.StatusCode)
	}

	// A browser app elsewhere may ask (its preflight is answered), since
	// only a token it holds gets it anything.
	req, _ = http.NewRequest("OPTIONS", e.URL+"/oauth2/userInfo", nil)
	req.Header.Set("Origin", "https://app.example.net")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("preflight = %d, allow-origin %q, allow-headers %q", resp.StatusCode,
			resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Headers"))
	}
	if resp.Header.Get("Access-Control-Allow-Credentials") == "true" {
		t.Error("preflight allows credentials; the endpoint must not be usable with cookies cross-origin")
	}

	want(t, e.do("POST", "/api/auth/signout", nil, access), http.StatusNoContent, "")
	want(t, e.do("GET", "/oauth2/userInfo", nil, access), http.StatusUnauthorized, "invalid_token")
}
