package app

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
)

// Cookie names. The pages keep the user's tokens in HttpOnly cookies, out of
// reach of scripts; the JSON API also takes a Bearer access token.
const (
	cookieAccess  = "pinhole_access"
	cookieRefresh = "pinhole_refresh"
)

// principalKey is where the authenticated principal lives in echo.Context.
const principalKey = "pinhole.principal"

// principal returns the caller authenticated by requireAuth or optionalAuth.
func principal(c echo.Context) *identity.Principal {
	p, _ := c.Get(principalKey).(*identity.Principal)
	return p
}

// requestMeta describes the caller for throttling and the audit trail. The
// IP comes from the connection, not from X-Forwarded-For, unless the operator
// names trusted proxies (see ipExtractor).
func requestMeta(c echo.Context) identity.RequestMeta {
	return identity.RequestMeta{IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// requireAuth lets a request through only with a valid access token whose
// session is active: a Bearer header (API clients) or the access cookie
// (pages), refreshed transparently from the refresh cookie when it expired.
func (s *server) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.authenticate(c)
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// optionalAuth is requireAuth for pages that also serve visitors.
func (s *server) optionalAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p, err := s.authenticate(c); err == nil {
			c.Set(principalKey, p)
		}
		return next(c)
	}
}

// authenticate finds and checks the caller's access token.
func (s *server) authenticate(c echo.Context) (*identity.Principal, error) {
	ctx := c.Request().Context()
	if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
		tok, ok := bearerToken(c)
		if !ok {
			return nil, identity.ErrUnauthenticated
		}
		return s.ids.Authenticate(ctx, tok)
	}
	if ck, err := c.Cookie(cookieAccess); err == nil && ck.Value != "" {
		if p, err := s.ids.Authenticate(ctx, ck.Value); err == nil {
			return p, nil
		}
	}
	// No usable access token: try the refresh cookie, so a page load after
	// fifteen idle minutes does not bounce the user to the sign-in page.
	ck, err := c.Cookie(cookieRefresh)
	if err != nil || ck.Value == "" {
		return nil, identity.ErrUnauthenticated
	}
	tokens, err := s.ids.Refresh(ctx, ck.Value, requestMeta(c))
	if err != nil {
		if !errors.Is(err, identity.ErrInvalidRefreshToken) && !errors.Is(err, identity.ErrRefreshTokenReused) {
			return nil, err
		}
		s.clearSessionCookies(c)
		return nil, identity.ErrUnauthenticated
	}
	s.setSessionCookies(c, tokens)
	return s.ids.Authenticate(ctx, tokens.AccessToken)
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header (RFC 6750 §2.1; the scheme is case-insensitive). ok is false when
// the header is missing, names another scheme or carries no token.
func bearerToken(c echo.Context) (token string, ok bool) {
	scheme, tok, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	tok = strings.TrimSpace(tok)
	return tok, strings.EqualFold(scheme, "Bearer") && tok != ""
}

// setSessionCookies stores a token set in the browser.
func (s *server) setSessionCookies(c echo.Context, t *identity.TokenSet) {
	c.SetCookie(s.cookie(cookieAccess, t.AccessToken, time.Duration(t.ExpiresIn)*time.Second))
	c.SetCookie(s.cookie(cookieRefresh, t.RefreshToken, s.cfg.RefreshTTL))
}

// clearSessionCookies removes the token cookies.
func (s *server) clearSessionCookies(c echo.Context) {
	c.SetCookie(s.cookie(cookieAccess, "", -1))
	c.SetCookie(s.cookie(cookieRefresh, "", -1))
}

// cookie builds a session cookie: HttpOnly (no script can read it), Secure
// except on plain-http localhost during development, SameSite=Lax (not sent
// on cross-site POSTs, which blunts CSRF).
func (s *server) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	ck := &http.Cookie{
		Name: name, Value: value, Path: "/",
		HttpOnly: true, Secure: secureCookies(s.cfg.BaseURL), SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		ck.MaxAge = -1
	} else {
		ck.MaxAge = int(maxAge / time.Second)
	}
	return ck
}

// secureCookies is false only for http://localhost (and loopback addresses),
// where browsers would otherwise drop Secure cookies during development.
func secureCookies(base *url.URL) bool {
	if base == nil || base.Scheme == "https" {
		return true
	}
	host := base.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
