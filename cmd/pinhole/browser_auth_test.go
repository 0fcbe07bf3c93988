package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/internal/testenv"
)

// TestBrowserSignUpToSignOut walks the user pool's pages in real headless
// Chromium, against the real app with real SMTP (Mailpit) and MinIO: sign up
// (after one refused attempt), follow the link in the confirmation email, sign in (landing on the
// empty gallery), see the account with its one session, sign out, and find the account page closed again.
func TestBrowserSignUpToSignOut(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	mail := testenv.Mailpit(t)
	env := minioEnv(testenv.MinIO(t))
	env[app.EnvSMTPURL] = mail.SMTPURL
	a := startApp(t, env)

	const (
		email    = "ines@example.com"
		password = "seven silver kites over the harbour"
	)

	// Sign up.
	mustDo(t, ctx, "open sign-up", chromedp.Navigate(a.URL+"/signup"))
	if title := mustRun(t, ctx, "title", chromedp.Title()); title != "Sign up · Pinhole" {
		t.Errorf("sign-up title = %q, want %q", title, "Sign up · Pinhole")
	}
	mustDo(t, ctx, "fill in sign-up",
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), "ines-photos-2026"),
		chromedp.SendKeys(chromedp.CSS("#display_name"), "Inès"),
	)
	screenshot(t, ctx, "signup.png")

	// A password with the email's name in it is refused, next to the field;
	// what was typed stays, except the password.
	submit(t, ctx, `form[action="/signup"]`, http.StatusBadRequest)
	if problem := mustRun(t, ctx, "password error", chromedp.Text(chromedp.CSS("#password-error"))); problem == "" {
		t.Error("refused sign-up shows no problem next to the password")
	}
	if invalid := mustRun(t, ctx, "aria-invalid", chromedp.Evaluate[string](`document.querySelector('#password').getAttribute('aria-invalid')`)); invalid != "true" {
		t.Errorf("password aria-invalid = %q, want true", invalid)
	}
	for field, want := range map[string]string{"#email": email, "#display_name": "Inès", "#password": ""} {
		if got := mustRun(t, ctx, "value of "+field, chromedp.Value(chromedp.CSS(field))); got != want {
			t.Errorf("after the refusal %s holds %q, want %q", field, got, want)
		}
	}
	if focused := mustRun(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.id`)); focused != "password" {
		t.Errorf("after the refusal the focus is on %q, want the password field", focused)
	}
	screenshot(t, ctx, "signup-refused.png")
	mustDo(t, ctx, "fix the password", chromedp.SendKeys(chromedp.CSS("#password"), password))
	submit(t, ctx, `form[action="/signup"]`, http.StatusOK)
	if loc := mustRun(t, ctx, "location", chromedp.Location()); loc != a.URL+"/confirm?email="+url.QueryEscape(email) {
		t.Errorf("after sign-up the browser is at %q, want the confirm page for %s", loc, email)
	}
	if notice := mustRun(t, ctx, "notice", chromedp.Text(chromedp.CSS(".alert-info"))); !strings.Contains(notice, "Check your email") {
		t.Errorf("confirm page notice = %q, want it to say to check the email", notice)
	}
	screenshot(t, ctx, "confirm.png")

	// The confirmation email arrives over SMTP; its link confirms.
	msg := testenv.WaitForMessage(t, mail, email, 15*time.Second)
	text, err := mail.Text(context.Background(), msg.ID)
	if err != nil {
		t.Fatalf("read confirmation email: %v", err)
	}
	link := regexp.MustCompile(`https?://\S+/auth/confirm\?token=[A-Za-z0-9_-]+`).FindString(text)
	if !strings.HasPrefix(link, a.URL+"/") {
		t.Fatalf("no confirmation link on %s in the email:\n%s", a.URL, text)
	}
	mustDo(t, ctx, "open the link", chromedp.Navigate(link))
	if h1 := mustRun(t, ctx, "heading", chromedp.Text(chromedp.CSS("h1"))); h1 != "Your email is confirmed" {
		t.Fatalf("confirmation link page h1 = %q, want %q", h1, "Your email is confirmed")
	}
	screenshot(t, ctx, "confirmed.png")

	// Sign in from the confirmed page's button.
	mustResponse(t, ctx, "follow the sign-in button", http.StatusOK, chromedp.Click(chromedp.CSS(`main a[href="/signin"]`)))
	mustDo(t, ctx, "fill in sign-in",
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
	)
	screenshot(t, ctx, "signin.png")
	submit(t, ctx, `form[action="/signin"]`, http.StatusOK)

	// Sign-in leads to the photos, which are empty so far; the header leads
	// on to the account.
	if loc := mustRun(t, ctx, "location", chromedp.Location()); loc != a.URL+"/photos" {
		t.Fatalf("after sign-in the browser is at %q, want %s/photos", loc, a.URL)
	}
	if h2 := mustRun(t, ctx, "empty gallery", chromedp.Text(chromedp.CSS(".empty-state h2"))); h2 != "No photos yet" {
		t.Errorf("a new user's gallery says %q, want %q", h2, "No photos yet")
	}
	mustResponse(t, ctx, "follow the header's Account link", http.StatusOK, chromedp.Click(chromedp.CSS(`.site-nav a[href="/account"]`)))

	// The account page: the user's email in the header and the profile, and
	// exactly one session, this one.
	if who := mustRun(t, ctx, "header", chromedp.Text(chromedp.CSS(".nav-user"))); !strings.Contains(who, email) {
		t.Errorf("header says %q, want the signed-in email %s", who, email)
	}
	if profile := mustRun(t, ctx, "profile", chromedp.Text(chromedp.CSS(".details"))); !strings.Contains(profile, email) || !strings.Contains(profile, "Verified") || !strings.Contains(profile, "Inès") {
		t.Errorf("profile = %q, want the email, Verified and the display name", profile)
	}
	sessions := mustRun(t, ctx, "sessions", chromedp.Evaluate[int](`document.querySelectorAll('section[aria-labelledby="sessions-heading"] tbody tr').length`))
	if sessions != 1 {
		t.Errorf("account lists %d active sessions, want 1", sessions)
	}
	if device := mustRun(t, ctx, "session", chromedp.Text(chromedp.CSS(`section[aria-labelledby="sessions-heading"] tbody td`))); !strings.Contains(device, "Chrome") || !strings.Contains(device, "This device") {
		t.Errorf("session device = %q, want Chrome and the This device badge", device)
	}
	// The token cookies are HttpOnly: no script on the page can read them.
	if cookies := mustRun(t, ctx, "document.cookie", chromedp.Evaluate[string](`document.cookie`)); cookies != "" {
		t.Errorf("document.cookie = %q, want no cookie visible to scripts", cookies)
	}
	screenshot(t, ctx, "account.png")

	// Ask to move the account to another address, then think better of it:
	// the change shows as pending until it is canceled.
	mustDo(t, ctx, "fill in the new email", chromedp.SendKeys(chromedp.CSS("#new-email"), "elsewhere-"+email))
	submit(t, ctx, `form[action="/account/email"]`, http.StatusOK)
	if profile := mustRun(t, ctx, "pending profile", chromedp.Text(chromedp.CSS(".details"))); !strings.Contains(profile, "elsewhere-"+email) || !strings.Contains(profile, "Awaiting code") {
		t.Errorf("profile after asking for a new email = %q, want the new address awaiting its code", profile)
	}
	screenshot(t, ctx, "account-email-pending.png")
	submit(t, ctx, `form[action="/account/email/cancel"]`, http.StatusOK)
	if notice := mustRun(t, ctx, "cancel notice", chromedp.Text(chromedp.CSS(".alert"))); !strings.Contains(notice, "The email change is canceled.") {
		t.Errorf("notice after canceling = %q", notice)
	}
	if profile := mustRun(t, ctx, "profile after cancel", chromedp.Text(chromedp.CSS(".details"))); strings.Contains(profile, "elsewhere-") {
		t.Errorf("profile after canceling = %q, want the pending address gone", profile)
	}

	// Sign out from the header; the account page then asks to sign in.
	submit(t, ctx, `form[action="/signout"]`, http.StatusOK)
	if notice := mustRun(t, ctx, "notice", chromedp.Text(chromedp.CSS(".alert-success"))); notice != "You are signed out." {
		t.Errorf("after sign-out the notice is %q, want %q", notice, "You are signed out.")
	}
	mustDo(t, ctx, "open account", chromedp.Navigate(a.URL+"/account"))
	if loc := mustRun(t, ctx, "location", chromedp.Location()); loc != a.URL+"/signin?next=%2Faccount" {
		t.Errorf("signed-out /account went to %q, want the sign-in page", loc)
	}
	if h1 := mustRun(t, ctx, "heading", chromedp.Text(chromedp.CSS("h1"))); h1 != "Welcome back" {
		t.Errorf("signed-out /account shows h1 %q, want the sign-in page's %q", h1, "Welcome back")
	}
}

// mustDo runs browser actions or fails the test, saying what it was doing.
func mustDo(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mustRun runs one browser action and returns its value, or fails the test.
func mustRun[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// mustResponse runs an action that loads a page (a click, a submit) and
// checks the status of the page the browser ends up on, after redirects.
func mustResponse(t *testing.T, ctx context.Context, what string, wantStatus int64, action chromedp.Action[chromedp.Void]) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if resp.Status != wantStatus {
		t.Fatalf("%s: page status %d (%s), want %d", what, resp.Status, resp.URL, wantStatus)
	}
}

// submit clicks the submit button of the form matched by formSelector, as a
// person would, and waits for the page that follows.
func submit(t *testing.T, ctx context.Context, formSelector string, wantStatus int64) {
	t.Helper()
	mustResponse(t, ctx, "submit "+formSelector, wantStatus, chromedp.Click(chromedp.CSS(formSelector+` button[type="submit"]`)))
}

// screenshot saves the page for people reviewing a change, when
// PINHOLE_SCREENSHOTS names a directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PINHOLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := mustRun(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
}
