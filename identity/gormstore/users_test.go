package gormstore_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

func TestUserRoundTrip(t *testing.T) {
	t.Parallel()
	full := &identity.User{
		Sub:                 testSub(1),
		Email:               "ada@example.com",
		EmailVerified:       true,
		PendingEmail:        "ada@new.example.com",
		PhoneNumber:         "+14155550123",
		PhoneNumberVerified: true,
		PasswordHash:        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Status:              identity.StatusConfirmed,
		Attributes:          map[string]string{"custom:team": "engines", "custom:age": "36"},
		Groups:              []string{"admins", "photographers"},
		PasswordChangedAt:   t0.Add(-time.Hour),
		CreatedAt:           t0.Add(-2 * time.Hour),
		UpdatedAt:           t0,
	}
	tests := []struct {
		name string
		in   *identity.User
		want identity.User
	}{
		{
			name: "every field set",
			in:   full,
			want: identity.User{
				Sub: full.Sub, Email: full.Email, EmailVerified: true,
				PendingEmail: full.PendingEmail, PhoneNumber: full.PhoneNumber, PhoneNumberVerified: true,
				PasswordHash: full.PasswordHash, Status: identity.StatusConfirmed,
				Attributes: full.Attributes, Groups: full.Groups,
				PasswordChangedAt: stored(full.PasswordChangedAt),
				CreatedAt:         stored(full.CreatedAt),
				UpdatedAt:         stored(full.UpdatedAt),
			},
		},
		{
			// nil maps and lists, zero "never" time, false flags.
			name: "optional fields empty",
			in:   newUser(2, "bob@example.com"),
			want: identity.User{
				Sub: testSub(2), Email: "bob@example.com",
				PasswordHash: newUser(2, "").PasswordHash, Status: identity.StatusUnconfirmed,
				CreatedAt: stored(t0), UpdatedAt: stored(t0),
			},
		},
	}
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		for _, tt := range tests {
			in := *tt.in // CreateUser writes back CreatedAt
			if err := s.CreateUser(ctx, &in); err != nil {
				t.Fatalf("%s: CreateUser: %v", tt.name, err)
			}
			if !in.CreatedAt.Equal(tt.want.CreatedAt) {
				t.Errorf("%s: CreatedAt after CreateUser = %v, want %v", tt.name, in.CreatedAt, tt.want.CreatedAt)
			}
			bySub, err := s.UserBySub(ctx, tt.in.Sub)
			if err != nil {
				t.Fatalf("%s: UserBySub: %v", tt.name, err)
			}
			if !reflect.DeepEqual(*bySub, tt.want) {
				t.Errorf("%s: UserBySub:\ngot  %+v\nwant %+v", tt.name, *bySub, tt.want)
			}
			byEmail, err := s.UserByEmail(ctx, tt.in.Email)
			if err != nil {
				t.Fatalf("%s: UserByEmail: %v", tt.name, err)
			}
			if !reflect.DeepEqual(*byEmail, tt.want) {
				t.Errorf("%s: UserByEmail:\ngot  %+v\nwant %+v", tt.name, *byEmail, tt.want)
			}
		}
	})
}

func TestCreateUserFillsZeroCreatedAt(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		before := time.Now().Add(-time.Second)
		u := newUser(1, "ada@example.com")
		u.CreatedAt = time.Time{}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if u.CreatedAt.Before(before) {
			t.Errorf("CreatedAt = %v, want the current time", u.CreatedAt)
		}
		got, err := s.UserBySub(ctx, u.Sub)
		if err != nil {
			t.Fatalf("UserBySub: %v", err)
		}
		if !got.CreatedAt.Equal(u.CreatedAt) {
			t.Errorf("stored CreatedAt = %v, want %v as written back to the user", got.CreatedAt, u.CreatedAt)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := newUser(1, "ada@example.com")
		u.EmailVerified = true
		u.PhoneNumber = "+14155550123"
		u.Attributes = map[string]string{"custom:team": "engines"}
		u.Groups = []string{"admins"}
		u.PasswordChangedAt = t0
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}

		// Change everything mutable, including back to zero values, which
		// a careless gorm Updates would skip.
		changed := identity.User{
			Sub:          u.Sub,
			Email:        "ada@new.example.com",
			PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdDI$aGFzaDI",
			Status:       identity.StatusDisabled,
			Groups:       []string{"photographers"},
			// CreatedAt never changes, whatever the caller passes.
			CreatedAt: t0.Add(time.Hour),
			UpdatedAt: t0.Add(time.Minute),
		}
		if err := s.UpdateUser(ctx, &changed); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		got, err := s.UserBySub(ctx, u.Sub)
		if err != nil {
			t.Fatalf("UserBySub: %v", err)
		}
		want := changed
		want.CreatedAt = stored(t0)
		want.UpdatedAt = stored(t0.Add(time.Minute))
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("after UpdateUser:\ngot  %+v\nwant %+v", *got, want)
		}
		if _, err := s.UserByEmail(ctx, "ada@example.com"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("old email still finds the user: got error %v, want identity.ErrNotFound", err)
		}
	})
}

func TestDuplicateEmail(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		mustCreateUser(t, s, 1, "ada@example.com")

		// Emails arrive normalised, so the same address is the same string.
		err := s.CreateUser(ctx, newUser(2, "ada@example.com"))
		if !errors.Is(err, identity.ErrEmailTaken) {
			t.Errorf("CreateUser with a taken email: got error %v, want identity.ErrEmailTaken", err)
		}

		bob := mustCreateUser(t, s, 3, "bob@example.com")
		bob.Email = "ada@example.com"
		err = s.UpdateUser(ctx, bob)
		if !errors.Is(err, identity.ErrEmailTaken) {
			t.Errorf("UpdateUser to a taken email: got error %v, want identity.ErrEmailTaken", err)
		}
		got, err := s.UserBySub(ctx, bob.Sub)
		if err != nil {
			t.Fatalf("UserBySub: %v", err)
		}
		if got.Email != "bob@example.com" {
			t.Errorf("email after failed update = %q, want bob@example.com", got.Email)
		}
	})
}

func TestUserNotFound(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		_, byEmail := s.UserByEmail(ctx, "nobody@example.com")
		_, bySub := s.UserBySub(ctx, testSub(404))
		update := s.UpdateUser(ctx, newUser(404, "nobody@example.com"))
		for name, err := range map[string]error{"UserByEmail": byEmail, "UserBySub": bySub, "UpdateUser": update} {
			wantNotFound(t, name, err)
			if !errors.Is(err, identity.ErrUserNotFound) {
				t.Errorf("%s: got error %v, want identity.ErrUserNotFound", name, err)
			}
		}
	})
}
