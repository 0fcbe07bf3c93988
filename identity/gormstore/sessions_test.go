package gormstore_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

// storedSession is s as it reads back.
func storedSession(s identity.Session) identity.Session {
	s.AuthTime = stored(s.AuthTime)
	s.CreatedAt = stored(s.CreatedAt)
	s.LastUsedAt = stored(s.LastUsedAt)
	s.ExpiresAt = stored(s.ExpiresAt)
	if s.RevokedAt != nil {
		s.RevokedAt = ptr(stored(*s.RevokedAt))
	}
	return s
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := mustCreateUser(t, s, 1, "ada@example.com")
		sess := newSession("s1", u.Sub, t0)
		mustCreateSession(t, s, sess)

		mustSession := func(want identity.Session) {
			t.Helper()
			got, err := s.SessionByID(ctx, sess.ID)
			if err != nil {
				t.Fatalf("SessionByID: %v", err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("SessionByID:\ngot  %+v\nwant %+v", *got, want)
			}
		}
		want := storedSession(sess) // RevokedAt nil
		mustSession(want)

		used := t0.Add(time.Hour)
		if err := s.TouchSession(ctx, sess.ID, used, "198.51.100.7", "other-agent/2.0"); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}
		want.LastUsedAt, want.IP, want.UserAgent = stored(used), "198.51.100.7", "other-agent/2.0"
		mustSession(want)

		revoked := t0.Add(2 * time.Hour)
		if err := s.RevokeSession(ctx, sess.ID, revoked); err != nil {
			t.Fatalf("RevokeSession: %v", err)
		}
		want.RevokedAt = ptr(stored(revoked))
		mustSession(want)
		// Revoking again is a no-op: the first revocation time stays.
		if err := s.RevokeSession(ctx, sess.ID, revoked.Add(time.Hour)); err != nil {
			t.Fatalf("second RevokeSession: %v", err)
		}
		mustSession(want)
	})
}

func TestSessionNotFound(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		_, err := s.SessionByID(ctx, "nope")
		wantNotFound(t, "SessionByID", err)
		wantNotFound(t, "TouchSession", s.TouchSession(ctx, "nope", t0, "", ""))
		wantNotFound(t, "RevokeSession", s.RevokeSession(ctx, "nope", t0))
		wantNotFound(t, "CreateSession for an unknown user", s.CreateSession(ctx, newSession("s1", testSub(404), t0)))
		wantNotFound(t, "CreateRefreshToken for an unknown session",
			s.CreateRefreshToken(ctx, identity.RefreshToken{Hash: hash("r"), SessionID: "nope", CreatedAt: t0}))
		_, err = s.LockRefreshToken(ctx, hash("nope"))
		wantNotFound(t, "LockRefreshToken", err)
		wantNotFound(t, "MarkRefreshTokenRotated", s.MarkRefreshTokenRotated(ctx, hash("nope"), t0, []byte("x")))
	})
}

func TestRevokeSessionsAndActiveSessions(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		ada := mustCreateUser(t, s, 1, "ada@example.com")
		bob := mustCreateUser(t, s, 2, "bob@example.com")
		now := t0.Add(time.Hour)

		older := newSession("older", ada.Sub, t0)
		current := newSession("current", ada.Sub, t0.Add(time.Minute))
		newer := newSession("newer", ada.Sub, t0.Add(2*time.Minute))
		expired := newSession("expired", ada.Sub, t0.Add(-48*time.Hour))
		revoked := newSession("revoked", ada.Sub, t0)
		revoked.RevokedAt = ptr(t0.Add(time.Minute))
		others := newSession("bobs", bob.Sub, t0)
		for _, sess := range []identity.Session{older, current, newer, expired, revoked, others} {
			mustCreateSession(t, s, sess)
		}

		active, err := s.ActiveSessions(ctx, ada.Sub, now)
		if err != nil {
			t.Fatalf("ActiveSessions: %v", err)
		}
		want := []identity.Session{storedSession(newer), storedSession(current), storedSession(older)}
		if !reflect.DeepEqual(active, want) {
			t.Errorf("ActiveSessions (want newest first, no expired or revoked):\ngot  %+v\nwant %+v", active, want)
		}

		n, err := s.RevokeSessions(ctx, ada.Sub, now, current.ID)
		if err != nil {
			t.Fatalf("RevokeSessions: %v", err)
		}
		if n != 2 {
			t.Errorf("RevokeSessions ended %d sessions, want 2 (older, newer)", n)
		}
		active, err = s.ActiveSessions(ctx, ada.Sub, now)
		if err != nil {
			t.Fatalf("ActiveSessions: %v", err)
		}
		if want := []identity.Session{storedSession(current)}; !reflect.DeepEqual(active, want) {
			t.Errorf("ActiveSessions after RevokeSessions:\ngot  %+v\nwant %+v", active, want)
		}
		// An earlier revocation keeps its time.
		got, err := s.SessionByID(ctx, revoked.ID)
		if err != nil {
			t.Fatalf("SessionByID: %v", err)
		}
		if !got.RevokedAt.Equal(stored(*revoked.RevokedAt)) {
			t.Errorf("RevokedAt of an already revoked session = %v, want %v", got.RevokedAt, revoked.RevokedAt)
		}
		// Another user's sessions are untouched.
		if active, _ := s.ActiveSessions(ctx, bob.Sub, now); len(active) != 1 {
			t.Errorf("bob has %d active sessions, want 1", len(active))
		}

		// No exception: every remaining active session ends.
		if n, err := s.RevokeSessions(ctx, ada.Sub, now, ""); err != nil || n != 1 {
			t.Errorf("RevokeSessions without exception = %d, %v; want 1, nil", n, err)
		}
	})
}

func TestRefreshTokenRotation(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := mustCreateUser(t, s, 1, "ada@example.com")
		mustCreateSession(t, s, newSession("s1", u.Sub, t0))
		tok := identity.RefreshToken{Hash: hash("r1"), SessionID: "s1", CreatedAt: t0}
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatalf("CreateRefreshToken: %v", err)
		}

		got, err := s.LockRefreshToken(ctx, tok.Hash)
		if err != nil {
			t.Fatalf("LockRefreshToken: %v", err)
		}
		want := identity.RefreshToken{Hash: tok.Hash, SessionID: "s1", CreatedAt: stored(t0)}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("LockRefreshToken before rotation:\ngot  %+v\nwant %+v", *got, want)
		}

		rotated := t0.Add(time.Hour)
		if err := s.MarkRefreshTokenRotated(ctx, tok.Hash, rotated, []byte("sealed successor")); err != nil {
			t.Fatalf("MarkRefreshTokenRotated: %v", err)
		}
		got, err = s.LockRefreshToken(ctx, tok.Hash)
		if err != nil {
			t.Fatalf("LockRefreshToken: %v", err)
		}
		want.RotatedAt, want.SuccessorSealed = ptr(stored(rotated)), []byte("sealed successor")
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("LockRefreshToken after rotation:\ngot  %+v\nwant %+v", *got, want)
		}
	})
}

// Two refreshes of the same token, each in its own transaction, run one after
// the other: the second waits for the first to commit and then sees the
// token as rotated, which is what lets the domain answer it with the same
// successor instead of issuing a second one.
func TestLockRefreshTokenSerialises(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, db *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := mustCreateUser(t, s, 1, "ada@example.com")
		mustCreateSession(t, s, newSession("s1", u.Sub, t0))
		h := hash("r1")
		if err := s.CreateRefreshToken(ctx, identity.RefreshToken{Hash: h, SessionID: "s1", CreatedAt: t0}); err != nil {
			t.Fatalf("CreateRefreshToken: %v", err)
		}
		rotated := stored(t0.Add(time.Minute))

		type result struct {
			tok *identity.RefreshToken
			err error
		}
		firstLocked := make(chan struct{})
		secondStarting := make(chan struct{})
		second := make(chan result, 1)
		go func() {
			<-firstLocked
			close(secondStarting)
			var r result
			err := s.Tx(ctx, func(tx identity.Store) error {
				r.tok, r.err = tx.LockRefreshToken(ctx, h)
				return r.err
			})
			if r.err == nil {
				r.err = err
			}
			second <- r
		}()

		err := s.Tx(ctx, func(tx identity.Store) error {
			if _, err := tx.LockRefreshToken(ctx, h); err != nil {
				return err
			}
			close(firstLocked)
			<-secondStarting
			waitForLockWaiter(t, ctx, db)
			select {
			case r := <-second:
				t.Errorf("second transaction finished while the first held the lock (token %+v, error %v)", r.tok, r.err)
			default:
			}
			return tx.MarkRefreshTokenRotated(ctx, h, rotated, []byte("sealed"))
		})
		if err != nil {
			t.Fatalf("first transaction: %v", err)
		}

		r := <-second
		if r.err != nil {
			t.Fatalf("second transaction: %v", r.err)
		}
		if r.tok.RotatedAt == nil || !r.tok.RotatedAt.Equal(rotated) {
			t.Errorf("second locker saw RotatedAt %v, want %v: it read the token before the first transaction committed", r.tok.RotatedAt, rotated)
		}
	})
}

// waitForLockWaiter returns once another connection is blocked waiting for a
// lock, which proves that the second transaction is queued behind the
// first rather than merely late.
//
// PostgreSQL shows waiters in pg_stat_activity. SQLite cannot show them: the
// second transaction blocks in BEGIN IMMEDIATE inside the driver, out of
// sight. There the test can only check the outcome, which is what the
// domain depends on.
func waitForLockWaiter(t *testing.T, ctx context.Context, db *database.DB) {
	t.Helper()
	if db.Dialect != database.Postgres {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int64
		err := db.WithContext(ctx).Raw(
			`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
		).Scan(&waiting).Error
		if err != nil {
			t.Fatalf("read pg_stat_activity: %v", err)
		}
		if waiting > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the second transaction never waited for the row lock: LockRefreshToken does not lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
