package app

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/views"
)

// The account page: the signed-in user's profile, the forms that change it,
// their active sessions and recent activity. Every form posts to its own
// route; a success redirects back with a notice, a refusal renders the whole
// page again with that form's problems in place. The JSON twin of these
// handlers is me_api.go.

// activityLimit is how many recent events the account page lists.
const activityLimit = 25

// accountPage gathers everything the account page shows.
func (s *server) accountPage(c echo.Context) (views.AccountPage, error) {
	ctx := c.Request().Context()
	p := principal(c)
	u, err := s.currentUser(c)
	if err != nil {
		return views.AccountPage{}, err
	}
	sessions, err := s.ids.Sessions(ctx, p)
	if err != nil {
		return views.AccountPage{}, err
	}
	events, err := s.ids.Activity(ctx, p, activityLimit)
	if err != nil {
		return views.AccountPage{}, err
	}
	page := views.AccountPage{
		CSRF:  csrfToken(c),
		Email: u.Email, EmailVerified: u.EmailVerified, PendingEmail: u.PendingEmail,
		Phone: u.PhoneNumber, PhoneVerified: u.PhoneNumberVerified,
		DisplayName: u.Attributes[displayNameAttr], ShowDisplayName: s.hasDisplayName(),
		MemberSince: u.CreatedAt,
		Profile:     views.ProfileForm{Phone: u.PhoneNumber, DisplayName: u.Attributes[displayNameAttr]},
		ChangePassword: views.PasswordForm{
			PasswordHint: s.passwordHint(), PasswordMinLength: s.passwordMinLength(),
		},
	}
	for _, sess := range sessions {
		page.Sessions = append(page.Sessions, views.SessionRow{
			ID: sess.ID, Device: describeDevice(sess.UserAgent), IP: sess.IP,
			CreatedAt: sess.CreatedAt, LastUsedAt: sess.LastUsedAt, Current: sess.ID == p.SessionID,
		})
	}
	for _, e := range events {
		page.Activity = append(page.Activity, views.ActivityRow{
			At: e.At, Event: describeEvent(e), Success: e.Outcome == identity.OutcomeSuccess,
			IP: e.IP, Device: describeDevice(e.UserAgent),
		})
	}
	return page, nil
}

// renderAccount renders the account page with status, after edit has filled
// in the state of the form that was just refused.
func (s *server) renderAccount(c echo.Context, status int, edit func(*views.AccountPage)) error {
	nav, err := s.nav(c)
	if err != nil {
		return err
	}
	page, err := s.accountPage(c)
	if err != nil {
		return err
	}
	edit(&page)
	return render(c, status, views.Account(nav, page))
}

func (s *server) handleAccountPage(c echo.Context) error {
	notice := s.takeNotice(c)
	return s.renderAccount(c, http.StatusOK, func(page *views.AccountPage) { page.Notice = notice })
}

// handleProfileForm saves the phone number and display name. Only what
// changed is sent, so saving an untouched form records nothing.
func (s *server) handleProfileForm(c echo.Context) error {
	u, err := s.currentUser(c)
	if err != nil {
		return err
	}
	phone := strings.TrimSpace(c.FormValue("phone_number"))
	displayName := strings.TrimSpace(c.FormValue("display_name"))
	var params identity.UpdateProfileParams
	if phone != u.PhoneNumber {
		params.PhoneNumber = &phone
	}
	if s.hasDisplayName() && displayName != u.Attributes[displayNameAttr] {
		value := &displayName
		if displayName == "" {
			value = nil // removes the attribute
		}
		params.Attributes = map[string]*string{displayNameAttr: value}
	}
	if params.PhoneNumber == nil && params.Attributes == nil {
		return s.redirectWithNotice(c, "/account", noticeProfileSaved)
	}
	_, err = s.ids.UpdateProfile(c.Request().Context(), principal(c), params, requestMeta(c))
	if err == nil {
		return s.redirectWithNotice(c, "/account", noticeProfileSaved)
	}
	st, status, unhandled := formFailure(c, err, map[string]string{"phone_number": "phone_number", displayNameAttr: "display_name"})
	if unhandled != nil {
		return unhandled
	}
	return s.renderAccount(c, status, func(page *views.AccountPage) {
		page.Profile = views.ProfileForm{FormState: st, Phone: phone, DisplayName: displayName}
	})
}

// handleChangeEmailForm starts an email change: the service emails a code to
// the new address, and the page then asks for it. It looks the same whether
// or not the new address already has an account.
func (s *server) handleChangeEmailForm(c echo.Context) error {
	u, err := s.currentUser(c)
	if err != nil {
		return err
	}
	email := strings.TrimSpace(c.FormValue("email"))
	if email != "" && identity.NormalizeEmail(email) == u.Email {
		// The service would quietly do nothing; say so instead of claiming
		// a code is on its way.
		return s.renderAccount(c, http.StatusBadRequest, func(page *views.AccountPage) {
			page.ChangeEmail = views.EmailForm{NewEmail: email, FormState: views.FormState{
				Message: "Please fix the problem marked below.",
				Errors:  map[string]string{"email": "That is already your email address."},
			}}
		})
	}
	_, err = s.ids.UpdateProfile(c.Request().Context(), principal(c), identity.UpdateProfileParams{Email: &email}, requestMeta(c))
	if err == nil {
		return s.redirectWithNotice(c, "/account", noticeEmailCodeSent)
	}
	st, status, unhandled := formFailure(c, err, map[string]string{"email": "email"})
	if unhandled != nil {
		return unhandled
	}
	return s.renderAccount(c, status, func(page *views.AccountPage) {
		page.ChangeEmail = views.EmailForm{FormState: st, NewEmail: email}
	})
}

// handleConfirmEmailForm finishes an email change with the code sent to the
// new address.
func (s *server) handleConfirmEmailForm(c echo.Context) error {
	err := s.ids.ConfirmEmailChange(c.Request().Context(), principal(c), formCode(c), requestMeta(c))
	if err == nil {
		return s.redirectWithNotice(c, "/account", noticeEmailChanged)
	}
	st, status, unhandled := formFailure(c, err, map[string]string{"code": "code"})
	if unhandled != nil {
		return unhandled
	}
	return s.renderAccount(c, status, func(page *views.AccountPage) { page.ConfirmEmail = st })
}

// handleCancelEmailForm drops a pending email change: setting the email to
// the current one is how the service is asked to (the JSON API does the
// same with PATCH /api/me).
func (s *server) handleCancelEmailForm(c echo.Context) error {
	u, err := s.currentUser(c)
	if err != nil {
		return err
	}
	email := u.Email
	if _, err := s.ids.UpdateProfile(c.Request().Context(), principal(c), identity.UpdateProfileParams{Email: &email}, requestMeta(c)); err != nil {
		return err
	}
	return s.redirectWithNotice(c, "/account", noticeEmailChangeCanceled)
}

// passwordInputs maps the change-password service's field names to the
// form's inputs.
var passwordInputs = map[string]string{
	"current_password": "current_password", "new_password": "new_password",
}

// handleChangePasswordForm changes the password. The service signs out every
// other session; this one stays.
func (s *server) handleChangePasswordForm(c echo.Context) error {
	params := identity.ChangePasswordParams{
		CurrentPassword: c.FormValue("current_password"),
		NewPassword:     c.FormValue("new_password"),
	}
	err := s.ids.ChangePassword(c.Request().Context(), principal(c), params, requestMeta(c))
	if err == nil {
		return s.redirectWithNotice(c, "/account", noticePasswordChanged)
	}
	st, status, unhandled := formFailure(c, err, passwordInputs)
	if unhandled != nil {
		return unhandled
	}
	return s.renderAccount(c, status, func(page *views.AccountPage) { page.ChangePassword.FormState = st })
}

// handleRevokeSessionForm signs out one device. Revoking the session in use
// is signing out, and is treated as such.
func (s *server) handleRevokeSessionForm(c echo.Context) error {
	p := principal(c)
	if c.Param("id") == p.SessionID {
		return s.handleSignOutForm(c)
	}
	err := s.ids.RevokeSession(c.Request().Context(), p, c.Param("id"), requestMeta(c))
	if err == nil {
		s.forgetCredentials(c.Param("id"))
		return s.redirectWithNotice(c, "/account", noticeSessionRevoked)
	}
	st, status, unhandled := formFailure(c, err, nil)
	if unhandled != nil {
		return unhandled
	}
	if status == http.StatusNotFound {
		st.Message = "That session has already ended."
	}
	return s.renderAccount(c, status, func(page *views.AccountPage) { page.SessionsMessage = st.Message })
}

// handleGlobalSignOutForm signs out every device, this one included.
func (s *server) handleGlobalSignOutForm(c echo.Context) error {
	if err := s.signOutEverywhere(c); err != nil {
		return err
	}
	s.clearSessionCookies(c)
	return s.redirectWithNotice(c, "/signin", noticeSignedOutEverywhere)
}

// describeDevice shortens a User-Agent header to what a person recognises:
// "Firefox on Windows". It is a display nicety, not a security decision
// (user agents are whatever the client says), so a few ordered substring
// checks serve better than a parsing library and its dependency; anything
// unrecognised keeps its product token (say "curl").
func describeDevice(ua string) string {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return "Unknown device"
	}
	has := func(s string) bool { return strings.Contains(ua, s) }

	browser := ""
	// Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
	switch {
	case has("Edg/"), has("EdgA/"), has("EdgiOS/"):
		browser = "Edge"
	case has("OPR/"), has("Opera"):
		browser = "Opera"
	case has("SamsungBrowser/"):
		browser = "Samsung Internet"
	case has("HeadlessChrome/"):
		browser = "Headless Chrome"
	case has("Firefox/"), has("FxiOS/"):
		browser = "Firefox"
	case has("Chrome/"), has("CriOS/"), has("Chromium/"):
		browser = "Chrome"
	case has("Safari/") && has("Version/"):
		browser = "Safari"
	}

	system := ""
	// Order matters: iPads and Android phones also say "like Mac OS X" or "Linux".
	switch {
	case has("iPhone"), has("iPod"):
		system = "iPhone"
	case has("iPad"):
		system = "iPad"
	case has("Android"):
		system = "Android"
	case has("CrOS"):
		system = "ChromeOS"
	case has("Windows"):
		system = "Windows"
	case has("Mac OS X"), has("Macintosh"):
		system = "macOS"
	case has("Linux"):
		system = "Linux"
	}

	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "Browser on " + system
	}
	// A program, not a browser: its product token names it ("curl/8.5.0").
	product, _, _ := strings.Cut(ua, " ")
	product, _, _ = strings.Cut(product, "/")
	if product == "" || len(product) > 40 {
		return "Unknown device"
	}
	return product
}

// eventWords says what each audit event means, for the activity list.
var eventWords = map[identity.EventKind][2]string{ // {success, failure}
	identity.EventSignUp:           {"Signed up", "Someone tried to sign up with this address"},
	identity.EventConfirmSignUp:    {"Confirmed email with a code", "Email confirmation failed"},
	identity.EventConfirmLinkUsed:  {"Confirmed email with the link", "Email confirmation link failed"},
	identity.EventResendConfirm:    {"Asked for a new confirmation code", "New confirmation code refused"},
	identity.EventSignIn:           {"Signed in", "Sign-in failed"},
	identity.EventRefresh:          {"Session renewed", "Session renewal failed"},
	identity.EventRefreshReuse:     {"Reused sign-in token detected; session ended", "Reused sign-in token detected; session ended"},
	identity.EventSignOut:          {"Signed out", "Sign-out failed"},
	identity.EventGlobalSignOut:    {"Signed out everywhere", "Sign-out everywhere failed"},
	identity.EventSessionRevoked:   {"Signed out a device", "Signing out a device failed"},
	identity.EventForgotPassword:   {"Asked for a password reset", "Password reset request refused"},
	identity.EventResetPassword:    {"Reset password", "Password reset failed"},
	identity.EventChangePassword:   {"Changed password", "Password change failed"},
	identity.EventPasswordRehashed: {"Password storage upgraded", "Password storage upgrade failed"},
	identity.EventUpdateProfile:    {"Updated profile", "Profile update failed"},
	identity.EventConfirmNewEmail:  {"Confirmed new email address", "New email confirmation failed"},
	identity.EventCredentialsVend:  {"Photo storage access granted", "Photo storage access refused"},
	identity.EventThrottled:        {"Slowed down after many attempts", "Slowed down after many attempts"},
}

// detailWords explains the machine-readable reason of a failed event.
var detailWords = map[string]string{
	"wrong_password":    "wrong password",
	"not_confirmed":     "email not confirmed yet",
	"disabled":          "account disabled",
	"throttled_ip":      "too many attempts",
	"throttled_account": "too many attempts",
	"invalid_code":      "wrong or expired code",
	// A refused credential vend (see handleCredentials).
	"storage_unavailable": "photo storage was unavailable",
}

// describeEvent puts an audit event in words: "Sign-in failed: wrong password".
func describeEvent(e identity.Event) string {
	words, ok := eventWords[e.Kind]
	if !ok {
		// A kind added after this table: readable, if plain.
		s := strings.ReplaceAll(string(e.Kind), "_", " ")
		if s == "" {
			return "Account event"
		}
		return strings.ToUpper(s[:1]) + s[1:]
	}
	if e.Outcome == identity.OutcomeSuccess {
		return words[0]
	}
	if reason, ok := detailWords[e.Detail]; ok {
		return words[1] + ": " + reason
	}
	return words[1]
}
