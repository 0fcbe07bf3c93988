package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
)

// openIDConfiguration is the discovery document (OpenID Connect Discovery
// 1.0). Pinhole signs in with its own API rather than the OAuth redirect
// flow, so there is no authorization endpoint; what outside clients need to
// verify Pinhole's tokens (issuer, JWKS, algorithms, claims) is all here.
type openIDConfiguration struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	UserinfoEndpoint                 string   `json:"userinfo_endpoint"`
	ResponseTypesSupported           []string `json:"response_types_supported"`
	SubjectTypesSupported            []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                  []string `json:"scopes_supported"`
	ClaimsSupported                  []string `json:"claims_supported"`
}

func (s *server) handleOpenIDConfiguration(c echo.Context) error {
	base := s.cfg.BaseURL.String()
	claims := []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "jti", "sid", "token_use",
		"email", "email_verified", "phone_number", "phone_number_verified", "groups", "updated_at"}
	for _, a := range s.cfg.CustomAttributes {
		claims = append(claims, identity.CustomPrefix+a.Name)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSON(http.StatusOK, openIDConfiguration{
		Issuer:                           base,
		JWKSURI:                          base + "/.well-known/jwks.json",
		UserinfoEndpoint:                 base + userInfoPath,
		ResponseTypesSupported:           []string{"id_token", "token id_token"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: []string{"ES256"},
		ScopesSupported:                  []string{"openid", "email", "profile", "pinhole/photos"},
		ClaimsSupported:                  claims,
	})
}

func (s *server) handleJWKS(c echo.Context) error {
	set, err := s.ids.Tokens().JWKS(c.Request().Context())
	if err != nil {
		return err
	}
	// Short: after a rotation, verifiers should see the new key soon.
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, set)
}
