package gormstore

import (
	"context"
	"fmt"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/internal/database"
)

// purgeStatements are Purge's steps, in order. Each is one statement, so a
// row is either gone or untouched. Audit events, the one large table cleaned
// here, are found through the index of migration 2. Sessions are scanned:
// ended ones leave within the hour, so the table holds about the live ones,
// and an index on their end would slow every refresh (migration 2 says why).
// Their refresh tokens are found through session_id's index. Codes (at most
// one per user and purpose) and the throttle tables (one row per recently
// active key) are small enough to scan.
//
// Refresh tokens go before their sessions, so that they can be counted: the
// ON DELETE CASCADE from sessions would remove them too, silently (it still
// covers a token created between the two statements).
//
// The steps are independent and each is correct on its own, so they do not
// share a transaction: a purge that fails halfway has still done useful
// work, and a long purge never holds locks that sign-ins wait for.
var purgeStatements = []struct {
	name  string
	sql   string
	count func(r *identity.PurgeReport) *int64
}{
	{"codes", `DELETE FROM codes WHERE expires_at <= @now`,
		func(r *identity.PurgeReport) *int64 { return &r.Codes }},
	{"refresh tokens", `DELETE FROM refresh_tokens WHERE session_id IN (
		SELECT id FROM sessions WHERE expires_at <= @now OR revoked_at <= @now)`,
		func(r *identity.PurgeReport) *int64 { return &r.RefreshTokens }},
	{"sessions", `DELETE FROM sessions WHERE expires_at <= @now OR revoked_at <= @now`,
		func(r *identity.PurgeReport) *int64 { return &r.Sessions }},
	{"throttle windows", `DELETE FROM throttle_windows WHERE reset_at <= @now`,
		func(r *identity.PurgeReport) *int64 { return &r.ThrottleWindows }},
	{"throttle attempts", `DELETE FROM throttle_attempts
		WHERE updated_at < @attempts_idle_before AND failures < @max_failures
			AND (locked_until IS NULL OR locked_until <= @now)`,
		func(r *identity.PurgeReport) *int64 { return &r.ThrottleAttempts }},
	{"audit events", `DELETE FROM audit_events WHERE at < @events_before`,
		func(r *identity.PurgeReport) *int64 { return &r.Events }},
}

// Purge deletes what c says the pool no longer needs and reports how many
// rows each step removed. On error the report holds the steps that
// completed.
func (s *Store) Purge(ctx context.Context, c identity.PurgeCutoffs) (identity.PurgeReport, error) {
	var report identity.PurgeReport
	if c.MaxFailures < 1 {
		return report, fmt.Errorf("gormstore: purge: MaxFailures must be at least 1, got %d", c.MaxFailures)
	}
	params := map[string]any{
		"now":                  database.Time(c.Now),
		"attempts_idle_before": database.Time(c.AttemptsIdleBefore),
		"max_failures":         c.MaxFailures,
		"events_before":        database.Time(c.EventsBefore),
	}
	db := s.db.WithContext(ctx)
	for _, step := range purgeStatements {
		res := db.Exec(step.sql, params)
		if res.Error != nil {
			return report, fmt.Errorf("gormstore: purge %s: %w", step.name, res.Error)
		}
		*step.count(&report) = res.RowsAffected
	}
	return report, nil
}
