package app

import (
	"context"
	"net/http"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestOpenIDClientVerifiesOurTokens uses an ordinary OpenID Connect library
// (coreos/go-oidc), which knows nothing of Pinhole, to discover the issuer,
// fetch the JWKS and verify an ID token: what any outside relying party does.
func TestOpenIDClientVerifiesOurTokens(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, dialects[0].url(t))
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
