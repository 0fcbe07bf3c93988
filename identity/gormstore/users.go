package gormstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/internal/database"
)

// userRow is a row of users. Rows are this package's own types, never the
// domain's: the domain's types stay free of gorm tags, and the mapping to
// columns is spelled out here (newUserRow, user).
type userRow struct {
	Sub                 string `gorm:"column:sub;primaryKey"`
	Email               string `gorm:"column:email"`
	EmailVerified       bool   `gorm:"column:email_verified"`
	PendingEmail        string `gorm:"column:pending_email"`
	PhoneNumber         string `gorm:"column:phone_number"`
	PhoneNumberVerified bool   `gorm:"column:phone_number_verified"`
	PasswordHash        string `gorm:"column:password_hash"`
	Status              string `gorm:"column:status"`
	// Attributes and Groups are JSON text; gorm's json serializer encodes
	// them on the way in and decodes them on the way out.
	Attributes        map[string]string `gorm:"column:attributes;serializer:json"`
	Groups            []string          `gorm:"column:groups;serializer:json"`
	PasswordChangedAt *time.Time        `gorm:"column:password_changed_at"`
	// CreatedAt is filled in by gorm on insert when it is zero.
	CreatedAt time.Time `gorm:"column:created_at"`
	// UpdatedAt is whatever the domain says: gorm would otherwise overwrite
	// it with its own clock on every update, ignoring the domain's (possibly
	// fake) one.
	UpdatedAt time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName names the table explicitly, so it never depends on gorm's naming
// strategy.
func (userRow) TableName() string { return "users" }

func newUserRow(u *identity.User) userRow {
	// The JSON columns are never NULL: an absent map or list is stored as {}
	// or [] (a nil one would be encoded as null).
	attributes := u.Attributes
	if attributes == nil {
		attributes = map[string]string{}
	}
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	return userRow{
		Sub:                 u.Sub,
		Email:               u.Email,
		EmailVerified:       u.EmailVerified,
		PendingEmail:        u.PendingEmail,
		PhoneNumber:         u.PhoneNumber,
		PhoneNumberVerified: u.PhoneNumberVerified,
		PasswordHash:        u.PasswordHash,
		Status:              string(u.Status),
		Attributes:          attributes,
		Groups:              groups,
		PasswordChangedAt:   nullTime(u.PasswordChangedAt),
		CreatedAt:           database.Time(u.CreatedAt),
		UpdatedAt:           database.Time(u.UpdatedAt),
	}
}

func (r *userRow) user() *identity.User {
	u := &identity.User{
		Sub:                 r.Sub,
		Email:               r.Email,
		EmailVerified:       r.EmailVerified,
		PendingEmail:        r.PendingEmail,
		PhoneNumber:         r.PhoneNumber,
		PhoneNumberVerified: r.PhoneNumberVerified,
		PasswordHash:        r.PasswordHash,
		Status:              identity.Status(r.Status),
		PasswordChangedAt:   zeroIfNull(r.PasswordChangedAt),
		CreatedAt:           r.CreatedAt.UTC(),
		UpdatedAt:           r.UpdatedAt.UTC(),
	}
	// Empty reads back as nil, the zero value, whatever was written.
	if len(r.Attributes) > 0 {
		u.Attributes = r.Attributes
	}
	if len(r.Groups) > 0 {
		u.Groups = r.Groups
	}
	return u
}

// CreateUser inserts u; a duplicate email returns identity.ErrEmailTaken. On
// success u.CreatedAt holds what was stored: the current time if it was zero,
// and at the database's precision in any case.
func (s *Store) CreateUser(ctx context.Context, u *identity.User) error {
	row := newUserRow(u)
	if err := s.quiet(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("gormstore: create user: %w", emailTaken(err))
	}
	u.CreatedAt = row.CreatedAt
	return nil
}

// quiet is the database without gorm's statement logging, for writes whose
// failure is an expected answer: a duplicate email is how sign-up learns an
// address is taken, and it must not fill the log with SQL at error level.
// The error itself still reaches the caller.
func (s *Store) quiet(ctx context.Context) *gorm.DB {
	return s.db.Session(&gorm.Session{Context: ctx, Logger: s.db.Logger.LogMode(logger.Silent)})
}

// UserByEmail finds a user by normalised email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*identity.User, error) {
	u, err := s.findUser(ctx, "email = ?", email)
	if err != nil {
		return nil, fmt.Errorf("gormstore: user by email: %w", err)
	}
	return u, nil
}

// UserBySub finds a user by sub.
func (s *Store) UserBySub(ctx context.Context, sub string) (*identity.User, error) {
	u, err := s.findUser(ctx, "sub = ?", sub)
	if err != nil {
		return nil, fmt.Errorf("gormstore: user by sub: %w", err)
	}
	return u, nil
}

// findUser returns the user matching a unique condition.
func (s *Store) findUser(ctx context.Context, query string, arg any) (*identity.User, error) {
	var row userRow
	// Take, not First: First adds ORDER BY the primary key, which a lookup
	// by a unique column does not need.
	err := s.db.WithContext(ctx).Where(query, arg).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errUserNotFound
	}
	if err != nil {
		return nil, err
	}
	return row.user(), nil
}

// UpdateUser writes every field of u except Sub and CreatedAt, which never
// change, to the user with u's Sub. A duplicate email returns
// identity.ErrEmailTaken; an unknown Sub, identity.ErrUserNotFound (and
// identity.ErrNotFound).
func (s *Store) UpdateUser(ctx context.Context, u *identity.User) error {
	row := newUserRow(u)
	// Select("*") makes gorm write every column, zero values included (by
	// default Updates skips false, "" and nil, so a flag could never be
	// cleared); Omit then protects the immutable ones. The WHERE comes from
	// the primary key in row.
	res := s.quiet(ctx).Model(&row).Select("*").Omit("sub", "created_at").Updates(&row)
	if res.Error != nil {
		return fmt.Errorf("gormstore: update user: %w", emailTaken(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: update user: %w", errUserNotFound)
	}
	return nil
}

// emailTaken maps a unique violation on users to identity.ErrEmailTaken.
// Email is the only unique column besides sub, a random UUID, so a duplicate
// key on users is a duplicate email.
func emailTaken(err error) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return identity.ErrEmailTaken
	}
	return err
}
