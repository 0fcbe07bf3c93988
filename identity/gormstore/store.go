package gormstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/internal/database"
)

// Component is the name the user pool's migrations are recorded under in
// schema_migrations.
const Component = "identity"

// Store is the user pool's persistence on gorm. Create it with New; it is
// safe for concurrent use.
type Store struct {
	// db is the connection pool, or, in a Store handed to a Tx function, the
	// transaction. Every method goes through it, which is all it takes for
	// the same methods to work inside and outside transactions.
	db *gorm.DB
}

var _ identity.Store = (*Store)(nil)

// New returns a Store on db. The schema must be up to date: call Migrate
// first.
func New(db *database.DB) *Store {
	return &Store{db: db.DB}
}

// Migrate brings the user pool's tables up to date; it is
// database.Migrate(ctx, db, Component, Migrations) for callers that do not
// need to know how many steps ran.
func Migrate(ctx context.Context, db *database.DB) error {
	if _, err := database.Migrate(ctx, db, Component, Migrations); err != nil {
		return fmt.Errorf("gormstore: migrate: %w", err)
	}
	return nil
}

// Tx runs fn with a Store bound to one transaction; fn's writes commit
// together when it returns nil and are rolled back when it returns an error,
// which Tx then returns unchanged.
//
// Called on a Store that is already bound to a transaction, Tx nests: gorm
// wraps fn in a savepoint, so an error from the inner fn undoes the inner
// writes only, and the outer fn may handle it and carry on. That keeps the
// contract ("none of fn's writes when fn fails") true at every depth. It
// also matters on PostgreSQL, where any failed statement (a duplicate email,
// say) aborts the whole transaction unless it ran under a savepoint.
func (s *Store) Tx(ctx context.Context, fn func(tx identity.Store) error) error {
	var fnErr error
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fnErr = fn(&Store{db: tx})
		return fnErr
	})
	switch {
	case fnErr != nil:
		// The caller's own error, possibly a domain error it will look for
		// with errors.Is: not ours to reword.
		return fnErr
	case err != nil:
		// BEGIN, SAVEPOINT or COMMIT failed.
		return fmt.Errorf("gormstore: transaction: %w", err)
	}
	return nil
}

// now is the server's clock as the database layer reads it (UTC,
// microseconds). The domain passes the times that matter; this one fills in
// a zero event time and stamps throttle rows for housekeeping.
func (s *Store) now() time.Time {
	return s.db.NowFunc() // already database.Time: UTC, whole microseconds
}

// setOnce sets a time column of the row of model with this id to at, unless
// it is already set: the first time counts (a key retired twice stays
// retired from the first time, a session revoked twice likewise). It returns
// identity.ErrNotFound when there is no such row. The update is a single
// conditional statement, so concurrent callers cannot both set it.
func setOnce(db *gorm.DB, model any, id, column string, at time.Time) error {
	res := db.Model(model).Where("id = ? AND "+column+" IS NULL", id).Update(column, database.Time(at))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected > 0 {
		return nil
	}
	// Nothing changed: set already (fine) or no such row.
	var n int64
	if err := db.Model(model).Where("id = ?", id).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return identity.ErrNotFound
	}
	return nil
}

// errUserNotFound is what user lookups return when nothing matches. It is
// both identity.ErrUserNotFound, the specific error, and identity.ErrNotFound,
// which the Store contract promises for every lookup, so callers may test for
// either.
var errUserNotFound = fmt.Errorf("%w (%w)", identity.ErrUserNotFound, identity.ErrNotFound)

// notFound maps gorm's "no row" to identity.ErrNotFound and leaves every
// other error as it is.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return identity.ErrNotFound
	}
	return err
}

// dbTimePtr is database.Time for a time that may be absent (a NULL column).
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := database.Time(*t)
	return &v
}

// nullTime writes a zero time, which the domain uses for "never", as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return dbTimePtr(&t)
}

// utcPtr reads a nullable time back in UTC (PostgreSQL's driver returns
// local time).
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// zeroIfNull reads a nullable time back as the domain's "never", the zero
// time.
func zeroIfNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
