package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/password"
	"github.com/pinhole/pinhole/internal/testenv"
)

// The user pool's speed, measured against its own physical limit in the
// same run: sign-in is mostly one argon2id verification, so its throughput
// is compared with hashing alone (BenchmarkArgon2idBound), same parameters,
// same worker count. Run with:
//
//	go test -run '^$' -bench 'SignIn|Argon2id|Refresh' ./app

// benchLimits lets a benchmark hammer one account without being throttled.
func benchLimits(c *identity.Config) {
	l := identity.DefaultLimits()
	l.SignInPerIP.Max = 0 // off
	l.SignInBackoffAfter = 0
	c.Limits = &l
}

// BenchmarkArgon2idBound is the ceiling for sign-in throughput: verifying a
// password with the production parameters on every core, nothing else.
func BenchmarkArgon2idBound(b *testing.B) {
	h := password.NewHasher(password.DefaultParams, 0, 1024)
	ctx := context.Background()
	encoded, err := h.Hash(ctx, testPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(1) // RunParallel uses GOMAXPROCS goroutines: one per core, like the cap
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := h.Verify(ctx, encoded, testPassword); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, "verifies/s")
}

// BenchmarkSignIn measures whole sign-ins through the service: throttle
// bookkeeping, lookup, argon2id, session and token issue. wrong_password and
// unknown_user should cost the same (enumeration safety).
func BenchmarkSignIn(b *testing.B) {
	e := newAPIEnv(b, testenv.Databases[0].URL(b), benchLimits)
	email := uniqueEmail("bench")
	e.signUpConfirmed(email)
	ctx := context.Background()
	meta := identity.RequestMeta{IP: "127.0.0.1"}

	cases := []struct {
		name     string
		email    func() string
		password string
		wantErr  error
	}{
		{"success", func() string { return email }, testPassword, nil},
		// A fresh unknown address each time, so the per-account cap never
		// trips; a real attacker spraying addresses looks like this too.
		{"unknown_user", func() string { return uniqueEmail("ghost") }, "not the password", identity.ErrInvalidCredentials},
		{"wrong_password", func() string { return email }, "not the password", identity.ErrInvalidCredentials},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			// Each round of the benchmark starts from a clean failure count:
			// a success resets it.
			if _, err := e.ids.SignIn(ctx, email, testPassword, meta); err != nil {
				b.Fatal(err)
			}
			var failures atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if c.name == "wrong_password" && failures.Add(1)%90 == 0 {
						// Stay under the 100-failure account cap: a success resets it.
						_, _ = e.ids.SignIn(ctx, email, testPassword, meta)
					}
					_, err := e.ids.SignIn(ctx, c.email(), c.password, meta)
					if err != c.wantErr {
						b.Errorf("SignIn = %v, want %v", err, c.wantErr)
						return
					}
				}
			})
			reportRate(b, "signins/s")
		})
	}
}

// benchMailLimits keeps the mail flows' throttles in play (their database
// writes are part of the cost) but out of reach of a benchmark's volume.
func benchMailLimits(c *identity.Config) {
	l := identity.DefaultLimits()
	for _, limit := range []*identity.Limit{&l.SignUpPerIP, &l.ForgotPerAccount, &l.ForgotPerIP, &l.ResendPerAccount, &l.ResendPerIP} {
		limit.Max = 1 << 30
	}
	c.Limits = &l
}

// BenchmarkForgotPassword compares forgot-password for a registered address
// (a reset code is stored and an email queued) with an unknown one (nothing
// is). They answer alike; this shows how alike they take. Mail leaves
// through mailer.Queue, so neither waits for the SMTP server.
func BenchmarkForgotPassword(b *testing.B) {
	e := newAPIEnv(b, testenv.Databases[1].URL(b), benchMailLimits)
	registered := uniqueEmail("forgetful")
	e.signUpConfirmed(registered)
	ctx := context.Background()
	meta := identity.RequestMeta{IP: "127.0.0.1"}
	for _, c := range []struct {
		name  string
		email func() string
	}{
		{"registered", func() string { return registered }},
		{"unknown", func() string { return uniqueEmail("nobody") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := e.ids.ForgotPassword(ctx, c.email(), meta); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignUp compares sign-up with a new address (a user and a code are
// stored, a confirmation queued) with an already registered one (the insert
// fails, an "already registered" notice is queued). Both hash the password
// with the production parameters first, which dominates.
func BenchmarkSignUp(b *testing.B) {
	e := newAPIEnv(b, testenv.Databases[1].URL(b), benchMailLimits)
	registered := uniqueEmail("taken")
	e.signUpConfirmed(registered)
	ctx := context.Background()
	meta := identity.RequestMeta{IP: "127.0.0.1"}
	for _, c := range []struct {
		name  string
		email func() string
	}{
		{"new_address", func() string { return uniqueEmail("newcomer") }},
		{"registered", func() string { return registered }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				err := e.ids.SignUp(ctx, identity.SignUpParams{Email: c.email(), Password: testPassword}, meta)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRefresh measures refresh-token rotation on each database: one
// transaction (lock, insert successor, mark rotated, touch session) and two
// signatures.
func BenchmarkRefresh(b *testing.B) {
	for _, d := range testenv.Databases {
		b.Run(d.Name, func(b *testing.B) {
			e := newAPIEnv(b, d.URL(b), benchLimits)
			email := uniqueEmail("refresher")
			e.signUpConfirmed(email)
			ctx := context.Background()
			workers := runtime.GOMAXPROCS(0) * 4
			tokens := make(chan string, workers)
			for range workers {
				res, err := e.ids.SignIn(ctx, email, testPassword, identity.RequestMeta{})
				if err != nil {
					b.Fatal(err)
				}
				tokens <- res.Tokens.RefreshToken
			}
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				refresh := <-tokens
				for pb.Next() {
					set, err := e.ids.Refresh(ctx, refresh, identity.RequestMeta{})
					if err != nil {
						b.Error(err)
						return
					}
					refresh = set.RefreshToken
				}
			})
			reportRate(b, "refreshes/s")
		})
	}
}

// BenchmarkAuthenticate is the per-request cost of an authenticated call:
// verify the JWT and check its session is active.
func BenchmarkAuthenticate(b *testing.B) {
	for _, d := range testenv.Databases {
		b.Run(d.Name, func(b *testing.B) {
			e := newAPIEnv(b, d.URL(b), benchLimits)
			access := e.signUpConfirmed(uniqueEmail("reader")).str("access_token")
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if _, err := e.ids.Authenticate(ctx, access); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRequireAuth is the auth middleware itself: the same trivial
// handler behind requireAuth (a Bearer token: header parsing, JWT
// verification, session lookup) and without it. The difference is what
// authentication adds to every API request (SPEC §5: under 0.3 ms), free of
// the network and of any handler's own work.
func BenchmarkRequireAuth(b *testing.B) {
	for _, d := range testenv.Databases {
		b.Run(d.Name, func(b *testing.B) {
			e := newAPIEnv(b, d.URL(b), benchLimits)
			access := e.signUpConfirmed(uniqueEmail("middleware")).str("access_token")
			s := &server{ids: e.ids, log: slog.New(slog.DiscardHandler)}
			ok := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
			ec := echo.New()
			cases := []struct {
				name    string
				handler echo.HandlerFunc
			}{
				{"anonymous", ok},
				{"bearer", s.requireAuth(ok)},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
						req.Header.Set(echo.HeaderAuthorization, "Bearer "+access)
						rec := httptest.NewRecorder()
						if err := c.handler(ec.NewContext(req, rec)); err != nil || rec.Code != http.StatusNoContent {
							b.Fatalf("handler = %d, %v; want 204, nil", rec.Code, err)
						}
					}
				})
			}
		})
	}
}

// reportRate adds operations per second, the unit the targets use.
func reportRate(b *testing.B, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, unit)
	}
}
