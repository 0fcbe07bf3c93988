package gormstore_test

import (
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

// Every step of Purge gets a row just past its cutoff, which must go, and
// one just short of it, which must stay.
func TestPurge(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		const maxFailures = 3
		ada := mustCreateUser(t, s, 1, "ada@example.com")
		bob := mustCreateUser(t, s, 2, "bob@example.com")

		// Codes: ada's has expired, bob's has a second left.
		expired := newCode(ada.Sub, "expired")
		expired.ExpiresAt = t0
		live := newCode(bob.Sub, "live")
		live.ExpiresAt = t0.Add(time.Second)
		for _, c := range []identity.Code{expired, live} {
			if err := s.PutCode(ctx, c); err != nil {
				t.Fatalf("PutCode: %v", err)
			}
		}

		// Sessions: one expired, one revoked, one active.
		ended := newSession("ended", ada.Sub, t0.Add(-24*time.Hour)) // expires at t0
		revoked := newSession("revoked", ada.Sub, t0.Add(-time.Hour))
		active := newSession("active", ada.Sub, t0.Add(-time.Hour))
		for _, sess := range []identity.Session{ended, revoked, active} {
			mustCreateSession(t, s, sess)
		}
		if err := s.RevokeSession(ctx, revoked.ID, t0.Add(-time.Minute)); err != nil {
			t.Fatalf("RevokeSession: %v", err)
		}
		token := func(label, sessionID string) identity.RefreshToken {
			tok := identity.RefreshToken{Hash: hash(label), SessionID: sessionID, CreatedAt: t0.Add(-time.Hour)}
			if err := s.CreateRefreshToken(ctx, tok); err != nil {
				t.Fatalf("CreateRefreshToken(%s): %v", label, err)
			}
			return tok
		}
		rotate := func(tok identity.RefreshToken, at time.Time) {
			if err := s.MarkRefreshTokenRotated(ctx, tok.Hash, at, []byte("sealed "+string(tok.Hash[:4]))); err != nil {
				t.Fatalf("MarkRefreshTokenRotated: %v", err)
			}
		}
		token("ended-1", ended.ID)
		rotate(token("revoked-1", revoked.ID), t0.Add(-time.Hour))
		token("revoked-2", revoked.ID)
		// An active session's tokens all stay, rotated ones with their
		// sealed successors: reuse detection needs them.
		rotated := token("rotated", active.ID)
		rotate(rotated, t0.Add(-time.Hour))
		current := token("current", active.ID)

		// Throttle windows: one ended at t0, one ends a microsecond later.
		for key, start := range map[string]time.Time{
			"signup:ip:192.0.2.1": t0.Add(-5 * time.Minute),
			"signup:ip:192.0.2.2": t0.Add(-5*time.Minute + time.Microsecond),
		} {
			if _, _, err := s.HitWindow(ctx, key, start, 5*time.Minute); err != nil {
				t.Fatalf("HitWindow: %v", err)
			}
		}

		// Failure counts: one ordinary, one at the cap, one locked past t0.
		// Their updated_at is the database's clock, so the idle cutoff is
		// set from the real time below.
		begin := func(key string, times int) {
			for range times {
				if _, ok, err := s.BeginAttempt(ctx, key, t0, maxFailures); err != nil || !ok {
					t.Fatalf("BeginAttempt(%s) = %v, %v", key, ok, err)
				}
			}
		}
		begin("signin:acct:idle@example.com", 1)
		begin("signin:acct:capped@example.com", maxFailures)
		begin("signin:acct:locked@example.com", 1)
		if err := s.LockAttempts(ctx, "signin:acct:locked@example.com", t0.Add(time.Second)); err != nil {
			t.Fatalf("LockAttempts: %v", err)
		}

		// Audit events on both sides of the retention cutoff.
		retainFrom := t0.Add(-90 * 24 * time.Hour)
		for _, at := range []time.Time{retainFrom.Add(-time.Microsecond), retainFrom} {
			e := identity.Event{At: at, Sub: ada.Sub, Kind: identity.EventSignIn, Outcome: identity.OutcomeSuccess}
			if err := s.AddEvent(ctx, e); err != nil {
				t.Fatalf("AddEvent: %v", err)
			}
		}

		cutoffs := identity.PurgeCutoffs{
			Now:                t0,
			AttemptsIdleBefore: time.Now().Add(-time.Hour), // nothing is idle yet
			MaxFailures:        maxFailures,
			EventsBefore:       retainFrom,
		}
		got, err := s.Purge(ctx, cutoffs)
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		want := identity.PurgeReport{
			Codes: 1, Sessions: 2, RefreshTokens: 3,
			ThrottleWindows: 1, ThrottleAttempts: 0, Events: 1,
		}
		if got != want {
			t.Errorf("Purge() =\n%+v, want\n%+v", got, want)
		}

		// What went is gone; what stayed is intact.
		if _, err := s.CodeFor(ctx, ada.Sub, identity.PurposeConfirmSignUp); err == nil {
			t.Error("expired code survived the purge")
		}
		if _, err := s.CodeFor(ctx, bob.Sub, identity.PurposeConfirmSignUp); err != nil {
			t.Errorf("live code: %v", err)
		}
		for _, id := range []string{ended.ID, revoked.ID} {
			_, err := s.SessionByID(ctx, id)
			wantNotFound(t, "ended session "+id, err)
		}
		if _, err := s.SessionByID(ctx, active.ID); err != nil {
			t.Errorf("active session: %v", err)
		}
		for _, tc := range []struct {
			tok        identity.RefreshToken
			wantSealed bool
		}{{rotated, true}, {current, false}} {
			got, err := s.LockRefreshToken(ctx, tc.tok.Hash)
			if err != nil {
				t.Fatalf("refresh token %q of the active session: %v", tc.tok.Hash[:8], err)
			}
			if hasSealed := got.SuccessorSealed != nil; hasSealed != tc.wantSealed {
				t.Errorf("refresh token %q: has a sealed successor = %v, want %v", tc.tok.Hash[:8], hasSealed, tc.wantSealed)
			}
		}
		if n, _, _ := s.HitWindow(ctx, "signup:ip:192.0.2.2", t0, 5*time.Minute); n != 2 {
			t.Errorf("window that had not ended: count after another hit = %d, want 2", n)
		}
		events, err := s.Events(ctx, ada.Sub, 10)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		if len(events) != 1 || !events[0].At.Equal(stored(retainFrom)) {
			t.Errorf("events after purge = %+v, want only the one at %v", events, retainFrom)
		}

		// Once the counts have been idle past the cutoff, the ordinary one
		// goes; the capped and the locked one stay.
		cutoffs.AttemptsIdleBefore = time.Now().Add(time.Hour)
		got, err = s.Purge(ctx, cutoffs)
		if err != nil {
			t.Fatalf("second Purge: %v", err)
		}
		if want := (identity.PurgeReport{ThrottleAttempts: 1}); got != want {
			t.Errorf("second Purge() = %+v, want %+v", got, want)
		}
		for key, wantFailures := range map[string]int{
			"signin:acct:idle@example.com":   1, // forgotten: this attempt is the first again
			"signin:acct:capped@example.com": maxFailures,
			"signin:acct:locked@example.com": 1,
		} {
			a, _, err := s.BeginAttempt(ctx, key, t0, maxFailures)
			if err != nil {
				t.Fatalf("BeginAttempt(%s): %v", key, err)
			}
			if a.Failures != wantFailures {
				t.Errorf("%s: failures after purge = %d, want %d", key, a.Failures, wantFailures)
			}
		}
	})
}

func TestPurgeRejectsNoCap(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		if _, err := s.Purge(testenv.Context(t), identity.PurgeCutoffs{Now: t0}); err == nil {
			t.Error("Purge with MaxFailures 0 succeeded, want an error (every count would look purgeable)")
		}
	})
}
