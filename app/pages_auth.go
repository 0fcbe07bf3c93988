package app

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/views"
)

// The user pool's pages: sign-up, confirmation, sign-in and sign-out, and
// password recovery. They drive the same identity.Service methods as the
// JSON API in auth_api.go; the difference is only in the shape of the answer
// (a page, a redirect, cookies instead of tokens in a body).

// csrf protects every page form with a token (double-submit cookie, plus
// Fetch Metadata for browsers that send it), via Echo's CSRF middleware.
// Refusals are 403 with the usual error page, whatever the cause.
func (s *server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		CookieName:     "pinhole_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   secureCookies(s.cfg.BaseURL),
		CookieSameSite: http.SameSiteLaxMode,
		TrustedOrigins: []string{s.cfg.BaseURL.Scheme + "://" + s.cfg.BaseURL.Host},
		// Called for state-changing requests a browser marks as same-site or
		// cross-site. Cross-site ones are refused outright; same-site ones (a
		// sibling subdomain) must still present a valid token.
		AllowSecFetchSiteFunc: func(c echo.Context) (bool, error) {
			if c.Request().Header.Get(echo.HeaderSecFetchSite) == "cross-site" {
				return false, errCrossSiteForm
			}
			return false, nil
		},
		// A missing or wrong token: Echo would answer 400 for a missing one.
		ErrorHandler: func(error, echo.Context) error { return errCSRFToken },
	})
}

var (
	errCrossSiteForm = &APIError{Status: http.StatusForbidden, Code: "cross_site_request",
		Message: "This form was sent from another site, so it was refused."}
	errCSRFToken = &APIError{Status: http.StatusForbidden, Code: "invalid_csrf_token",
		Message: "This form has expired or was not sent by a Pinhole page. Go back, reload the page and try again."}
)

// requirePageAuth is requireAuth for pages: visitors are sent to sign in,
// and come back to the page they asked for afterwards.
func (s *server) requirePageAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.authenticate(c)
		if errors.Is(err, identity.ErrUnauthenticated) {
			target := "/signin"
			if c.Request().Method == http.MethodGet {
				target = withQuery(target, "next", c.Request().URL.RequestURI())
			}
			return c.Redirect(http.StatusSeeOther, target)
		}
		if err != nil {
			// Not a visitor but a failure (the database is down, say): the
			// error page, since a sign-in form could not work either.
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// landingPage is where sign-in leads when no ?next= asks for another page:
// the photos, which are what people come for.
const landingPage = "/photos"

// safeNext returns next if it is a path on this site, or "". Only local
// paths are allowed, so a link to /signin?next=https://evil.example cannot
// send a user who just signed in to a look-alike site (an open redirect).
// "//host" and "/\host" are refused too: browsers read both as another host.
// url.Parse refuses control characters, which could split a Location header.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return ""
	}
	return next
}

// signUpInputs maps the sign-up service's field names to the form's inputs.
var signUpInputs = map[string]string{
	"email": "email", "password": "password", "phone_number": "phone_number", displayNameAttr: "display_name",
}

func (s *server) signUpPage(c echo.Context) views.SignUpPage {
	return views.SignUpPage{
		CSRF: csrfToken(c), PasswordHint: s.passwordHint(), PasswordMinLength: s.passwordMinLength(),
		ShowDisplayName: s.hasDisplayName(),
	}
}

func (s *server) handleSignUpPage(c echo.Context) error {
	if principal(c) != nil {
		return c.Redirect(http.StatusSeeOther, landingPage)
	}
	return render(c, http.StatusOK, views.SignUp(views.Nav{}, s.signUpPage(c)))
}

// handleSignUpForm registers the user, then sends them to enter the code.
// Known and unknown addresses get the same redirect and notice: the service
// emails the owner of a known address instead of creating an account.
func (s *server) handleSignUpForm(c echo.Context) error {
	params := identity.SignUpParams{
		Email:       strings.TrimSpace(c.FormValue("email")),
		Password:    c.FormValue("password"),
		PhoneNumber: strings.TrimSpace(c.FormValue("phone_number")),
	}
	displayName := strings.TrimSpace(c.FormValue("display_name"))
	if displayName != "" && s.hasDisplayName() {
		params.Attributes = map[string]string{displayNameAttr: displayName}
	}
	err := s.ids.SignUp(c.Request().Context(), params, requestMeta(c))
	if err == nil {
		return s.redirectWithNotice(c, withQuery("/confirm", "email", identity.NormalizeEmail(params.Email)), noticeSignedUp)
	}
	st, status, unhandled := formFailure(c, err, signUpInputs)
	if unhandled != nil {
		return unhandled
	}
	page := s.signUpPage(c)
	page.Email, page.Phone, page.DisplayName = params.Email, params.PhoneNumber, displayName
	page.FormState = st
	return render(c, status, views.SignUp(views.Nav{}, page))
}

func (s *server) renderConfirm(c echo.Context, status int, page views.ConfirmPage) error {
	nav, err := s.nav(c)
	if err != nil {
		return err
	}
	page.CSRF = csrfToken(c)
	return render(c, status, views.Confirm(nav, page))
}

func (s *server) handleConfirmPage(c echo.Context) error {
	return s.renderConfirm(c, http.StatusOK, views.ConfirmPage{
		Email:  strings.TrimSpace(c.QueryParam("email")),
		Notice: s.takeNotice(c),
	})
}

func (s *server) handleConfirmForm(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	err := s.ids.ConfirmSignUp(c.Request().Context(), email, formCode(c), requestMeta(c))
	if err == nil {
		return s.redirectWithNotice(c, withQuery("/signin", "email", identity.NormalizeEmail(email)), noticeConfirmed)
	}
	st, status, unhandled := formFailure(c, err, map[string]string{"email": "email", "code": "code"})
	if unhandled != nil {
		return unhandled
	}
	return s.renderConfirm(c, status, views.ConfirmPage{Email: email, FormState: st})
}

// handleResendForm sends a new confirmation code. Like sign-up, it says the
// same for every address.
func (s *server) handleResendForm(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	err := s.ids.ResendConfirmation(c.Request().Context(), email, requestMeta(c))
	if err == nil {
		return s.redirectWithNotice(c, withQuery("/confirm", "email", identity.NormalizeEmail(email)), noticeCodeResent)
	}
	st, status, unhandled := formFailure(c, err, map[string]string{"email": "email"})
	if unhandled != nil {
		return unhandled
	}
	return s.renderConfirm(c, status, views.ConfirmPage{Email: email, Resend: st})
}

// handleConfirmLink is where the link in the confirmation email lands. It is
// a GET that changes state, as every emailed link must be; it is harmless,
// since the token is single-use and only confirms what its holder can prove.
func (s *server) handleConfirmLink(c echo.Context) error {
	nav, err := s.nav(c)
	if err != nil {
		return err
	}
	err = s.ids.ConfirmSignUpLink(c.Request().Context(), c.QueryParam("token"), requestMeta(c))
	if err == nil {
		return render(c, http.StatusOK, views.ConfirmLink(nav, views.ConfirmLinkPage{Confirmed: true}))
	}
	st, status, unhandled := formFailure(c, err, nil)
	if unhandled != nil {
		return unhandled
	}
	page := views.ConfirmLinkPage{Message: st.Message}
	if status == http.StatusBadRequest {
		page.Message = "The link has expired, was already used, or was replaced by a newer one."
	}
	return render(c, status, views.ConfirmLink(nav, page))
}

func (s *server) handleSignInPage(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if principal(c) != nil {
		return c.Redirect(http.StatusSeeOther, cmp.Or(next, landingPage))
	}
	return render(c, http.StatusOK, views.SignIn(views.Nav{}, views.SignInPage{
		CSRF:   csrfToken(c),
		Email:  strings.TrimSpace(c.QueryParam("email")),
		Next:   next,
		Notice: s.takeNotice(c),
	}))
}

// handleSignInForm checks the password and, on success, keeps the tokens in
// HttpOnly cookies and continues to ?next= or the landing page.
func (s *server) handleSignInForm(c echo.Context) error {
	ctx := c.Request().Context()
	email := strings.TrimSpace(c.FormValue("email"))
	next := safeNext(c.FormValue("next"))
	res, err := s.ids.SignIn(ctx, email, c.FormValue("password"), requestMeta(c))
	if err != nil {
		st, status, unhandled := formFailure(c, err, map[string]string{"email": "email", "password": "password"})
		if unhandled != nil {
			return unhandled
		}
		page := views.SignInPage{CSRF: csrfToken(c), Email: email, Next: next, FormState: st}
		if errors.Is(err, identity.ErrUserNotConfirmed) {
			// Only said after a correct password, so it reveals nothing new.
			page.Unconfirmed = true
			page.ConfirmURL = withQuery("/confirm", "email", identity.NormalizeEmail(email))
		}
		return render(c, status, views.SignIn(views.Nav{}, page))
	}
	if res.Challenge != nil {
		// No challenge exists yet; when MFA arrives, its page goes here.
		return fmt.Errorf("app: sign-in challenge %q has no page", res.Challenge.Name)
	}
	// A browser has one session: signing in again (perhaps as someone else)
	// ends the previous one rather than leaving it active but unreachable.
	if ck, err := c.Cookie(cookieRefresh); err == nil && ck.Value != "" {
		if err := s.ids.SignOutRefreshToken(ctx, ck.Value, requestMeta(c)); err != nil {
			s.log.WarnContext(ctx, "previous session not ended", "err", err)
		}
	}
	s.setSessionCookies(c, res.Tokens)
	return c.Redirect(http.StatusSeeOther, cmp.Or(next, landingPage))
}

// handleSignOutForm ends this browser's session.
func (s *server) handleSignOutForm(c echo.Context) error {
	p := principal(c)
	if err := s.ids.SignOut(c.Request().Context(), p, requestMeta(c)); err != nil {
		return err
	}
	s.forgetCredentials(p.SessionID)
	s.clearSessionCookies(c)
	return s.redirectWithNotice(c, "/signin", noticeSignedOut)
}

func (s *server) renderForgot(c echo.Context, status int, page views.ForgotPage) error {
	nav, err := s.nav(c)
	if err != nil {
		return err
	}
	page.CSRF = csrfToken(c)
	return render(c, status, views.Forgot(nav, page))
}

func (s *server) handleForgotPage(c echo.Context) error {
	return s.renderForgot(c, http.StatusOK, views.ForgotPage{Email: strings.TrimSpace(c.QueryParam("email"))})
}

// handleForgotForm sends a reset code, then shows the page to enter it with
// the same words whether or not the address has an account.
func (s *server) handleForgotForm(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	err := s.ids.ForgotPassword(c.Request().Context(), email, requestMeta(c))
	if err == nil {
		return s.redirectWithNotice(c, withQuery("/reset", "email", identity.NormalizeEmail(email)), noticeResetSent)
	}
	st, status, unhandled := formFailure(c, err, map[string]string{"email": "email"})
	if unhandled != nil {
		return unhandled
	}
	return s.renderForgot(c, status, views.ForgotPage{Email: email, FormState: st})
}

func (s *server) renderReset(c echo.Context, status int, page views.ResetPage) error {
	nav, err := s.nav(c)
	if err != nil {
		return err
	}
	page.CSRF = csrfToken(c)
	page.PasswordHint, page.PasswordMinLength = s.passwordHint(), s.passwordMinLength()
	return render(c, status, views.Reset(nav, page))
}

// handleResetPage serves both ways to reset: with ?token= from the emailed
// link (only the new password is asked for) or with the emailed code.
func (s *server) handleResetPage(c echo.Context) error {
	return s.renderReset(c, http.StatusOK, views.ResetPage{
		Token:  c.QueryParam("token"),
		Email:  strings.TrimSpace(c.QueryParam("email")),
		Notice: s.takeNotice(c),
	})
}

// resetInputs maps the reset service's field names to the form's inputs.
var resetInputs = map[string]string{
	"email": "email", "code": "code", "new_password": "new_password",
}

func (s *server) handleResetForm(c echo.Context) error {
	params := identity.ResetParams{
		Token:       c.FormValue("token"),
		Email:       strings.TrimSpace(c.FormValue("email")),
		NewPassword: c.FormValue("new_password"),
	}
	if params.Token == "" {
		params.Code = formCode(c)
	}
	err := s.ids.ResetPassword(c.Request().Context(), params, requestMeta(c))
	if err == nil {
		// Every session ended, this browser's too.
		s.clearSessionCookies(c)
		return s.redirectWithNotice(c, withQuery("/signin", "email", identity.NormalizeEmail(params.Email)), noticePasswordReset)
	}
	st, status, unhandled := formFailure(c, err, resetInputs)
	if unhandled != nil {
		return unhandled
	}
	if params.Token != "" && errors.Is(err, identity.ErrInvalidCode) {
		st.Message = "This reset link has expired or was already used. Send yourself a new one below."
	}
	return s.renderReset(c, status, views.ResetPage{
		Token: params.Token, Email: params.Email, FormState: st,
	})
}
