package gormstore_test

import (
	"errors"
	"testing"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

var errBoom = errors.New("boom")

func TestTxCommits(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := newUser(1, "ada@example.com")
		err := s.Tx(ctx, func(tx identity.Store) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			return tx.PutCode(ctx, newCode(u.Sub, "x"))
		})
		if err != nil {
			t.Fatalf("Tx: %v", err)
		}
		if _, err := s.UserBySub(ctx, u.Sub); err != nil {
			t.Errorf("user after commit: %v", err)
		}
		if _, err := s.CodeFor(ctx, u.Sub, identity.PurposeConfirmSignUp); err != nil {
			t.Errorf("code after commit: %v", err)
		}
	})
}

func TestTxRollsBack(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := newUser(1, "ada@example.com")
		err := s.Tx(ctx, func(tx identity.Store) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.PutCode(ctx, newCode(u.Sub, "x")); err != nil {
				return err
			}
			// Both writes are visible inside the transaction...
			if _, err := tx.CodeFor(ctx, u.Sub, identity.PurposeConfirmSignUp); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Fatalf("Tx returned %v, want fn's error unchanged", err)
		}
		// ...and neither survives it.
		_, err = s.UserBySub(ctx, u.Sub)
		wantNotFound(t, "user after rollback", err)
		_, err = s.CodeFor(ctx, u.Sub, identity.PurposeConfirmSignUp)
		wantNotFound(t, "code after rollback", err)
	})
}

// A failing nested Tx undoes only its own writes, and leaves the outer
// transaction usable: on PostgreSQL that needs the savepoint, because a
// failed statement otherwise aborts the whole transaction.
func TestNestedTxRollsBackToSavepoint(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		ada := newUser(1, "ada@example.com")
		bob := newUser(2, "bob@example.com")
		err := s.Tx(ctx, func(tx identity.Store) error {
			if err := tx.CreateUser(ctx, ada); err != nil {
				return err
			}
			inner := tx.Tx(ctx, func(tx identity.Store) error {
				if err := tx.PutCode(ctx, newCode(ada.Sub, "x")); err != nil {
					return err
				}
				// A failing statement, as PostgreSQL sees it.
				return tx.CreateUser(ctx, newUser(3, "ada@example.com"))
			})
			if !errors.Is(inner, identity.ErrEmailTaken) {
				t.Errorf("inner Tx returned %v, want identity.ErrEmailTaken", inner)
			}
			// The outer transaction goes on after handling the error.
			return tx.CreateUser(ctx, bob)
		})
		if err != nil {
			t.Fatalf("outer Tx: %v", err)
		}
		for _, u := range []*identity.User{ada, bob} {
			if _, err := s.UserBySub(ctx, u.Sub); err != nil {
				t.Errorf("%s after commit: %v", u.Email, err)
			}
		}
		_, err = s.CodeFor(ctx, ada.Sub, identity.PurposeConfirmSignUp)
		wantNotFound(t, "code written by the failed inner Tx", err)
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	// forEachDialect has migrated once already.
	forEachDialect(t, func(t *testing.T, db *database.DB, _ *gormstore.Store) {
		ctx := testenv.Context(t)
		applied, err := database.Migrate(ctx, db, gormstore.Component, gormstore.Migrations)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if applied != 0 {
			t.Errorf("second Migrate applied %d migrations, want 0", applied)
		}
		if err := gormstore.Migrate(ctx, db); err != nil {
			t.Errorf("gormstore.Migrate on a migrated database: %v", err)
		}
		version, err := database.Version(ctx, db, gormstore.Component)
		if err != nil {
			t.Fatalf("Version: %v", err)
		}
		if want := len(gormstore.Migrations); version != want {
			t.Errorf("schema version = %d, want %d", version, want)
		}
	})
}

// Deleting a user takes its codes, sessions and refresh tokens with it, and
// leaves the audit trail alone. The Store has no DeleteUser yet, so the test
// deletes with SQL: what it checks is the schema's foreign keys.
func TestDeletingUserCascades(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, db *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := mustCreateUser(t, s, 1, "ada@example.com")
		if err := s.PutCode(ctx, newCode(u.Sub, "x")); err != nil {
			t.Fatalf("PutCode: %v", err)
		}
		mustCreateSession(t, s, newSession("s1", u.Sub, t0))
		if err := s.CreateRefreshToken(ctx, identity.RefreshToken{Hash: hash("r1"), SessionID: "s1", CreatedAt: t0}); err != nil {
			t.Fatalf("CreateRefreshToken: %v", err)
		}
		if err := s.AddEvent(ctx, identity.Event{At: t0, Sub: u.Sub, Kind: identity.EventSignUp, Outcome: identity.OutcomeSuccess}); err != nil {
			t.Fatalf("AddEvent: %v", err)
		}

		if err := db.WithContext(ctx).Exec("DELETE FROM users WHERE sub = ?", u.Sub).Error; err != nil {
			t.Fatalf("delete user: %v", err)
		}

		for table, want := range map[string]int64{"codes": 0, "sessions": 0, "refresh_tokens": 0, "audit_events": 1} {
			var n int64
			if err := db.WithContext(ctx).Table(table).Count(&n).Error; err != nil {
				t.Fatalf("count %s: %v", table, err)
			}
			if n != want {
				t.Errorf("%s has %d rows after the user was deleted, want %d", table, n, want)
			}
		}
	})
}

// Absent attributes and groups are stored as {} and [], never as NULL or the
// JSON null, so that the columns read well in SQL too.
func TestEmptyJSONColumns(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, db *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := mustCreateUser(t, s, 1, "ada@example.com")
		var row struct{ Attributes, Groups string }
		err := db.WithContext(ctx).Raw("SELECT attributes, groups FROM users WHERE sub = ?", u.Sub).Scan(&row).Error
		if err != nil {
			t.Fatalf("select: %v", err)
		}
		if row.Attributes != "{}" || row.Groups != "[]" {
			t.Errorf("attributes, groups = %q, %q; want {} and []", row.Attributes, row.Groups)
		}
	})
}
