package gormstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/internal/database"
)

// The throttle counters live in the database so that every replica counts
// against the same numbers. Each operation that changes a count is one
// INSERT ... ON CONFLICT DO UPDATE ... RETURNING statement (an "upsert",
// supported by PostgreSQL and by SQLite since 3.35): the database creates the
// row or changes it and reports the result in one atomic step, so parallel
// callers are each counted exactly once, inside a transaction or not. The
// obvious alternative, read the row, decide in Go, write it back, loses
// counts under concurrency unless every caller takes a lock first.
//
// Rows are never deleted here except by ClearAttempts; an expired window is
// simply restarted by the next hit. updated_at (attempts) and reset_at
// (windows) let a periodic job purge rows nobody has used in a while.
//
// Errors leave the key out: it may hold an email or IP address, and the
// caller, who knows the key, decides what to log.

// throttleWindowRow is a row of throttle_windows: a fixed-window counter.
type throttleWindowRow struct {
	Key     string    `gorm:"column:key;primaryKey"`
	Count   int       `gorm:"column:count"`
	ResetAt time.Time `gorm:"column:reset_at"`
}

// TableName names the table explicitly, so it never depends on gorm's naming
// strategy.
func (throttleWindowRow) TableName() string { return "throttle_windows" }

// hitWindowSQL counts a hit: a new key, or one whose window has ended, starts
// a window at 1; otherwise the count goes up by one. In DO UPDATE,
// throttle_windows.* is the row as it was and excluded.* the row the INSERT
// proposed; every CASE sees the old values, so both columns agree on whether
// the window restarted.
const hitWindowSQL = `
INSERT INTO throttle_windows (key, count, reset_at) VALUES (@key, 1, @reset_at)
ON CONFLICT (key) DO UPDATE SET
	count = CASE WHEN throttle_windows.reset_at <= @now
		THEN 1 ELSE throttle_windows.count + 1 END,
	reset_at = CASE WHEN throttle_windows.reset_at <= @now
		THEN excluded.reset_at ELSE throttle_windows.reset_at END
RETURNING count, reset_at`

// HitWindow counts one event under key in a fixed window of length window
// that starts at the key's first hit (or first hit after the last window
// ended), and returns the count so far and when the window resets.
func (s *Store) HitWindow(ctx context.Context, key string, now time.Time, window time.Duration) (count int, resetAt time.Time, err error) {
	if window <= 0 {
		return 0, time.Time{}, fmt.Errorf("gormstore: hit window: window must be positive, got %v", window)
	}
	now = database.Time(now)
	var row throttleWindowRow
	err = s.db.WithContext(ctx).Raw(hitWindowSQL, map[string]any{
		"key":      key,
		"now":      now,
		"reset_at": database.Time(now.Add(window)),
	}).Scan(&row).Error
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("gormstore: hit window: %w", err)
	}
	return row.Count, row.ResetAt.UTC(), nil
}

// throttleAttemptRow is a row of throttle_attempts: consecutive failures
// under one key, and when the next attempt is allowed.
type throttleAttemptRow struct {
	Key         string     `gorm:"column:key;primaryKey"`
	Failures    int        `gorm:"column:failures"`
	LockedUntil *time.Time `gorm:"column:locked_until"`
	// UpdatedAt is bookkeeping for a purge job, by the server's clock.
	UpdatedAt time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName names the table explicitly, so it never depends on gorm's naming
// strategy.
func (throttleAttemptRow) TableName() string { return "throttle_attempts" }

func (r *throttleAttemptRow) attempts() identity.Attempts {
	return identity.Attempts{Failures: r.Failures, LockedUntil: zeroIfNull(r.LockedUntil)}
}

// beginAttemptSQL reserves an attempt: a new key starts at one failure; an
// existing key gains one, but only if it is not locked at @now and is below
// the cap. When the DO UPDATE's WHERE is false the row is left as it is and
// RETURNING returns nothing, which is how the caller learns "not allowed".
const beginAttemptSQL = `
INSERT INTO throttle_attempts (key, failures, locked_until, updated_at) VALUES (@key, 1, NULL, @updated_at)
ON CONFLICT (key) DO UPDATE SET
	failures = throttle_attempts.failures + 1,
	updated_at = excluded.updated_at
WHERE (throttle_attempts.locked_until IS NULL OR throttle_attempts.locked_until <= @now)
	AND throttle_attempts.failures < @max_failures
RETURNING failures, locked_until`

// BeginAttempt reserves one attempt under key by counting it as a failure in
// advance, unless the key is locked at now or already holds maxFailures
// failures; then allowed is false and nothing changes. It returns the state
// after the call.
//
// The decision and the count are one statement, so 150 parallel callers
// against a cap of 100 get exactly 100 "allowed". When refused, the state
// returned is read by a second statement; a concurrent ClearAttempts or
// LockAttempts may show through, which only affects the Retry-After the
// caller computes, never the decision.
//
// maxFailures must be at least 1: a cap of 0 would refuse every attempt
// forever, which is a misconfiguration to report rather than obey.
func (s *Store) BeginAttempt(ctx context.Context, key string, now time.Time, maxFailures int) (a identity.Attempts, allowed bool, err error) {
	if maxFailures < 1 {
		return identity.Attempts{}, false, fmt.Errorf("gormstore: begin attempt: maxFailures must be at least 1, got %d", maxFailures)
	}
	db := s.db.WithContext(ctx)
	var reserved []throttleAttemptRow
	err = db.Raw(beginAttemptSQL, map[string]any{
		"key":          key,
		"now":          database.Time(now),
		"max_failures": maxFailures,
		"updated_at":   s.now(),
	}).Scan(&reserved).Error
	if err != nil {
		return identity.Attempts{}, false, fmt.Errorf("gormstore: begin attempt: %w", err)
	}
	if len(reserved) == 1 {
		return reserved[0].attempts(), true, nil
	}

	// Refused: report the state that refused it. Find, not Take: the row
	// may have been cleared in the meantime, which reads as zero failures.
	var rows []throttleAttemptRow
	if err := db.Where("key = ?", key).Limit(1).Find(&rows).Error; err != nil {
		return identity.Attempts{}, false, fmt.Errorf("gormstore: begin attempt: %w", err)
	}
	if len(rows) == 1 {
		a = rows[0].attempts()
	}
	return a, false, nil
}

// LockAttempts sets when the next attempt under key is allowed, keeping its
// failure count.
func (s *Store) LockAttempts(ctx context.Context, key string, until time.Time) error {
	row := throttleAttemptRow{Key: key, LockedUntil: nullTime(until), UpdatedAt: s.now()}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"locked_until", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("gormstore: lock attempts: %w", err)
	}
	return nil
}

// ReleaseAttempt gives back one attempt reserved by BeginAttempt that never
// ran. The count never goes below zero.
func (s *Store) ReleaseAttempt(ctx context.Context, key string) error {
	err := s.db.WithContext(ctx).Model(&throttleAttemptRow{}).
		Where("key = ? AND failures > 0", key).
		Update("failures", gorm.Expr("failures - 1")).Error
	if err != nil {
		return fmt.Errorf("gormstore: release attempt: %w", err)
	}
	return nil
}

// ClearAttempts forgets key's failures and lock (after a success). Clearing
// a key with nothing recorded is not an error: that is the usual case.
func (s *Store) ClearAttempts(ctx context.Context, key string) error {
	if err := s.db.WithContext(ctx).Where("key = ?", key).Delete(&throttleAttemptRow{}).Error; err != nil {
		return fmt.Errorf("gormstore: clear attempts: %w", err)
	}
	return nil
}
