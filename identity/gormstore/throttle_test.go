package gormstore_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

func TestHitWindowCountsParallelHits(t *testing.T) {
	t.Parallel()
	const hits = 50
	const window = 5 * time.Minute
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		key := "signin:ip:192.0.2.1"
		wantReset := stored(t0.Add(window))

		counts := make([]int, hits)
		var wg sync.WaitGroup
		for i := range hits {
			wg.Go(func() {
				n, resetAt, err := s.HitWindow(ctx, key, t0, window)
				if err != nil {
					t.Errorf("HitWindow: %v", err)
					return
				}
				if !resetAt.Equal(wantReset) {
					t.Errorf("resetAt = %v, want %v (the first hit's time plus the window)", resetAt, wantReset)
				}
				counts[i] = n
			})
		}
		wg.Wait()
		slices.Sort(counts)
		for i, n := range counts {
			if n != i+1 {
				t.Fatalf("counts returned = %v, want 1..%d once each", counts, hits)
			}
		}

		steps := []struct {
			name      string
			now       time.Time
			wantCount int
			wantReset time.Time
		}{
			{"just before the window ends", wantReset.Add(-time.Microsecond), hits + 1, wantReset},
			{"when the window ends", wantReset, 1, stored(wantReset.Add(window))},
			{"in the new window", wantReset.Add(time.Minute), 2, stored(wantReset.Add(window))},
		}
		for _, step := range steps {
			n, resetAt, err := s.HitWindow(ctx, key, step.now, window)
			if err != nil {
				t.Fatalf("%s: HitWindow: %v", step.name, err)
			}
			if n != step.wantCount || !resetAt.Equal(step.wantReset) {
				t.Errorf("%s: HitWindow = %d, %v; want %d, %v", step.name, n, resetAt, step.wantCount, step.wantReset)
			}
		}

		// Keys count separately.
		if n, _, err := s.HitWindow(ctx, "signin:ip:192.0.2.2", t0, window); err != nil || n != 1 {
			t.Errorf("HitWindow on another key = %d, %v; want 1, nil", n, err)
		}
	})
}

func TestBeginAttemptCapsParallelAttempts(t *testing.T) {
	t.Parallel()
	const callers, maxFailures = 150, 100
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		key := "signin:acct:ada@example.com"

		var allowed, refused atomic.Int64
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				a, ok, err := s.BeginAttempt(ctx, key, t0, maxFailures)
				switch {
				case err != nil:
					t.Errorf("BeginAttempt: %v", err)
				case ok:
					allowed.Add(1)
				default:
					refused.Add(1)
					if a.Failures != maxFailures {
						t.Errorf("refused with Failures = %d, want %d", a.Failures, maxFailures)
					}
				}
			})
		}
		wg.Wait()
		if allowed.Load() != maxFailures || refused.Load() != callers-maxFailures {
			t.Errorf("allowed %d, refused %d; want %d, %d", allowed.Load(), refused.Load(), maxFailures, callers-maxFailures)
		}
	})
}

func TestBeginAttemptRespectsLock(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		key := "signin:acct:ada@example.com"
		until := t0.Add(time.Minute)

		steps := []struct {
			name        string
			do          func() (identity.Attempts, bool, error)
			wantAllowed bool
			want        identity.Attempts
		}{
			{
				name:        "first attempt",
				do:          func() (identity.Attempts, bool, error) { return s.BeginAttempt(ctx, key, t0, 100) },
				wantAllowed: true,
				want:        identity.Attempts{Failures: 1},
			},
			{
				name: "while locked",
				do: func() (identity.Attempts, bool, error) {
					if err := s.LockAttempts(ctx, key, until); err != nil {
						return identity.Attempts{}, false, err
					}
					return s.BeginAttempt(ctx, key, until.Add(-time.Microsecond), 100)
				},
				wantAllowed: false,
				want:        identity.Attempts{Failures: 1, LockedUntil: stored(until)},
			},
			{
				name:        "once the lock has passed",
				do:          func() (identity.Attempts, bool, error) { return s.BeginAttempt(ctx, key, until, 100) },
				wantAllowed: true,
				want:        identity.Attempts{Failures: 2, LockedUntil: stored(until)},
			},
			{
				name: "after ClearAttempts",
				do: func() (identity.Attempts, bool, error) {
					if err := s.LockAttempts(ctx, key, until.Add(time.Hour)); err != nil {
						return identity.Attempts{}, false, err
					}
					if err := s.ClearAttempts(ctx, key); err != nil {
						return identity.Attempts{}, false, err
					}
					return s.BeginAttempt(ctx, key, until, 100)
				},
				wantAllowed: true,
				want:        identity.Attempts{Failures: 1},
			},
			{
				name:        "at the cap",
				do:          func() (identity.Attempts, bool, error) { return s.BeginAttempt(ctx, key, until, 1) },
				wantAllowed: false,
				want:        identity.Attempts{Failures: 1},
			},
		}
		for _, step := range steps {
			a, ok, err := step.do()
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if ok != step.wantAllowed || !sameAttempts(a, step.want) {
				t.Errorf("%s: got %+v, allowed %v; want %+v, allowed %v", step.name, a, ok, step.want, step.wantAllowed)
			}
		}
	})
}

func TestLockAndClearUnknownKey(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		if err := s.ClearAttempts(ctx, "never-seen"); err != nil {
			t.Errorf("ClearAttempts on an unknown key: %v", err)
		}
		// A lock on a key with no failures yet still holds.
		until := t0.Add(time.Minute)
		if err := s.LockAttempts(ctx, "fresh", until); err != nil {
			t.Fatalf("LockAttempts: %v", err)
		}
		a, ok, err := s.BeginAttempt(ctx, "fresh", t0, 100)
		if err != nil {
			t.Fatalf("BeginAttempt: %v", err)
		}
		if want := (identity.Attempts{LockedUntil: stored(until)}); ok || !sameAttempts(a, want) {
			t.Errorf("BeginAttempt on a locked fresh key = %+v, allowed %v; want %+v, refused", a, ok, want)
		}
	})
}

func TestThrottleRejectsNonsense(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		if _, _, err := s.HitWindow(ctx, "k", t0, 0); err == nil {
			t.Error("HitWindow with a zero window succeeded, want an error")
		}
		if _, ok, err := s.BeginAttempt(ctx, "k", t0, 0); err == nil || ok {
			t.Errorf("BeginAttempt with maxFailures 0 = allowed %v, error %v; want refused with an error", ok, err)
		}
	})
}

// sameAttempts compares with time.Time.Equal, as times should be compared.
func sameAttempts(a, b identity.Attempts) bool {
	return a.Failures == b.Failures && a.LockedUntil.Equal(b.LockedUntil)
}

// TestReleaseAttempt: a released reservation no longer counts, and the count
// never goes below zero.
func TestReleaseAttempt(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, st *gormstore.Store) {
		ctx := testenv.Context(t)
		for i := 0; i < 3; i++ {
			if _, ok, err := st.BeginAttempt(ctx, "k", t0, 100); err != nil || !ok {
				t.Fatalf("BeginAttempt = %v, %v", ok, err)
			}
		}
		for i := 0; i < 5; i++ {
			if err := st.ReleaseAttempt(ctx, "k"); err != nil {
				t.Fatalf("ReleaseAttempt: %v", err)
			}
		}
		a, _, err := st.BeginAttempt(ctx, "k", t0, 100)
		if err != nil || a.Failures != 1 {
			t.Errorf("after 3 reserved, 5 released, 1 reserved: failures = %d, %v; want 1", a.Failures, err)
		}
		if err := st.ReleaseAttempt(ctx, "never-seen"); err != nil {
			t.Errorf("ReleaseAttempt of an unknown key = %v, want nil", err)
		}
	})
}
