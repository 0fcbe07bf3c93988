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

// codeRow is a row of codes: at most one live code per user and purpose,
// which the primary key enforces.
type codeRow struct {
	Sub       string    `gorm:"column:sub;primaryKey"`
	Purpose   string    `gorm:"column:purpose;primaryKey"`
	CodeHash  []byte    `gorm:"column:code_hash"`
	LinkHash  []byte    `gorm:"column:link_hash"`
	Attempts  int       `gorm:"column:attempts"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
	// CreatedAt is filled in by gorm on insert when it is zero.
	CreatedAt time.Time `gorm:"column:created_at"`
}

// TableName names the table explicitly, so it never depends on gorm's naming
// strategy.
func (codeRow) TableName() string { return "codes" }

func newCodeRow(c identity.Code) codeRow {
	return codeRow{
		Sub:       c.Sub,
		Purpose:   string(c.Purpose),
		CodeHash:  c.CodeHash,
		LinkHash:  c.LinkHash,
		Attempts:  c.Attempts,
		ExpiresAt: database.Time(c.ExpiresAt),
		CreatedAt: database.Time(c.CreatedAt),
	}
}

func (r *codeRow) code() *identity.Code {
	return &identity.Code{
		Sub:       r.Sub,
		Purpose:   identity.CodePurpose(r.Purpose),
		CodeHash:  r.CodeHash,
		LinkHash:  r.LinkHash,
		Attempts:  r.Attempts,
		ExpiresAt: r.ExpiresAt.UTC(),
		CreatedAt: r.CreatedAt.UTC(),
	}
}

// PutCode stores c, replacing the user's code for the same purpose, attempts
// and all: a new code starts with a clean slate. An unknown user returns
// identity.ErrUserNotFound (and identity.ErrNotFound).
func (s *Store) PutCode(ctx context.Context, c identity.Code) error {
	row := newCodeRow(c)
	// One upsert rather than delete-then-insert, so that two concurrent
	// PutCode calls cannot both insert and collide on the primary key.
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "sub"}, {Name: "purpose"}},
		DoUpdates: clause.AssignmentColumns([]string{"code_hash", "link_hash", "attempts", "expires_at", "created_at"}),
	}).Create(&row).Error
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		err = errUserNotFound
	}
	if err != nil {
		return fmt.Errorf("gormstore: put %s code: %w", c.Purpose, err)
	}
	return nil
}

// CodeFor returns the user's code for purpose, expired or not: expiry is the
// domain's decision.
func (s *Store) CodeFor(ctx context.Context, sub string, purpose identity.CodePurpose) (*identity.Code, error) {
	var row codeRow
	err := s.db.WithContext(ctx).Where("sub = ? AND purpose = ?", sub, string(purpose)).Take(&row).Error
	if err != nil {
		return nil, fmt.Errorf("gormstore: %s code: %w", purpose, notFound(err))
	}
	return row.code(), nil
}

// CodeByLink finds the code for purpose whose link token hashes to linkHash.
func (s *Store) CodeByLink(ctx context.Context, purpose identity.CodePurpose, linkHash []byte) (*identity.Code, error) {
	var row codeRow
	err := s.db.WithContext(ctx).Where("purpose = ? AND link_hash = ?", string(purpose), linkHash).Take(&row).Error
	if err != nil {
		return nil, fmt.Errorf("gormstore: %s code by link: %w", purpose, notFound(err))
	}
	return row.code(), nil
}

// AddCodeAttempt counts one wrong try and returns the new count. The
// increment happens in the database, in one statement, so concurrent wrong
// tries are all counted: reading the count, adding one in Go and writing it
// back would lose some.
func (s *Store) AddCodeAttempt(ctx context.Context, sub string, purpose identity.CodePurpose) (int, error) {
	var attempts int
	res := s.db.WithContext(ctx).Raw(
		`UPDATE codes SET attempts = attempts + 1 WHERE sub = ? AND purpose = ? RETURNING attempts`,
		sub, string(purpose),
	).Scan(&attempts)
	if res.Error != nil {
		return 0, fmt.Errorf("gormstore: count %s code attempt: %w", purpose, res.Error)
	}
	if res.RowsAffected == 0 {
		return 0, fmt.Errorf("gormstore: count %s code attempt: %w", purpose, identity.ErrNotFound)
	}
	return attempts, nil
}

// DeleteCode removes the user's code for purpose. It returns
// identity.ErrNotFound when there was none: the domain relies on that to
// make a code single-use when two requests race to consume it (the second
// DELETE waits for the first transaction, then finds nothing).
func (s *Store) DeleteCode(ctx context.Context, sub string, purpose identity.CodePurpose) error {
	res := s.db.WithContext(ctx).Where("sub = ? AND purpose = ?", sub, string(purpose)).Delete(&codeRow{})
	if res.Error != nil {
		return fmt.Errorf("gormstore: delete %s code: %w", purpose, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: delete %s code: %w", purpose, identity.ErrNotFound)
	}
	return nil
}
