package app

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/password"
	"github.com/pinhole/pinhole/storage"
	"github.com/pinhole/pinhole/views"
)

// This file holds what every page handler shares: rendering, the header,
// notices that survive a redirect, and turning a service error into the
// problems a form shows. The handlers themselves live in pages_auth.go
// (sign-up, sign-in, recovery), pages_account.go and pages_photos.go.

// handleHome serves the landing page.
func (s *server) handleHome(c echo.Context) error {
	nav, err := s.nav(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Home(nav))
}

// render writes a templ component. It renders into a buffer first so that a
// failing component becomes a proper error page instead of half a page with a
// 200 status already sent.
func render(c echo.Context, status int, page templ.Component) error {
	var buf bytes.Buffer
	if err := page.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("app: render page: %w", err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// csrfToken is the token the csrf middleware expects back in the _csrf
// field of every form on the page.
func csrfToken(c echo.Context) string {
	tok, _ := c.Get("csrf").(string)
	return tok
}

// userKey is where currentUser keeps the signed-in user for the request.
const userKey = "pinhole.user"

// currentUser returns the signed-in user, or nil for a visitor. It asks the
// user pool once per request, however many parts of the page need the user.
func (s *server) currentUser(c echo.Context) (*identity.User, error) {
	if u, ok := c.Get(userKey).(*identity.User); ok {
		return u, nil
	}
	p := principal(c)
	if p == nil {
		return nil, nil
	}
	u, err := s.ids.Me(c.Request().Context(), p)
	if err != nil {
		return nil, err
	}
	c.Set(userKey, u)
	return u, nil
}

// nav is what the header shows: the signed-in user's email (and the token of
// the header's sign-out form), or nothing for a visitor.
func (s *server) nav(c echo.Context) (views.Nav, error) {
	u, err := s.currentUser(c)
	if err != nil || u == nil {
		return views.Nav{}, err
	}
	return views.Nav{Email: u.Email, CSRF: csrfToken(c)}, nil
}

// Notices carry the outcome of a form across the redirect that follows it
// (post/redirect/get). The redirect sets a short-lived cookie holding one of
// these keys; the next page shows the matching text and deletes the cookie.
// Only fixed keys travel, never text: a crafted link or cookie cannot make a
// page say anything we did not write.
type noticeKey string

const (
	noticeSignedUp            noticeKey = "signed_up"
	noticeCodeResent          noticeKey = "code_resent"
	noticeConfirmed           noticeKey = "confirmed"
	noticeResetSent           noticeKey = "reset_sent"
	noticePasswordReset       noticeKey = "password_reset"
	noticeSignedOut           noticeKey = "signed_out"
	noticeSignedOutEverywhere noticeKey = "signed_out_everywhere"
	noticeProfileSaved        noticeKey = "profile_saved"
	noticeEmailCodeSent       noticeKey = "email_code_sent"
	noticeEmailChanged        noticeKey = "email_changed"
	noticeEmailChangeCanceled noticeKey = "email_change_canceled"
	noticePasswordChanged     noticeKey = "password_changed"
	noticeSessionRevoked      noticeKey = "session_revoked"
	noticeCaptionSaved        noticeKey = "caption_saved"
	noticePhotoDeleted        noticeKey = "photo_deleted"
)

// notices is the text of each notice. The sign-up, resend and forgot texts
// are written to be true whether or not the address has an account.
var notices = map[noticeKey]views.Notice{
	noticeSignedUp:            {Kind: views.NoticeInfo, Text: "Check your email: we sent a 6-digit code and a link to confirm your address."},
	noticeCodeResent:          {Kind: views.NoticeInfo, Text: "If that address has an account waiting for confirmation, a new code is on its way."},
	noticeConfirmed:           {Kind: views.NoticeSuccess, Text: "Your email address is confirmed. You can sign in now."},
	noticeResetSent:           {Kind: views.NoticeInfo, Text: "If that address has an account, we sent it a code and a link to reset the password."},
	noticePasswordReset:       {Kind: views.NoticeSuccess, Text: "Your password is reset and every device was signed out. Sign in with the new password."},
	noticeSignedOut:           {Kind: views.NoticeSuccess, Text: "You are signed out."},
	noticeSignedOutEverywhere: {Kind: views.NoticeSuccess, Text: "You are signed out on every device."},
	noticeProfileSaved:        {Kind: views.NoticeSuccess, Text: "Your details are saved."},
	noticeEmailCodeSent:       {Kind: views.NoticeInfo, Text: "Check the new address for a 6-digit code and enter it below to finish the change."},
	noticeEmailChanged:        {Kind: views.NoticeSuccess, Text: "Your email address is changed. Use it to sign in from now on."},
	noticeEmailChangeCanceled: {Kind: views.NoticeInfo, Text: "The email change is canceled. Your address stays as it was."},
	noticePasswordChanged:     {Kind: views.NoticeSuccess, Text: "Your password is changed. Your other devices were signed out."},
	noticeSessionRevoked:      {Kind: views.NoticeSuccess, Text: "That device is signed out."},
	noticeCaptionSaved:        {Kind: views.NoticeSuccess, Text: "The caption is saved."},
	noticePhotoDeleted:        {Kind: views.NoticeSuccess, Text: "The photo is deleted."},
}

// cookieNotice holds a noticeKey between a redirect and the next page.
const cookieNotice = "pinhole_notice"

// redirectWithNotice ends a successful form post: 303 sends the browser to
// target with a GET, so reloading the next page does not post the form again.
func (s *server) redirectWithNotice(c echo.Context, target string, key noticeKey) error {
	c.SetCookie(s.cookie(cookieNotice, string(key), time.Minute))
	return c.Redirect(http.StatusSeeOther, target)
}

// takeNotice returns the notice left by the previous redirect, once.
func (s *server) takeNotice(c echo.Context) views.Notice {
	ck, err := c.Cookie(cookieNotice)
	if err != nil {
		return views.Notice{}
	}
	c.SetCookie(s.cookie(cookieNotice, "", -1))
	return notices[noticeKey(ck.Value)]
}

// withQuery builds a local URL such as /confirm?email=a%40b.c; empty values
// are left out.
func withQuery(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// formFailure turns the error of a form's service call into what the form
// shows. Field problems go next to their inputs: inputs maps the service's
// field names to the form's input names (they differ where a service field
// has a more specific name on the page, like new_password); problems with no
// input on this form join the message at the top. It returns the HTTP status
// to render with and, for a 429, sets Retry-After itself, because the page is
// rendered here rather than by the error handler.
//
// An error with no public meaning (a 500, or a dependency down) is returned
// as is: the handler must return it, so that the error page renders and the
// real cause is logged. Swallowing it would show a form that looks merely
// refused.
func formFailure(c echo.Context, err error, inputs map[string]string) (views.FormState, int, error) {
	pub := publicError(err)
	if pub.Status >= http.StatusInternalServerError {
		return views.FormState{}, 0, err
	}
	st := views.FormState{Errors: map[string]string{}, Message: pub.Message}
	var unplaced []string
	for _, field := range slices.Sorted(maps.Keys(pub.Fields)) {
		if input, ok := inputs[field]; ok {
			st.Errors[input] = pub.Fields[field]
		} else {
			unplaced = append(unplaced, pub.Fields[field])
		}
	}
	var verr *identity.ValidationError
	if errors.As(err, &verr) || errors.Is(err, storage.ErrInvalidPhoto) {
		// The field messages say it all; the top only points at them, and
		// carries the problems that have no input here.
		summary := ""
		switch placed := len(st.Errors); {
		case placed == 1:
			summary = "Please fix the problem marked below."
		case placed > 1:
			summary = "Please fix the " + strconv.Itoa(placed) + " problems marked below."
		case len(unplaced) == 0:
			summary = pub.Message
		}
		st.Message = strings.TrimSpace(summary + " " + strings.Join(unplaced, " "))
	}
	if pub.Status == http.StatusTooManyRequests {
		wait := pub.retryWait()
		setRetryAfter(c, wait)
		if !errors.Is(err, password.ErrBusy) {
			st.Message = "Too many attempts. Please try again in " + humanWait(wait) + "."
		}
	}
	return st, pub.Status, nil
}

// humanWait says a throttle's wait the way a person would.
func humanWait(d time.Duration) string {
	switch {
	case d <= 10*time.Second:
		return "a few seconds"
	case d < 90*time.Second:
		return "a minute"
	case d < 90*time.Minute:
		return strconv.Itoa(int(math.Round(d.Minutes()))) + " minutes"
	default:
		return strconv.Itoa(int(math.Round(d.Hours()))) + " hours"
	}
}

// passwordHint states the password policy above every new-password input.
func (s *server) passwordHint() string {
	return fmt.Sprintf("At least %d characters; long passphrases welcome.", s.passwordMinLength())
}

func (s *server) passwordMinLength() int {
	if s.cfg.PasswordMinLength > 0 {
		return s.cfg.PasswordMinLength
	}
	return password.DefaultMinLength
}

// displayNameAttr is the custom attribute the pages offer as "Display name".
const displayNameAttr = identity.CustomPrefix + "display_name"

// hasDisplayName reports whether the pool declares custom:display_name
// (PINHOLE_CUSTOM_ATTRIBUTES); the forms offer the field only then.
func (s *server) hasDisplayName() bool {
	for _, a := range s.cfg.CustomAttributes {
		if identity.CustomPrefix+a.Name == displayNameAttr && a.Type == identity.AttributeString {
			return true
		}
	}
	return false
}

// formCode reads a 6-digit code as people type or paste it: "123 456" and
// "123-456" are the same code.
func formCode(c echo.Context) string {
	return strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(c.FormValue("code")))
}
