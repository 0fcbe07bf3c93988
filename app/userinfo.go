package app

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/pinhole/pinhole/identity"
)

// userInfoPath is the OpenID Connect UserInfo endpoint, at the path Cognito
// uses. It is what the discovery document names, so OpenID libraries (and
// anything else holding an access token) can ask who the token's user is in
// the standard shape. GET /api/me stays Pinhole's own, richer profile.
const userInfoPath = "/oauth2/userInfo"

// userInfo is the UserInfo response (OpenID Connect Core 1.0 §5.3.2): the
// same claims an ID token carries about the user, under their standard
// names and types. Optional claims are left out when the user has no value,
// rather than sent empty.
type userInfo map[string]any

func newUserInfo(u *identity.User) userInfo {
	info := userInfo{
		"sub":            u.Sub,
		"email":          u.Email,
		"email_verified": u.EmailVerified,
		// §5.1: a number, the seconds since the epoch.
		"updated_at": u.UpdatedAt.Unix(),
	}
	if u.PhoneNumber != "" {
		info["phone_number"] = u.PhoneNumber
		info["phone_number_verified"] = u.PhoneNumberVerified
	}
	for name, value := range u.Attributes {
		info[name] = value // already "custom:<name>"
	}
	if len(u.Groups) > 0 {
		info["groups"] = u.Groups
	}
	return info
}

// userInfoCORS lets browser apps on other origins call UserInfo with a
// Bearer token. That is safe because the endpoint takes no cookies (see
// requireBearer): a page elsewhere can learn only what a token it already
// holds entitles it to.
var userInfoCORS = middleware.CORSWithConfig(middleware.CORSConfig{
	AllowOrigins: []string{"*"},
	AllowMethods: []string{http.MethodGet, http.MethodPost},
	AllowHeaders: []string{echo.HeaderAuthorization},
	MaxAge:       3600,
})

// requireBearer is requireAuth for OAuth-style endpoints: the access token
// must come in the Authorization header (RFC 6750 §2.1). Cookies are not
// looked at, so a browser visiting from another site cannot use the user's
// session here.
func (s *server) requireBearer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok, ok := bearerToken(c)
		if !ok {
			// RFC 6750 §3.1: a request without credentials gets the
			// challenge but no error code.
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="pinhole"`)
			return identity.ErrUnauthenticated
		}
		p, err := s.ids.Authenticate(c.Request().Context(), tok)
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

func (s *server) handleUserInfo(c echo.Context) error {
	u, err := s.ids.Me(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newUserInfo(u))
}
