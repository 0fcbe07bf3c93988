package app

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/internal/testenv"
)

// TestJourney walks the user pool end to end on each database: sign up, the
// code arrives over SMTP, confirm, sign in, read the profile, refresh, sign
// out, and the old access token is refused at once.
func TestJourney(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t, d.URL(t))
			email := uniqueEmail("ada")

			r := e.post("/api/auth/signup", map[string]any{
				"email": "  " + strings.ToUpper(email) + " ", "password": testPassword,
				"attributes": map[string]string{"custom:display_name": "Ada"},
			})
			want(t, r, http.StatusCreated, "")

			// Not confirmed yet: the right password says so, nothing more.
			want(t, e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword}), http.StatusForbidden, "user_not_confirmed")

			_, text := e.mailTo(email, subjectConfirm)
			want(t, e.post("/api/auth/confirm", map[string]any{"email": email, "code": codeFrom(t, text)}), http.StatusOK, "")

			r = e.post("/api/auth/signin", map[string]any{"email": strings.ToUpper(email), "password": testPassword})
			want(t, r, http.StatusOK, "")
			for _, k := range []string{"id_token", "access_token", "refresh_token"} {
				if r.str(k) == "" {
					t.Fatalf("sign-in answer lacks %s: %s", k, r.Raw)
				}
			}
			if r.str("token_type") != "Bearer" || r.JSON["expires_in"] != float64(900) {
				t.Errorf("token_type/expires_in = %v/%v, want Bearer/900", r.JSON["token_type"], r.JSON["expires_in"])
			}
			access, refresh := r.str("access_token"), r.str("refresh_token")

			me := e.do("GET", "/api/me", nil, access)
			want(t, me, http.StatusOK, "")
			if me.str("email") != email || me.JSON["email_verified"] != true || me.str("status") != "CONFIRMED" {
				t.Errorf("/api/me = %s, want confirmed %s", me.Raw, email)
			}
			if attrs, _ := me.JSON["attributes"].(map[string]any); attrs["custom:display_name"] != "Ada" {
				t.Errorf("attributes = %v, want custom:display_name Ada", me.JSON["attributes"])
			}
			if strings.Contains(me.Raw, "argon2") || strings.Contains(me.Raw, "password") {
				t.Errorf("/api/me leaks password material: %s", me.Raw)
			}

			r = e.post("/api/auth/refresh", map[string]any{"refresh_token": refresh})
			want(t, r, http.StatusOK, "")
			if r.str("refresh_token") == refresh || r.str("refresh_token") == "" {
				t.Fatalf("refresh did not rotate the refresh token: %s", r.Raw)
			}
			access2 := r.str("access_token")
			want(t, e.do("GET", "/api/me", nil, access2), http.StatusOK, "")

			want(t, e.do("POST", "/api/auth/signout", nil, access2), http.StatusNoContent, "")
			want(t, e.do("GET", "/api/me", nil, access), http.StatusUnauthorized, "invalid_token")
			want(t, e.do("GET", "/api/me", nil, access2), http.StatusUnauthorized, "invalid_token")
			want(t, e.post("/api/auth/refresh", map[string]any{"refresh_token": r.str("refresh_token")}), http.StatusUnauthorized, "invalid_refresh_token")
		})
	}
}

// TestRefreshRotation covers the refresh-token family rules: concurrent
// refreshes within the grace window share one successor; a replay after it
// revokes the session, current token included.
func TestRefreshRotation(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t, d.URL(t))
			email := uniqueEmail("rotor")
			signIn := e.signUpConfirmed(email)
			first := signIn.str("refresh_token")

			// Two tabs refresh at once with the same token.
			var wg sync.WaitGroup
			results := make([]response, 2)
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = e.post("/api/auth/refresh", map[string]any{"refresh_token": first})
				}()
			}
			wg.Wait()
			for i, r := range results {
				want(t, r, http.StatusOK, "")
				if r.str("refresh_token") == first {
					t.Fatalf("result %d did not rotate", i)
				}
			}
			successor := results[0].str("refresh_token")
			if got := results[1].str("refresh_token"); got != successor {
				t.Fatalf("concurrent refreshes got different successors: %q and %q", successor, got)
			}

			// Later, within the grace window, the old token still yields the successor.
			e.clock.Advance(5 * time.Second)
			r := e.post("/api/auth/refresh", map[string]any{"refresh_token": first})
			want(t, r, http.StatusOK, "")
			if r.str("refresh_token") != successor {
				t.Fatalf("replay within grace got %q, want the same successor %q", r.str("refresh_token"), successor)
			}
			access := r.str("access_token")

			// After the grace window a replay is theft: the session ends.
			e.clock.Advance(10 * time.Second)
			want(t, e.post("/api/auth/refresh", map[string]any{"refresh_token": first}), http.StatusUnauthorized, "refresh_token_reused")
			want(t, e.post("/api/auth/refresh", map[string]any{"refresh_token": successor}), http.StatusUnauthorized, "invalid_refresh_token")
			want(t, e.do("GET", "/api/me", nil, access), http.StatusUnauthorized, "invalid_token")
		})
	}
}

// TestEnumerationSafety checks that flows answer identically for registered
// and unknown addresses; only the mailbox differs.
func TestEnumerationSafety(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	known := uniqueEmail("known")
	e.signUpConfirmed(known)
	unknown := uniqueEmail("nobody")

	// Sign-up with a registered address: the same answer, and the owner
	// hears about the attempt instead of getting a code.
	signUp := func(email string) response {
		return e.post("/api/auth/signup", map[string]any{"email": email, "password": "another fine passphrase"})
	}
	if ra, rb := signUp(known), signUp(unknown); ra.Status != rb.Status || ra.Raw != rb.Raw {
		t.Errorf("sign-up: known address got %d %s, unknown got %d %s", ra.Status, ra.Raw, rb.Status, rb.Raw)
	}
	_, notice := e.mailTo(known, subjectAlreadyRegistered)
	if codePattern.MatchString(notice) || !strings.Contains(strings.ToLower(notice), "sign") {
		t.Errorf("mail to the registered owner should warn about the sign-up and carry no code:\n%s", notice)
	}

	pairs := []struct {
		name string
		path string
		a, b map[string]any
	}{
		{"forgot", "/api/auth/password/forgot", map[string]any{"email": known}, map[string]any{"email": unknown}},
		{"resend", "/api/auth/confirm/resend", map[string]any{"email": known}, map[string]any{"email": unknown}},
		{"sign-in", "/api/auth/signin",
			map[string]any{"email": known, "password": "wrong password for sure"},
			map[string]any{"email": unknown, "password": "wrong password for sure"}},
		{"confirm", "/api/auth/confirm", map[string]any{"email": known, "code": "000000"}, map[string]any{"email": unknown, "code": "000000"}},
	}
	for _, p := range pairs {
		ra, rb := e.post(p.path, p.a), e.post(p.path, p.b)
		if ra.Status != rb.Status || ra.Raw != rb.Raw {
			t.Errorf("%s: known address got %d %s, unknown got %d %s", p.name, ra.Status, ra.Raw, rb.Status, rb.Raw)
		}
	}
}

// TestCodes covers the life of a confirmation code on a fake clock.
func TestCodes(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	signUp := func(email string) string {
		want(t, e.post("/api/auth/signup", map[string]any{"email": email, "password": testPassword}), http.StatusCreated, "")
		_, text := e.mailTo(email, subjectConfirm)
		return codeFrom(t, text)
	}
	wrong := func(code string) string {
		if code == "000000" {
			return "000001"
		}
		return "000000"
	}

	t.Run("five wrong tries invalidate the code", func(t *testing.T) {
		email := uniqueEmail("tries")
		code := signUp(email)
		for i := 0; i < 5; i++ {
			want(t, e.post("/api/auth/confirm", map[string]any{"email": email, "code": wrong(code)}), http.StatusBadRequest, "invalid_code")
		}
		want(t, e.post("/api/auth/confirm", map[string]any{"email": email, "code": code}), http.StatusBadRequest, "invalid_code")
	})
	t.Run("four wrong tries still leave the code usable", func(t *testing.T) {
		email := uniqueEmail("fourtries")
		code := signUp(email)
		for i := 0; i < 4; i++ {
			want(t, e.post("/api/auth/confirm", map[string]any{"email": email, "code": wrong(code)}), http.StatusBadRequest, "invalid_code")
		}
		want(t, e.post("/api/auth/confirm", map[string]any{"email": email, "code": code}), http.StatusOK, "")
	})
	t.Run("expired code refused", func(t *testing.T) {
		email := uniqueEmail("late")
		code := signUp(email)
		e.clock.Advance(24*time.Hour + time.Second)
		want(t, e.post("/api/auth/confirm", map[string]any{"email": email, "code": code}), http.StatusBadRequest, "invalid_code")
	})
	t.Run("a code works once", func(t *testing.T) {
		email := uniqueEmail("once")
		code := signUp(email)
		want(t, e.post("/api/auth/confirm", map[string]any{"email": email, "code": code}), http.StatusOK, "")
		want(t, e.post("/api/auth/confirm", map[string]any{"email": email, "code": code}), http.StatusBadRequest, "invalid_code")
	})
	t.Run("the emailed link confirms", func(t *testing.T) {
		email := uniqueEmail("link")
		want(t, e.post("/api/auth/signup", map[string]any{"email": email, "password": testPassword}), http.StatusCreated, "")
		_, text := e.mailTo(email, subjectConfirm)
		link := confirmLinkPattern.FindString(text)
		if link == "" {
			t.Fatalf("no confirmation link in:\n%s", text)
		}
		token := link[strings.Index(link, "token=")+len("token="):]
		if err := e.ids.ConfirmSignUpLink(t.Context(), token, identity.RequestMeta{}); err != nil {
			t.Fatalf("confirm by link: %v", err)
		}
		want(t, e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword}), http.StatusOK, "")
		if err := e.ids.ConfirmSignUpLink(t.Context(), token, identity.RequestMeta{}); err == nil {
			t.Error("the link worked twice")
		}
	})
}

// TestSignInThrottle: the 101st consecutive failure for one account is refused
// with 429, even when the attempts arrive in parallel.
func TestSignInThrottle(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t, d.URL(t), func(c *identity.Config) {
				l := identity.DefaultLimits()
				l.SignInPerIP.Max = 10_000       // this test is about the account cap
				l.SignInBackoffAfter = 1_000_000 // so only the hard cap applies
				c.Limits = &l
			})
			email := uniqueEmail("target")
			e.signUpConfirmed(email)

			const attempts = 130
			statuses := make([]int, attempts)
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			for i := range attempts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					statuses[i] = e.post("/api/auth/signin", map[string]any{"email": email, "password": "not the password at all"}).Status
				}()
			}
			wg.Wait()
			counts := map[int]int{}
			for _, s := range statuses {
				counts[s]++
			}
			if counts[http.StatusUnauthorized] != 100 || counts[http.StatusTooManyRequests] != attempts-100 {
				t.Fatalf("statuses = %v, want exactly 100 × 401 then 429s", counts)
			}
			// Even the right password is refused now, with Retry-After; a
			// reset is the way back in.
			r := e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword})
			want(t, r, http.StatusTooManyRequests, "too_many_requests")
			if r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			want(t, e.post("/api/auth/password/forgot", map[string]any{"email": email}), http.StatusAccepted, "")
			_, text := e.mailTo(email, subjectReset)
			want(t, e.post("/api/auth/password/reset", map[string]any{"email": email, "code": codeFrom(t, text), "new_password": "a brand new passphrase"}), http.StatusOK, "")
			want(t, e.post("/api/auth/signin", map[string]any{"email": email, "password": "a brand new passphrase"}), http.StatusOK, "")
		})
	}
}

// TestSignInBackoff: consecutive failures slow an account down exponentially
// instead of locking it; time (the fake clock) lets it through again.
func TestSignInBackoff(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	email := uniqueEmail("slow")
	e.signUpConfirmed(email)
	bad := map[string]any{"email": email, "password": "nope nope nope nope"}
	for i := 0; i < 5; i++ {
		want(t, e.post("/api/auth/signin", bad), http.StatusUnauthorized, "invalid_credentials")
	}
	r := e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword})
	want(t, r, http.StatusTooManyRequests, "too_many_requests")
	e.clock.Advance(2 * time.Second)
	want(t, e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword}), http.StatusOK, "")
}

// TestSignOutVariants: sign-out by refresh token (an expired access token is
// no obstacle), and global sign-out ending every device's session.
func TestSignOutVariants(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	email := uniqueEmail("leaver")
	a := e.signUpConfirmed(email)
	b := e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword})
	c := e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword})

	want(t, e.post("/api/auth/signout", map[string]any{"refresh_token": a.str("refresh_token")}), http.StatusNoContent, "")
	want(t, e.do("GET", "/api/me", nil, a.str("access_token")), http.StatusUnauthorized, "invalid_token")
	want(t, e.do("GET", "/api/me", nil, b.str("access_token")), http.StatusOK, "")
	// Signing out an unknown token is not an error: the wanted state holds.
	want(t, e.post("/api/auth/signout", map[string]any{"refresh_token": a.str("refresh_token")}), http.StatusNoContent, "")
	want(t, e.post("/api/auth/signout", nil), http.StatusUnauthorized, "invalid_token")

	sessions := e.do("GET", "/api/me/sessions", nil, b.str("access_token"))
	want(t, sessions, http.StatusOK, "")
	if list, _ := sessions.JSON["sessions"].([]any); len(list) != 2 {
		t.Fatalf("sessions = %s, want 2 active", sessions.Raw)
	}
	want(t, e.do("POST", "/api/auth/signout/global", nil, b.str("access_token")), http.StatusNoContent, "")
	for _, r := range []response{b, c} {
		want(t, e.do("GET", "/api/me", nil, r.str("access_token")), http.StatusUnauthorized, "invalid_token")
		want(t, e.post("/api/auth/refresh", map[string]any{"refresh_token": r.str("refresh_token")}), http.StatusUnauthorized, "invalid_refresh_token")
	}
}

// TestActivityAndSessionRevocation: users see their own events and can end
// one device's session, but not another user's.
func TestActivityAndSessionRevocation(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	email := uniqueEmail("watcher")
	mine := e.signUpConfirmed(email)
	other := e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword})
	stranger := e.signUpConfirmed(uniqueEmail("stranger"))
	want(t, e.post("/api/auth/signin", map[string]any{"email": email, "password": "definitely wrong now"}), http.StatusUnauthorized, "")

	act := e.do("GET", "/api/me/activity", nil, mine.str("access_token"))
	want(t, act, http.StatusOK, "")
	for _, kind := range []string{`"kind":"sign_up"`, `"kind":"confirm_sign_up"`, `"kind":"sign_in","outcome":"success"`, `"kind":"sign_in","outcome":"failure"`} {
		if !strings.Contains(act.Raw, kind) {
			t.Errorf("activity lacks %s: %s", kind, act.Raw)
		}
	}

	sessions := e.do("GET", "/api/me/sessions", nil, mine.str("access_token"))
	var otherID string
	for _, s := range sessions.JSON["sessions"].([]any) {
		m := s.(map[string]any)
		if m["current"] == false {
			otherID = m["id"].(string)
		}
	}
	if otherID == "" {
		t.Fatalf("no second session in %s", sessions.Raw)
	}
	want(t, e.do("DELETE", "/api/me/sessions/"+otherID, nil, stranger.str("access_token")), http.StatusNotFound, "session_not_found")
	want(t, e.do("GET", "/api/me", nil, other.str("access_token")), http.StatusOK, "")
	want(t, e.do("DELETE", "/api/me/sessions/"+otherID, nil, mine.str("access_token")), http.StatusNoContent, "")
	want(t, e.do("GET", "/api/me", nil, other.str("access_token")), http.StatusUnauthorized, "invalid_token")
	want(t, e.do("GET", "/api/me", nil, mine.str("access_token")), http.StatusOK, "")
}

// TestGroupsTravelInTokens: an administrator's group change shows up in the
// user's next tokens and profile.
func TestGroupsTravelInTokens(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testenv.Databases[0].URL(t))
	email := uniqueEmail("member")
	e.signUpConfirmed(email)
	if err := e.ids.AddToGroup(t.Context(), strings.ToUpper(email), "editors"); err != nil {
		t.Fatalf("AddToGroup: %v", err)
	}
	if err := e.ids.AddToGroup(t.Context(), email, "bad group!"); err == nil {
		t.Error("a group name with spaces was accepted")
	}
	r := e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword})
	want(t, r, http.StatusOK, "")
	for _, tok := range []string{r.str("access_token"), r.str("id_token")} {
		claims := decodeClaims(t, tok)
		if groups, _ := claims["groups"].([]any); len(groups) != 1 || groups[0] != "editors" {
			t.Errorf("groups claim = %v, want [editors]", claims["groups"])
		}
	}
	me := e.do("GET", "/api/me", nil, r.str("access_token"))
	if !strings.Contains(me.Raw, `"groups":["editors"]`) {
		t.Errorf("/api/me = %s, want groups [editors]", me.Raw)
	}
}

// TestPurgeChangesNoAnswer: the periodic purge removes what no flow would
// accept, so every answer after it is the one the client got before it,
// reuse detection included.
func TestPurgeChangesNoAnswer(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t, d.URL(t))
			ctx := context.Background()
			email := uniqueEmail("tidy")
			signedOut := e.signUpConfirmed(email)
			kept := e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword})
			want(t, kept, http.StatusOK, "")
			rotated := e.post("/api/auth/refresh", map[string]any{"refresh_token": kept.str("refresh_token")})
			want(t, rotated, http.StatusOK, "")
			want(t, e.post("/api/auth/signout", map[string]any{"refresh_token": signedOut.str("refresh_token")}), http.StatusNoContent, "")
			want(t, e.post("/api/auth/password/forgot", map[string]any{"email": email}), http.StatusAccepted, "")
			me := e.do("GET", "/api/me", nil, rotated.str("access_token"))
			want(t, me, http.StatusOK, "")
			sub := me.str("sub")

			// Two hours on: the reset code (1 h) has expired, the grace
			// window is long past, the session is still live.
			e.clock.Advance(2 * time.Hour)
			report, err := e.ids.Purge(ctx)
			if err != nil {
				t.Fatalf("Purge: %v", err)
			}
			if report.Codes != 1 || report.Sessions != 1 || report.RefreshTokens != 1 ||
				report.ThrottleWindows == 0 || report.Events != 0 {
				t.Errorf("Purge() = %+v, want the reset code, the signed-out session and its token, spent windows, no events", report)
			}

			want(t, e.post("/api/auth/refresh", map[string]any{"refresh_token": signedOut.str("refresh_token")}), http.StatusUnauthorized, "invalid_refresh_token")
			// The rotated token is kept: presenting it again is still caught
			// as reuse.
			want(t, e.post("/api/auth/refresh", map[string]any{"refresh_token": kept.str("refresh_token")}), http.StatusUnauthorized, "refresh_token_reused")
			want(t, e.post("/api/auth/refresh", map[string]any{"refresh_token": rotated.str("refresh_token")}), http.StatusUnauthorized, "invalid_refresh_token")

			// The audit trail outlives the purge until its retention ends.
			events, err := e.store.Events(ctx, sub, 100)
			if err != nil || len(events) == 0 {
				t.Fatalf("events after the first purge: %d, %v; want them kept", len(events), err)
			}
			e.clock.Advance(91 * 24 * time.Hour)
			report, err = e.ids.Purge(ctx)
			if err != nil {
				t.Fatalf("second Purge: %v", err)
			}
			if report.Events < int64(len(events)) || report.Sessions != 1 {
				t.Errorf("second Purge() = %+v, want at least %d events and the session revoked by reuse detection", report, len(events))
			}
			if events, _ := e.store.Events(ctx, sub, 100); len(events) != 0 {
				t.Errorf("events after 91 days and a purge = %d, want 0", len(events))
			}
		})
	}
}
