package identity

import (
	"context"
	"fmt"
	"time"
)

// Retention says how long the pool keeps rows that no flow needs for its
// answers. Everything else that stops being useful goes as soon as it does:
// see Purge.
type Retention struct {
	// Events is how long the audit trail is kept (default 90 days). Users
	// see their recent activity from it; operators investigate incidents
	// with it, so it should cover at least the time it takes to notice one.
	Events time.Duration
	// IdleThrottles is how long an account's count of consecutive sign-in
	// failures is kept after its last attempt (default 30 days). Accounts at
	// the hard cap (Limits.SignInMaxFailures) are never forgotten: they
	// wait for the owner's password reset, as the cap promises.
	IdleThrottles time.Duration
}

// DefaultRetention is what Config.Retention's zero fields become.
func DefaultRetention() Retention {
	return Retention{Events: 90 * 24 * time.Hour, IdleThrottles: 30 * 24 * time.Hour}
}

// PurgeCutoffs tells Store.Purge what has stopped being needed. Each field is
// a point in time; rows older than it (by the column named) go.
type PurgeCutoffs struct {
	// Now: codes whose expires_at has passed (an expired code answers
	// exactly like a missing one), throttle windows whose reset_at has
	// passed (the next hit starts a new window anyway), and sessions that
	// expired or were revoked by Now, with every refresh token of their
	// family (a refresh token of an ended session is refused whether its
	// row exists or not).
	Now time.Time
	// AttemptsIdleBefore: failure counts not touched since then, unless
	// they are locked at Now or have reached MaxFailures.
	AttemptsIdleBefore time.Time
	MaxFailures        int
	// EventsBefore: audit events recorded before then.
	EventsBefore time.Time
}

// PurgeReport counts the rows a purge removed.
type PurgeReport struct {
	Codes            int64 `json:"codes"`
	Sessions         int64 `json:"sessions"`
	RefreshTokens    int64 `json:"refresh_tokens"`
	ThrottleWindows  int64 `json:"throttle_windows"`
	ThrottleAttempts int64 `json:"throttle_attempts"`
	Events           int64 `json:"events"`
}

// Total is the number of rows the purge touched.
func (r PurgeReport) Total() int64 {
	return r.Codes + r.Sessions + r.RefreshTokens + r.ThrottleWindows + r.ThrottleAttempts + r.Events
}

// Purge removes what the pool no longer needs: dead codes, ended sessions
// and their refresh tokens, spent throttle counters and audit events past
// Config.Retention. Without it those tables only ever grow: every refresh
// adds a row, and every attempt on any address (registered or not) leaves
// throttle rows behind.
//
// The sealed successor kept with a rotated refresh token stays until its
// session goes. It is useless without the token it was sealed under, which
// is stored only as a hash; erasing it earlier would need an index that
// costs every refresh (see gormstore's migration 2).
//
// Purge is safe to run at any time, from any number of replicas at once: it
// deletes only rows that no flow would accept, so it never changes an answer
// the pool gives. `pinhole serve` runs it periodically; `pinhole purge`
// runs it once.
func (s *Service) Purge(ctx context.Context) (PurgeReport, error) {
	now := s.now()
	report, err := s.store.Purge(ctx, PurgeCutoffs{
		Now:                now,
		AttemptsIdleBefore: now.Add(-s.cfg.Retention.IdleThrottles),
		MaxFailures:        s.cfg.Limits.SignInMaxFailures,
		EventsBefore:       now.Add(-s.cfg.Retention.Events),
	})
	if err != nil {
		return report, fmt.Errorf("identity: purge: %w", err)
	}
	return report, nil
}
