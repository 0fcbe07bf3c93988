package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/identity/password"
	"github.com/pinhole/pinhole/internal/database"
)

// The page tests drive the real router and a real user pool (gormstore on a
// throwaway SQLite file); only the mailer is a fake that keeps what it was
// given, so a test can follow the code or link in the email it caused.
// cmd/pinhole/browser_auth_test.go walks the same flows in a real browser
// against real SMTP.

// capturingMailer is an identity.Mailer that keeps every message.
type capturingMailer struct {
	mu   sync.Mutex
	sent []identity.Email
}

func (m *capturingMailer) Send(_ context.Context, e identity.Email) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, e)
	return nil
}

// to returns the messages sent to an address, oldest first.
func (m *capturingMailer) to(addr string) []identity.Email {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []identity.Email
	for _, e := range m.sent {
		if e.To == addr {
			out = append(out, e)
		}
	}
	return out
}

// mustLast returns the newest message of kind sent to addr.
func (m *capturingMailer) mustLast(t *testing.T, addr string, kind identity.EmailKind) identity.Email {
	t.Helper()
	msgs := m.to(addr)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Kind == kind {
			return msgs[i]
		}
	}
	t.Fatalf("no %s email to %s; sent to that address: %v", kind, addr, msgs)
	return identity.Email{}
}

// pagesEnv is a Pinhole web server on a real user pool.
type pagesEnv struct {
	h    http.Handler
	ids  *identity.Service
	mail *capturingMailer
	base string
}

// newPagesEnv builds the server for baseURL (PINHOLE_BASE_URL), with fast
// password hashing: these tests are about pages, not argon2's cost.
func newPagesEnv(t *testing.T, baseURL string) *pagesEnv {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := database.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "pinhole.db"), database.Options{Logger: logger})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close database: %v", err)
		}
	})
	if err := gormstore.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	cfg, err := LoadConfig(env(map[string]string{EnvBaseURL: baseURL}))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	mail := &capturingMailer{}
	hasher := password.NewHasher(testParams, 4, 64)
	ids, err := identity.New(ctx, identity.Config{Issuer: cfg.BaseURL.String(), Attributes: cfg.CustomAttributes},
		gormstore.New(db), mail, hasher, logger)
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	return &pagesEnv{
		h:    NewServer(Deps{Config: cfg, Logger: logger, Identity: ids}),
		ids:  ids,
		mail: mail,
		base: cfg.BaseURL.String(),
	}
}

// pagePassword satisfies the policy: long, not on the blocklist.
const pagePassword = "quiet harbour lantern 1987"

// mustConfirmedUser registers and confirms a user through the service.
func (env *pagesEnv) mustConfirmedUser(t *testing.T, email string) {
	t.Helper()
	mustSignUpConfirmed(t, env.ids, env.mail, email, pagePassword, identity.RequestMeta{IP: "192.0.2.50", UserAgent: "test"})
}

// mustSignUpConfirmed registers a user through the service and confirms the
// address with the code that mail caught. The page and photo tests share it;
// the user pool's own tests do the same over HTTP.
func mustSignUpConfirmed(t *testing.T, ids *identity.Service, mail *capturingMailer, email, pw string, meta identity.RequestMeta) {
	t.Helper()
	ctx := context.Background()
	if err := ids.SignUp(ctx, identity.SignUpParams{Email: email, Password: pw}, meta); err != nil {
		t.Fatalf("SignUp(%s): %v", email, err)
	}
	code := mail.mustLast(t, email, identity.EmailConfirmSignUp).Code
	if err := ids.ConfirmSignUp(ctx, email, code, meta); err != nil {
		t.Fatalf("ConfirmSignUp(%s): %v", email, err)
	}
}

// pageClient is a minimal cookie-keeping client for the in-process server,
// standing in for a browser that does not send Fetch Metadata (so the CSRF
// token, not Sec-Fetch-Site, is what protects its forms).
type pageClient struct {
	t       *testing.T
	env     *pagesEnv
	cookies map[string]*http.Cookie
	// userAgent is sent with every request, as a browser would.
	userAgent string
}

func (env *pagesEnv) newClient(t *testing.T) *pageClient {
	return &pageClient{t: t, env: env, cookies: map[string]*http.Cookie{},
		userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"}
}

// do sends a request and keeps the cookies the answer sets (or deletes).
func (b *pageClient) do(method, path string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	b.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, b.env.base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, b.env.base+path, nil)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("User-Agent", b.userAgent)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, ck := range b.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	b.env.h.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(b.cookies, ck.Name)
		} else {
			b.cookies[ck.Name] = ck
		}
	}
	return rec
}

func (b *pageClient) get(path string) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.do(http.MethodGet, path, nil, nil)
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// withCSRF returns form plus the CSRF token of the page at from, which
// answered status with body, as a person filling in its form would send.
func withCSRF(t *testing.T, from string, status int, body string, form url.Values) url.Values {
	t.Helper()
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s (%d) has no _csrf input:\n%s", from, status, body)
	}
	withToken := url.Values{"_csrf": {m[1]}}
	for k, v := range form {
		withToken[k] = v
	}
	return withToken
}

// submit loads page, then posts form to action with the page's CSRF token.
func (b *pageClient) submit(page, action string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	rec := b.get(page)
	return b.do(http.MethodPost, action, withCSRF(b.t, page, rec.Code, rec.Body.String(), form), nil)
}

// mustSignIn signs the browser in through the sign-in page.
func (b *pageClient) mustSignIn(email string) {
	b.t.Helper()
	rec := b.submit("/signin", "/signin", url.Values{"email": {email}, "password": {pagePassword}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/photos" {
		b.t.Fatalf("sign in as %s = %d to %q, want 303 to /photos; body:\n%s", email, rec.Code, rec.Header().Get("Location"), rec.Body)
	}
}

// pageScenario is one request through the real router, pocketbase-style.
type pageScenario struct {
	name string
	// before prepares state: users, a signed-in browser.
	before func(t *testing.T, env *pagesEnv, b *pageClient)
	method string
	path   string
	// form is posted with the CSRF token of a GET of tokenFrom (when set),
	// or without any token.
	form      url.Values
	tokenFrom string
	header    map[string]string

	wantStatus   int
	wantLocation string
	wantBody     []string
	// notBody must not appear: a password echoed back, a leaked detail.
	notBody []string
}

func TestPages(t *testing.T) {
	t.Parallel()
	signedIn := func(t *testing.T, env *pagesEnv, b *pageClient) {
		env.mustConfirmedUser(t, "ada@example.com")
		b.mustSignIn("ada@example.com")
	}
	unconfirmed := func(t *testing.T, env *pagesEnv, b *pageClient) {
		err := env.ids.SignUp(context.Background(), identity.SignUpParams{Email: "una@example.com", Password: pagePassword}, identity.RequestMeta{})
		if err != nil {
			t.Fatalf("SignUp: %v", err)
		}
	}
	confirmed := func(t *testing.T, env *pagesEnv, _ *pageClient) { env.mustConfirmedUser(t, "ada@example.com") }

	tests := []pageScenario{
		{
			name:   "sign-up page has a form with a CSRF token and the policy hint",
			method: http.MethodGet, path: "/signup",
			wantStatus: http.StatusOK,
			wantBody: []string{`<title>Sign up · Pinhole</title>`, `<form class="form" method="post" action="/signup">`,
				`name="_csrf" value="`, `autocomplete="new-password"`, "At least 12 characters; long passphrases welcome.",
				`id="display_name"`, `autofocus`},
		},
		{
			name:   "sign-up without a CSRF token is refused",
			method: http.MethodPost, path: "/signup",
			form:       url.Values{"email": {"new@example.com"}, "password": {pagePassword}},
			wantStatus: http.StatusForbidden, wantBody: []string{"This form has expired"},
		},
		{
			name:   "sign-up with a wrong CSRF token is refused",
			method: http.MethodPost, path: "/signup",
			form:       url.Values{"_csrf": {"forged"}, "email": {"new@example.com"}, "password": {pagePassword}},
			wantStatus: http.StatusForbidden,
		},
		{
			name:   "cross-site sign-up is refused even with a token",
			method: http.MethodPost, path: "/signup", tokenFrom: "/signup",
			form:       url.Values{"email": {"new@example.com"}, "password": {pagePassword}},
			header:     map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
			wantStatus: http.StatusForbidden, wantBody: []string{"sent from another site"},
		},
		{
			name:   "sign-up sends the visitor to enter the code",
			method: http.MethodPost, path: "/signup", tokenFrom: "/signup",
			form:       url.Values{"email": {" New@Example.com "}, "password": {pagePassword}, "display_name": {"Newt"}},
			wantStatus: http.StatusSeeOther, wantLocation: "/confirm?email=new%40example.com",
		},
		{
			name:   "sign-up problems show next to their field, keeping what was typed but the password",
			method: http.MethodPost, path: "/signup", tokenFrom: "/signup",
			form:       url.Values{"email": {"grace@example.com"}, "password": {pagePassword}, "phone_number": {"555-0100"}},
			wantStatus: http.StatusBadRequest,
			wantBody: []string{`value="grace@example.com"`, `value="555-0100"`,
				`aria-invalid="true" aria-describedby="phone_number-error phone_number-hint"`,
				`<p class="field-error" id="phone_number-error">Enter the phone number in international format`,
				`role="alert">Please fix the problem marked below.`},
			notBody: []string{pagePassword},
		},
		{
			name:   "a weak password is explained next to the password field",
			method: http.MethodPost, path: "/signup", tokenFrom: "/signup",
			form:       url.Values{"email": {"grace@example.com"}, "password": {"short pw"}},
			wantStatus: http.StatusBadRequest,
			wantBody:   []string{`id="password-error">Use at least 12 characters`, `value="grace@example.com"`},
			notBody:    []string{"short pw"},
		},
		{
			name:   "confirm page prefills the email and offers a new code",
			method: http.MethodGet, path: "/confirm?email=ada%40example.com",
			wantStatus: http.StatusOK,
			wantBody: []string{`value="ada@example.com"`, `autocomplete="one-time-code" inputmode="numeric"`,
				`action="/confirm/resend"`, "Send a new code"},
		},
		{
			name:   "a wrong code is refused at the top of the form",
			before: unconfirmed,
			method: http.MethodPost, path: "/confirm", tokenFrom: "/confirm",
			form:       url.Values{"email": {"una@example.com"}, "code": {"000000"}},
			wantStatus: http.StatusBadRequest, wantBody: []string{"That code is wrong or has expired.", `value="una@example.com"`},
		},
		{
			name:   "resend says the same for an unknown address",
			method: http.MethodPost, path: "/confirm/resend", tokenFrom: "/confirm",
			form:       url.Values{"email": {"nobody@example.com"}},
			wantStatus: http.StatusSeeOther, wantLocation: "/confirm?email=nobody%40example.com",
		},
		{
			name:   "a made-up confirmation link gets a friendly failure page",
			method: http.MethodGet, path: "/auth/confirm?token=nonsense",
			wantStatus: http.StatusBadRequest,
			wantBody:   []string{"This link didn", `href="/confirm"`, "Get a new code"},
		},
		{
			name: "wrong password gets a generic 401", before: confirmed, method: http.MethodPost, path: "/signin", tokenFrom: "/signin",
			form:       url.Values{"email": {"ada@example.com"}, "password": {"not the right password"}},
			wantStatus: http.StatusUnauthorized,
			wantBody:   []string{"Incorrect email or password.", `value="ada@example.com"`},
			notBody:    []string{"not the right password"},
		},
		{
			name:   "unknown email gets the same generic 401",
			method: http.MethodPost, path: "/signin", tokenFrom: "/signin",
			form:       url.Values{"email": {"ghost@example.com"}, "password": {"not the right password"}},
			wantStatus: http.StatusUnauthorized, wantBody: []string{"Incorrect email or password."},
		},
		{
			name:   "an unconfirmed user is pointed at the confirmation page",
			before: unconfirmed,
			method: http.MethodPost, path: "/signin", tokenFrom: "/signin",
			form:       url.Values{"email": {"una@example.com"}, "password": {pagePassword}},
			wantStatus: http.StatusForbidden,
			wantBody:   []string{`href="/confirm?email=una%40example.com"`, "Confirm your email address"},
		},
		{
			name: "sign-in honours a local next", before: confirmed, method: http.MethodPost, path: "/signin", tokenFrom: "/signin?next=%2Faccount%3Ftab%3D1",
			form:       url.Values{"email": {"ada@example.com"}, "password": {pagePassword}, "next": {"/account?tab=1"}},
			wantStatus: http.StatusSeeOther, wantLocation: "/account?tab=1",
		},
		{
			name: "sign-in ignores a next to another site", before: confirmed, method: http.MethodPost, path: "/signin", tokenFrom: "/signin",
			form:       url.Values{"email": {"ada@example.com"}, "password": {pagePassword}, "next": {"//evil.example/account"}},
			wantStatus: http.StatusSeeOther, wantLocation: "/photos",
		},
		{
			name:   "forgot says the same for an unknown address",
			method: http.MethodPost, path: "/forgot", tokenFrom: "/forgot",
			form:       url.Values{"email": {"nobody@example.com"}},
			wantStatus: http.StatusSeeOther, wantLocation: "/reset?email=nobody%40example.com",
		},
		{
			name:   "reset with a link asks only for the new password",
			method: http.MethodGet, path: "/reset?token=abc",
			wantStatus: http.StatusOK,
			wantBody:   []string{`name="token" value="abc"`, `id="new_password"`},
			notBody:    []string{`id="code"`, `id="email"`},
		},
		{
			name:   "the account page sends visitors to sign in",
			method: http.MethodGet, path: "/account",
			wantStatus: http.StatusSeeOther, wantLocation: "/signin?next=%2Faccount",
		},
		{
			name: "the header shows who is signed in, on the home page too", before: signedIn, method: http.MethodGet, path: "/",
			wantStatus: http.StatusOK,
			wantBody:   []string{"ada@example.com", `action="/signout"`, `href="/photos">Go to your photos`, `<a href="/photos">Photos</a>`},
		},
		{
			name: "the account page shows the profile and this session", before: signedIn, method: http.MethodGet, path: "/account",
			wantStatus: http.StatusOK,
			wantBody: []string{"<title>Your account · Pinhole</title>", "ada@example.com", "Verified",
				"Chrome on Linux", "This device", "Signed in", "Sign out everywhere"},
		},
		{
			name: "a signed-in visitor to the sign-in page goes to the photos", before: signedIn, method: http.MethodGet, path: "/signin",
			wantStatus: http.StatusSeeOther, wantLocation: "/photos",
		},
		{
			name:   "a wrong current password shows next to its field",
			before: signedIn,
			method: http.MethodPost, path: "/account/password", tokenFrom: "/account",
			form:       url.Values{"current_password": {"not my password at all"}, "new_password": {"a brand new passphrase 2024"}},
			wantStatus: http.StatusBadRequest,
			wantBody:   []string{`id="current-password-error">This is not your current password.`, "Your current password is incorrect."},
			notBody:    []string{"not my password at all", "a brand new passphrase 2024"},
		},
		{
			name:   "the new password's policy problem shows next to the new password",
			before: signedIn,
			method: http.MethodPost, path: "/account/password", tokenFrom: "/account",
			form:       url.Values{"current_password": {pagePassword}, "new_password": {"too short"}},
			wantStatus: http.StatusBadRequest,
			wantBody:   []string{`id="new-password-error">Use at least 12 characters`},
		},
		{
			name:   "revoking someone else's session is not found",
			before: signedIn,
			method: http.MethodPost, path: "/account/sessions/00000000-0000-0000-0000-000000000000/revoke", tokenFrom: "/account",
			form:       url.Values{},
			wantStatus: http.StatusNotFound, wantBody: []string{"That session has already ended."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newPagesEnv(t, "http://localhost:8080")
			b := env.newClient(t)
			if tt.before != nil {
				tt.before(t, env, b)
			}
			var rec *httptest.ResponseRecorder
			switch {
			case tt.tokenFrom != "":
				page := b.get(tt.tokenFrom)
				m := csrfInput.FindStringSubmatch(page.Body.String())
				if m == nil {
					t.Fatalf("GET %s (%d) has no _csrf input", tt.tokenFrom, page.Code)
				}
				form := url.Values{"_csrf": {m[1]}}
				for k, v := range tt.form {
					form[k] = v
				}
				rec = b.do(tt.method, tt.path, form, tt.header)
			default:
				rec = b.do(tt.method, tt.path, tt.form, tt.header)
			}
			body := rec.Body.String()
			if rec.Code != tt.wantStatus {
				t.Errorf("%s %s = %d, want %d; body:\n%s", tt.method, tt.path, rec.Code, tt.wantStatus, body)
			}
			if got := rec.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(body, want) {
					t.Errorf("body does not contain %q; body:\n%s", want, body)
				}
			}
			for _, bad := range tt.notBody {
				if strings.Contains(body, bad) {
					t.Errorf("body contains %q, want it absent", bad)
				}
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
		})
	}
}

// TestSignUpDoesNotRevealRegisteredEmails signs up twice with the same
// address: the second time the address is registered (unconfirmed, then
// confirmed), and the answer must be byte-for-byte the first one. Only the
// mailbox tells the difference.
func TestSignUpDoesNotRevealRegisteredEmails(t *testing.T) {
	t.Parallel()
	env := newPagesEnv(t, "http://localhost:8080")
	b := env.newClient(t)
	form := url.Values{"email": {"lin@example.com"}, "password": {pagePassword}}

	first := b.submit("/signup", "/signup", form)
	if first.Code != http.StatusSeeOther {
		t.Fatalf("first sign-up = %d, want 303; body:\n%s", first.Code, first.Body)
	}
	again := b.submit("/signup", "/signup", form) // registered, not confirmed yet
	env.mustConfirmedUserFromMail(t, "lin@example.com")
	confirmed := b.submit("/signup", "/signup", form) // registered and confirmed

	for name, rec := range map[string]*httptest.ResponseRecorder{"unconfirmed": again, "confirmed": confirmed} {
		if rec.Code != first.Code || rec.Header().Get("Location") != first.Header().Get("Location") ||
			rec.Body.String() != first.Body.String() || !equalCookies(rec, first) {
			t.Errorf("sign-up of a registered (%s) address = %d %q %q, cookies %v; want the first answer %d %q %q, cookies %v",
				name, rec.Code, rec.Header().Get("Location"), rec.Body, rec.Result().Cookies(),
				first.Code, first.Header().Get("Location"), first.Body, first.Result().Cookies())
		}
	}
	// The mailbox does differ: the test would be hollow otherwise.
	env.mail.mustLast(t, "lin@example.com", identity.EmailAlreadyRegistered)
	if n := len(env.mail.to("lin@example.com")); n != 3 {
		t.Errorf("emails to lin@ = %d, want 3 (code, new code, already registered)", n)
	}
}

// mustConfirmedUserFromMail confirms an address with the newest code mailed to it.
func (env *pagesEnv) mustConfirmedUserFromMail(t *testing.T, email string) {
	t.Helper()
	code := env.mail.mustLast(t, email, identity.EmailConfirmSignUp).Code
	if err := env.ids.ConfirmSignUp(context.Background(), email, code, identity.RequestMeta{}); err != nil {
		t.Fatalf("ConfirmSignUp: %v", err)
	}
}

func equalCookies(a, b *httptest.ResponseRecorder) bool {
	ca, cb := a.Header().Values("Set-Cookie"), b.Header().Values("Set-Cookie")
	if len(ca) != len(cb) {
		return false
	}
	for i := range ca {
		// The CSRF cookie's expiry moves with the clock; its value does not.
		if strings.SplitN(ca[i], "; Expires=", 2)[0] != strings.SplitN(cb[i], "; Expires=", 2)[0] {
			return false
		}
	}
	return true
}

// TestSessionCookies checks the attributes of the cookies that hold tokens:
// HttpOnly and SameSite=Lax always, Secure everywhere but plain-http
// localhost (where browsers would drop Secure cookies during development).
func TestSessionCookies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		baseURL    string
		wantSecure bool
	}{
		{"http://localhost:8080", false},
		{"https://photos.example.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.baseURL, func(t *testing.T) {
			t.Parallel()
			env := newPagesEnv(t, tt.baseURL)
			env.mustConfirmedUser(t, "ada@example.com")
			b := env.newClient(t)
			rec := b.submit("/signin", "/signin", url.Values{"email": {"ada@example.com"}, "password": {pagePassword}})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("sign in = %d, want 303; body:\n%s", rec.Code, rec.Body)
			}
			got := map[string]*http.Cookie{}
			for _, ck := range rec.Result().Cookies() {
				got[ck.Name] = ck
			}
			for _, name := range []string{cookieAccess, cookieRefresh, "pinhole_csrf"} {
				ck := got[name]
				if ck == nil {
					t.Errorf("sign-in set no %s cookie", name)
					continue
				}
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != tt.wantSecure || ck.Path != "/" {
					t.Errorf("%s: HttpOnly=%v SameSite=%v Secure=%v Path=%q; want true, Lax, %v, /",
						name, ck.HttpOnly, ck.SameSite, ck.Secure, ck.Path, tt.wantSecure)
				}
			}
			if ck := got[cookieRefresh]; ck != nil && ck.MaxAge < int((24*time.Hour).Seconds()) {
				t.Errorf("refresh cookie MaxAge = %d, want the refresh token's lifetime (days)", ck.MaxAge)
			}
		})
	}
}

// TestPageJourney follows a person from sign-up to sign-out through the
// pages, reading the code from the email the service sent.
func TestPageJourney(t *testing.T) {
	t.Parallel()
	env := newPagesEnv(t, "http://localhost:8080")
	b := env.newClient(t)
	expect := func(rec *httptest.ResponseRecorder, status int, location string) {
		t.Helper()
		if rec.Code != status || rec.Header().Get("Location") != location {
			t.Fatalf("got %d to %q, want %d to %q; body:\n%s", rec.Code, rec.Header().Get("Location"), status, location, rec.Body)
		}
	}
	contains := func(rec *httptest.ResponseRecorder, wants ...string) {
		t.Helper()
		for _, want := range wants {
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("page does not contain %q; body:\n%s", want, rec.Body)
			}
		}
	}

	rec := b.submit("/signup", "/signup", url.Values{"email": {"mo@example.com"}, "password": {pagePassword}, "display_name": {"Mo"}})
	expect(rec, http.StatusSeeOther, "/confirm?email=mo%40example.com")
	contains(b.get("/confirm?email=mo%40example.com"), "Check your email: we sent a 6-digit code")
	// The notice is shown once.
	if strings.Contains(b.get("/confirm?email=mo%40example.com").Body.String(), "Check your email") {
		t.Error("the sign-up notice shows again on reload")
	}

	code := env.mail.mustLast(t, "mo@example.com", identity.EmailConfirmSignUp).Code
	rec = b.submit("/confirm?email=mo%40example.com", "/confirm", url.Values{"email": {"mo@example.com"}, "code": {code[:3] + " " + code[3:]}})
	expect(rec, http.StatusSeeOther, "/signin?email=mo%40example.com")
	contains(b.get("/signin?email=mo%40example.com"), "Your email address is confirmed.", `value="mo@example.com"`)

	// Sign in from a second tab that still shows the form: the browser's
	// first session ends rather than lingering out of reach.
	secondTab := csrfInput.FindStringSubmatch(b.get("/signin").Body.String())[1]
	b.mustSignIn("mo@example.com")
	rec = b.do(http.MethodPost, "/signin", url.Values{"_csrf": {secondTab}, "email": {"mo@example.com"}, "password": {pagePassword}}, nil)
	expect(rec, http.StatusSeeOther, "/photos")
	account := b.get("/account")
	contains(account, "mo@example.com", "Mo", "This device")
	if n := strings.Count(account.Body.String(), `class="cell-action"`); n != 1 {
		t.Errorf("account lists %d sessions, want 1", n)
	}

	// Ask for a change, then think better of it.
	rec = b.submit("/account", "/account/email", url.Values{"email": {"mo@typo.example.com"}})
	expect(rec, http.StatusSeeOther, "/account")
	contains(b.get("/account"), "Awaiting code", "mo@typo.example.com", "Cancel the change")
	rec = b.submit("/account", "/account/email/cancel", url.Values{})
	expect(rec, http.StatusSeeOther, "/account")
	account = b.get("/account")
	contains(account, "The email change is canceled.")
	if strings.Contains(account.Body.String(), "mo@typo.example.com") {
		t.Error("the canceled address is still on the account page")
	}

	// Change the email: the code goes to the new address.
	rec = b.submit("/account", "/account/email", url.Values{"email": {"mo@new.example.com"}})
	expect(rec, http.StatusSeeOther, "/account")
	contains(b.get("/account"), "Awaiting code", "mo@new.example.com")
	code = env.mail.mustLast(t, "mo@new.example.com", identity.EmailConfirmNewAddress).Code
	rec = b.submit("/account", "/account/email/confirm", url.Values{"code": {code}})
	expect(rec, http.StatusSeeOther, "/account")
	contains(b.get("/account"), "Your email address is changed.", "mo@new.example.com", "Confirmed new email address")

	// Sign out: the account page is out of reach again.
	rec = b.submit("/account", "/signout", url.Values{})
	expect(rec, http.StatusSeeOther, "/signin")
	contains(b.get("/signin"), "You are signed out.")
	expect(b.get("/account"), http.StatusSeeOther, "/signin?next=%2Faccount")
}

// TestPasswordResetWithLink follows the link of the reset email: the page
// asks only for the new password, and every session ends.
func TestPasswordResetWithLink(t *testing.T) {
	t.Parallel()
	env := newPagesEnv(t, "http://localhost:8080")
	env.mustConfirmedUser(t, "ada@example.com")
	signedIn := env.newClient(t)
	signedIn.mustSignIn("ada@example.com")

	b := env.newClient(t)
	rec := b.submit("/forgot", "/forgot", url.Values{"email": {"ada@example.com"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/reset?email=ada%40example.com" {
		t.Fatalf("forgot = %d to %q, want 303 to /reset?email=...", rec.Code, rec.Header().Get("Location"))
	}
	link, err := url.Parse(env.mail.mustLast(t, "ada@example.com", identity.EmailResetPassword).Link)
	if err != nil {
		t.Fatalf("parse link: %v", err)
	}
	const newPassword = "another long passphrase 55"
	rec = b.submit(link.RequestURI(), "/reset", url.Values{"token": {link.Query().Get("token")}, "new_password": {newPassword}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/signin" {
		t.Fatalf("reset = %d to %q, want 303 to /signin; body:\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if body := b.get("/signin").Body.String(); !strings.Contains(body, "Your password is reset") {
		t.Errorf("sign-in page after reset lacks the notice; body:\n%s", body)
	}
	if got := signedIn.get("/account"); got.Code != http.StatusSeeOther {
		t.Errorf("the other browser's session after a reset: GET /account = %d, want 303 to sign in", got.Code)
	}
	// The link works once.
	rec = b.submit(link.RequestURI(), "/reset", url.Values{"token": {link.Query().Get("token")}, "new_password": {newPassword + "!"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "This reset link has expired or was already used") {
		t.Errorf("second use of the link = %d, want 400 with the expired-link message; body:\n%s", rec.Code, rec.Body)
	}
}

// TestConfirmLink opens the confirmation link twice: it works once.
func TestConfirmLink(t *testing.T) {
	t.Parallel()
	env := newPagesEnv(t, "http://localhost:8080")
	b := env.newClient(t)
	b.submit("/signup", "/signup", url.Values{"email": {"kit@example.com"}, "password": {pagePassword}})
	link, err := url.Parse(env.mail.mustLast(t, "kit@example.com", identity.EmailConfirmSignUp).Link)
	if err != nil {
		t.Fatalf("parse link: %v", err)
	}
	if link.Path != "/auth/confirm" {
		t.Fatalf("link path = %q, want /auth/confirm", link.Path)
	}
	rec := b.get(link.RequestURI())
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Your email is confirmed") || !strings.Contains(rec.Body.String(), `href="/signin"`) {
		t.Errorf("first visit = %d, want 200 with the confirmed page; body:\n%s", rec.Code, rec.Body)
	}
	rec = b.get(link.RequestURI())
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "This link didn") {
		t.Errorf("second visit = %d, want 400 with the failure page; body:\n%s", rec.Code, rec.Body)
	}
}

// TestSignInPageThrottled shows the 429 page with a Retry-After header, which
// the error handler would set on the error path but a re-rendered form must
// set itself.
func TestSignInPageThrottled(t *testing.T) {
	t.Parallel()
	env := newPagesEnv(t, "http://localhost:8080")
	env.mustConfirmedUser(t, "ada@example.com")
	b := env.newClient(t)
	var rec *httptest.ResponseRecorder
	for range 20 {
		rec = b.submit("/signin", "/signin", url.Values{"email": {"ada@example.com"}, "password": {"wrong guess number"}})
		if rec.Code == http.StatusTooManyRequests {
			break
		}
	}
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("after 20 wrong passwords, status = %d, want 429", rec.Code)
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Error("429 page has no Retry-After header")
	}
	if !strings.Contains(rec.Body.String(), "Too many attempts. Please try again in") {
		t.Errorf("429 page does not say to wait; body:\n%s", rec.Body)
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/account", "/account"},
		{"/photos?page=2#top", "/photos?page=2#top"},
		{"", ""},
		{"account", ""},
		{"//evil.example/", ""},
		{"/\\evil.example", ""},
		{"https://evil.example/", ""},
		{"javascript:alert(1)", ""},
		{"/ok\r\nSet-Cookie: x=y", ""},
		{"/\t/evil.example", ""}, // browsers drop the tab and see //evil.example
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDescribeDevice(t *testing.T) {
	t.Parallel()
	tests := []struct{ ua, want string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36", "Chrome on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36", "Headless Chrome on Linux"},
		{"curl/8.5.0", "curl"},
		{"", "Unknown device"},
	}
	for _, tt := range tests {
		if got := describeDevice(tt.ua); got != tt.want {
			t.Errorf("describeDevice(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}

func TestDescribeEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    identity.Event
		want string
	}{
		{identity.Event{Kind: identity.EventSignIn, Outcome: identity.OutcomeSuccess}, "Signed in"},
		{identity.Event{Kind: identity.EventSignIn, Outcome: identity.OutcomeFailure, Detail: "wrong_password"}, "Sign-in failed: wrong password"},
		{identity.Event{Kind: identity.EventSignIn, Outcome: identity.OutcomeFailure, Detail: "something_new"}, "Sign-in failed"},
		{identity.Event{Kind: "brand_new_kind", Outcome: identity.OutcomeSuccess}, "Brand new kind"},
	}
	for _, tt := range tests {
		if got := describeEvent(tt.e); got != tt.want {
			t.Errorf("describeEvent(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}
