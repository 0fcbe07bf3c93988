package gormstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/internal/database"
)

// sessionRow is a row of sessions.
type sessionRow struct {
	ID         string     `gorm:"column:id;primaryKey"`
	Sub        string     `gorm:"column:sub"`
	AuthTime   time.Time  `gorm:"column:auth_time"`
	CreatedAt  time.Time  `gorm:"column:created_at"` // filled in by gorm on insert when zero
	LastUsedAt time.Time  `gorm:"column:last_used_at"`
	ExpiresAt  time.Time  `gorm:"column:expires_at"`
	RevokedAt  *time.Time `gorm:"column:revoked_at"`
	IP         string     `gorm:"column:ip"`
	UserAgent  string     `gorm:"column:user_agent"`
}

// TableName names the table explicitly, so it never depends on gorm's naming
// strategy.
func (sessionRow) TableName() string { return "sessions" }

func newSessionRow(s identity.Session) sessionRow {
	return sessionRow{
		ID:         s.ID,
		Sub:        s.Sub,
		AuthTime:   database.Time(s.AuthTime),
		CreatedAt:  database.Time(s.CreatedAt),
		LastUsedAt: database.Time(s.LastUsedAt),
		ExpiresAt:  database.Time(s.ExpiresAt),
		RevokedAt:  dbTimePtr(s.RevokedAt),
		IP:         s.IP,
		UserAgent:  s.UserAgent,
	}
}

func (r *sessionRow) session() identity.Session {
	return identity.Session{
		ID:         r.ID,
		Sub:        r.Sub,
		AuthTime:   r.AuthTime.UTC(),
		CreatedAt:  r.CreatedAt.UTC(),
		LastUsedAt: r.LastUsedAt.UTC(),
		ExpiresAt:  r.ExpiresAt.UTC(),
		RevokedAt:  utcPtr(r.RevokedAt),
		IP:         r.IP,
		UserAgent:  r.UserAgent,
	}
}

// CreateSession inserts sess. An unknown user returns identity.ErrUserNotFound
// (and identity.ErrNotFound).
func (s *Store) CreateSession(ctx context.Context, sess identity.Session) error {
	row := newSessionRow(sess)
	err := s.db.WithContext(ctx).Create(&row).Error
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		err = errUserNotFound
	}
	if err != nil {
		return fmt.Errorf("gormstore: create session: %w", err)
	}
	return nil
}

// SessionByID returns a session, active or not.
func (s *Store) SessionByID(ctx context.Context, id string) (*identity.Session, error) {
	var row sessionRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, fmt.Errorf("gormstore: session by id: %w", notFound(err))
	}
	sess := row.session()
	return &sess, nil
}

// TouchSession records use of a session by a refresh: when, and from where.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time, ip, userAgent string) error {
	res := s.db.WithContext(ctx).Model(&sessionRow{}).Where("id = ?", id).Updates(map[string]any{
		"last_used_at": database.Time(at),
		"ip":           ip,
		"user_agent":   userAgent,
	})
	if res.Error != nil {
		return fmt.Errorf("gormstore: touch session: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: touch session: %w", identity.ErrNotFound)
	}
	return nil
}

// RevokeSession ends one session at `at`. A session that is already revoked
// keeps its first revocation time; an unknown one returns
// identity.ErrNotFound.
func (s *Store) RevokeSession(ctx context.Context, id string, at time.Time) error {
	if err := setOnce(s.db.WithContext(ctx), &sessionRow{}, id, "revoked_at", at); err != nil {
		return fmt.Errorf("gormstore: revoke session: %w", err)
	}
	return nil
}

// RevokeSessions ends every session of sub that is active at `at`, except
// exceptID (which may be empty), and returns how many it ended. Sessions
// already revoked or expired are left alone and not counted.
func (s *Store) RevokeSessions(ctx context.Context, sub string, at time.Time, exceptID string) (int, error) {
	at = database.Time(at)
	q := s.db.WithContext(ctx).Model(&sessionRow{}).
		Where("sub = ? AND revoked_at IS NULL AND expires_at > ?", sub, at)
	if exceptID != "" {
		q = q.Where("id <> ?", exceptID)
	}
	res := q.Update("revoked_at", at)
	if res.Error != nil {
		return 0, fmt.Errorf("gormstore: revoke sessions: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

// ActiveSessions lists sub's sessions that are active at now, newest (most
// recently created) first.
func (s *Store) ActiveSessions(ctx context.Context, sub string, now time.Time) ([]identity.Session, error) {
	var rows []sessionRow
	err := s.db.WithContext(ctx).
		Where("sub = ? AND revoked_at IS NULL AND expires_at > ?", sub, database.Time(now)).
		// id breaks ties, so the order is the same on every call.
		Order("created_at DESC, id DESC").
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("gormstore: active sessions: %w", err)
	}
	sessions := make([]identity.Session, len(rows))
	for i := range rows {
		sessions[i] = rows[i].session()
	}
	return sessions, nil
}

// refreshTokenRow is a row of refresh_tokens: one member of a session's
// token family, known only by its hash.
type refreshTokenRow struct {
	Hash            []byte     `gorm:"column:hash;primaryKey"`
	SessionID       string     `gorm:"column:session_id"`
	CreatedAt       time.Time  `gorm:"column:created_at"` // filled in by gorm on insert when zero
	RotatedAt       *time.Time `gorm:"column:rotated_at"`
	SuccessorSealed []byte     `gorm:"column:successor_sealed"`
}

// TableName names the table explicitly, so it never depends on gorm's naming
// strategy.
func (refreshTokenRow) TableName() string { return "refresh_tokens" }

func (r *refreshTokenRow) refreshToken() *identity.RefreshToken {
	return &identity.RefreshToken{
		Hash:            r.Hash,
		SessionID:       r.SessionID,
		CreatedAt:       r.CreatedAt.UTC(),
		RotatedAt:       utcPtr(r.RotatedAt),
		SuccessorSealed: r.SuccessorSealed,
	}
}

// CreateRefreshToken inserts t. An unknown session returns
// identity.ErrNotFound.
func (s *Store) CreateRefreshToken(ctx context.Context, t identity.RefreshToken) error {
	row := refreshTokenRow{
		Hash:            t.Hash,
		SessionID:       t.SessionID,
		CreatedAt:       database.Time(t.CreatedAt),
		RotatedAt:       dbTimePtr(t.RotatedAt),
		SuccessorSealed: t.SuccessorSealed,
	}
	err := s.db.WithContext(ctx).Create(&row).Error
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		err = identity.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("gormstore: create refresh token: %w", err)
	}
	return nil
}

// LockRefreshToken finds a refresh token by hash and, inside Tx, locks it
// until the transaction ends, so that two concurrent refreshes of the same
// token run one after the other and the second sees the first's rotation.
//
// On PostgreSQL that is SELECT ... FOR UPDATE: a second locker waits for the
// first transaction to end and then reads the row as committed. SQLite has no
// row locks, and gorm's SQLite dialect leaves the clause out; there the
// transaction itself is the lock, because internal/database starts every
// SQLite transaction with BEGIN IMMEDIATE, which takes the database's single
// write lock at once. Outside a transaction the lock ends with the statement,
// so the call is then a plain lookup.
func (s *Store) LockRefreshToken(ctx context.Context, hash []byte) (*identity.RefreshToken, error) {
	var row refreshTokenRow
	err := s.db.WithContext(ctx).
		Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
		Where("hash = ?", hash).
		Take(&row).Error
	if err != nil {
		return nil, fmt.Errorf("gormstore: lock refresh token: %w", notFound(err))
	}
	return row.refreshToken(), nil
}

// MarkRefreshTokenRotated records that the token was exchanged at `at` for a
// successor, kept sealed for replays within the grace window.
func (s *Store) MarkRefreshTokenRotated(ctx context.Context, hash []byte, at time.Time, successorSealed []byte) error {
	res := s.db.WithContext(ctx).Model(&refreshTokenRow{}).Where("hash = ?", hash).Updates(map[string]any{
		"rotated_at":       database.Time(at),
		"successor_sealed": successorSealed,
	})
	if res.Error != nil {
		return fmt.Errorf("gormstore: mark refresh token rotated: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: mark refresh token rotated: %w", identity.ErrNotFound)
	}
	return nil
}
