package identity

import (
	"context"
	"fmt"
	"time"
)

// Limit allows Max events per Window for one key.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limits are the pool's throttles. They live in the database (not in process
// memory) so they hold across replicas and restarts.
type Limits struct {
	// SignInPerIP bounds sign-in attempts from one address, whatever account.
	SignInPerIP Limit
	// SignInBackoffAfter consecutive failures on one account start an
	// exponential wait before the next attempt: 1s, 2s, 4s... up to
	// SignInMaxBackoff. A success resets the count.
	SignInBackoffAfter int
	SignInMaxBackoff   time.Duration
	// SignInMaxFailures is the hard cap on consecutive failures per account
	// (NIST SP 800-63B allows at most 100). At the cap, sign-in is refused
	// until the owner resets the password: not a permanent lockout, since
	// recovery by email always works.
	SignInMaxFailures int
	// SignUpPerIP bounds sign-ups from one address.
	SignUpPerIP Limit
	// ConfirmPerIP bounds code confirmations from one address (the per-code
	// limit is Config.MaxCodeAttempts).
	ConfirmPerIP Limit
	// ResendPerAccount and ForgotPerAccount bound mail sent to one address;
	// the per-IP limits bound one sender spraying many addresses.
	ResendPerAccount, ResendPerIP Limit
	ForgotPerAccount, ForgotPerIP Limit
	// ResetPerIP bounds password reset attempts from one address.
	ResetPerIP Limit
}

// DefaultLimits are conservative for people and generous enough not to get in
// the way of a household behind one address.
func DefaultLimits() Limits {
	return Limits{
		SignInPerIP:        Limit{Max: 100, Window: 5 * time.Minute},
		SignInBackoffAfter: 5,
		SignInMaxBackoff:   15 * time.Minute,
		SignInMaxFailures:  100,
		SignUpPerIP:        Limit{Max: 20, Window: time.Hour},
		ConfirmPerIP:       Limit{Max: 50, Window: 15 * time.Minute},
		ResendPerAccount:   Limit{Max: 5, Window: time.Hour},
		ResendPerIP:        Limit{Max: 30, Window: time.Hour},
		ForgotPerAccount:   Limit{Max: 5, Window: time.Hour},
		ForgotPerIP:        Limit{Max: 30, Window: time.Hour},
		ResetPerIP:         Limit{Max: 50, Window: 15 * time.Minute},
	}
}

// Throttle key prefixes. Account keys use the normalised email whether or not
// such a user exists, so throttling itself reveals nothing.
const (
	keySignInAccount = "signin:acct:"
	keySignInIP      = "signin:ip:"
	keySignUpIP      = "signup:ip:"
	keyConfirmIP     = "confirm:ip:"
	keyResendAccount = "resend:acct:"
	keyResendIP      = "resend:ip:"
	keyForgotAccount = "forgot:acct:"
	keyForgotIP      = "forgot:ip:"
	keyResetIP       = "reset:ip:"
)

// limit counts one event against l under key and refuses it when over.
func (s *Service) limit(ctx context.Context, key string, l Limit) error {
	if l.Max <= 0 || key == "" {
		return nil
	}
	now := s.now()
	count, resetAt, err := s.store.HitWindow(ctx, key, now, l.Window)
	if err != nil {
		// Not the key itself: it holds an email or an address.
		return fmt.Errorf("identity: throttle: %w", err)
	}
	if count > l.Max {
		return &ThrottledError{RetryAfter: retryAfter(resetAt.Sub(now))}
	}
	return nil
}

// limitIP applies l to the caller's address, when known.
func (s *Service) limitIP(ctx context.Context, prefix string, meta RequestMeta, l Limit) error {
	if meta.IP == "" {
		return nil
	}
	return s.limit(ctx, prefix+meta.IP, l)
}

// beginSignIn reserves one sign-in attempt for an account, or refuses it.
// The returned state counts this attempt as a failure already.
func (s *Service) beginSignIn(ctx context.Context, email string) (Attempts, error) {
	now := s.now()
	a, allowed, err := s.store.BeginAttempt(ctx, keySignInAccount+email, now, s.cfg.Limits.SignInMaxFailures)
	if err != nil {
		return a, fmt.Errorf("identity: begin sign-in attempt: %w", err)
	}
	if allowed {
		return a, nil
	}
	if a.LockedUntil.After(now) {
		return a, &ThrottledError{RetryAfter: retryAfter(a.LockedUntil.Sub(now))}
	}
	// At the hard cap: only a password reset (which clears the count) helps.
	// Retry-After still says something sensible to a polite client.
	return a, &ThrottledError{RetryAfter: s.cfg.Limits.SignInMaxBackoff}
}

// failSignIn records that the reserved attempt failed and starts the backoff
// when the account has failed too often in a row.
func (s *Service) failSignIn(ctx context.Context, email string, failures int) {
	l := s.cfg.Limits
	if l.SignInBackoffAfter <= 0 || failures < l.SignInBackoffAfter {
		return
	}
	wait := backoff(failures-l.SignInBackoffAfter, l.SignInMaxBackoff)
	if err := s.store.LockAttempts(ctx, keySignInAccount+email, s.now().Add(wait)); err != nil {
		s.log.ErrorContext(ctx, "sign-in backoff not recorded", "err", err)
	}
}

// backoff is 2^n seconds, capped.
func backoff(n int, ceiling time.Duration) time.Duration {
	if n > 30 {
		return ceiling
	}
	return min(time.Duration(1<<n)*time.Second, ceiling)
}

// retryAfter rounds a wait up to whole seconds, at least one, as Retry-After
// carries seconds.
func retryAfter(d time.Duration) time.Duration {
	return max(time.Second, (d + time.Second - 1).Truncate(time.Second))
}
