package gormstore_test

import (
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

// newCode returns a sign-up code of sub whose hashes derive from label.
func newCode(sub, label string) identity.Code {
	return identity.Code{
		Sub: sub, Purpose: identity.PurposeConfirmSignUp,
		CodeHash: hash("code-" + label), LinkHash: hash("link-" + label),
		ExpiresAt: t0.Add(24 * time.Hour), CreatedAt: t0,
	}
}

// storedCode is c as it reads back.
func storedCode(c identity.Code) identity.Code {
	c.ExpiresAt = stored(c.ExpiresAt)
	c.CreatedAt = stored(c.CreatedAt)
	return c
}

func TestPutCodeReplaces(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := mustCreateUser(t, s, 1, "ada@example.com")

		first := newCode(u.Sub, "first")
		first.Attempts = 3
		if err := s.PutCode(ctx, first); err != nil {
			t.Fatalf("PutCode(first): %v", err)
		}
		// Another purpose is another code, untouched by the replacement.
		reset := newCode(u.Sub, "reset")
		reset.Purpose = identity.PurposeResetPassword
		if err := s.PutCode(ctx, reset); err != nil {
			t.Fatalf("PutCode(reset): %v", err)
		}
		second := newCode(u.Sub, "second")
		second.CreatedAt = t0.Add(time.Minute)
		if err := s.PutCode(ctx, second); err != nil {
			t.Fatalf("PutCode(second): %v", err)
		}

		got, err := s.CodeFor(ctx, u.Sub, identity.PurposeConfirmSignUp)
		if err != nil {
			t.Fatalf("CodeFor: %v", err)
		}
		if want := storedCode(second); !reflect.DeepEqual(*got, want) {
			t.Errorf("CodeFor after replacement:\ngot  %+v\nwant %+v", *got, want)
		}
		_, err = s.CodeByLink(ctx, identity.PurposeConfirmSignUp, first.LinkHash)
		wantNotFound(t, "CodeByLink(replaced link)", err)

		got, err = s.CodeFor(ctx, u.Sub, identity.PurposeResetPassword)
		if err != nil {
			t.Fatalf("CodeFor(reset): %v", err)
		}
		if want := storedCode(reset); !reflect.DeepEqual(*got, want) {
			t.Errorf("CodeFor(reset):\ngot  %+v\nwant %+v", *got, want)
		}
	})
}

func TestCodeByLink(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := mustCreateUser(t, s, 1, "ada@example.com")
		c := newCode(u.Sub, "x")
		if err := s.PutCode(ctx, c); err != nil {
			t.Fatalf("PutCode: %v", err)
		}

		got, err := s.CodeByLink(ctx, identity.PurposeConfirmSignUp, c.LinkHash)
		if err != nil {
			t.Fatalf("CodeByLink: %v", err)
		}
		if want := storedCode(c); !reflect.DeepEqual(*got, want) {
			t.Errorf("CodeByLink:\ngot  %+v\nwant %+v", *got, want)
		}
		// A link is only good for its own flow.
		_, err = s.CodeByLink(ctx, identity.PurposeResetPassword, c.LinkHash)
		wantNotFound(t, "CodeByLink(other purpose)", err)
		_, err = s.CodeByLink(ctx, identity.PurposeConfirmSignUp, hash("unknown"))
		wantNotFound(t, "CodeByLink(unknown hash)", err)
	})
}

func TestAddCodeAttemptIsAtomic(t *testing.T) {
	t.Parallel()
	const tries = 20
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := mustCreateUser(t, s, 1, "ada@example.com")
		if err := s.PutCode(ctx, newCode(u.Sub, "x")); err != nil {
			t.Fatalf("PutCode: %v", err)
		}

		counts := make([]int, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Go(func() {
				n, err := s.AddCodeAttempt(ctx, u.Sub, identity.PurposeConfirmSignUp)
				if err != nil {
					t.Errorf("AddCodeAttempt: %v", err)
				}
				counts[i] = n
			})
		}
		wg.Wait()

		// Each try saw a different count: none was lost or counted twice.
		slices.Sort(counts)
		want := make([]int, tries)
		for i := range want {
			want[i] = i + 1
		}
		if !slices.Equal(counts, want) {
			t.Errorf("counts returned = %v, want 1..%d once each", counts, tries)
		}
		c, err := s.CodeFor(ctx, u.Sub, identity.PurposeConfirmSignUp)
		if err != nil {
			t.Fatalf("CodeFor: %v", err)
		}
		if c.Attempts != tries {
			t.Errorf("Attempts = %d, want %d", c.Attempts, tries)
		}
	})
}

func TestDeleteCode(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := mustCreateUser(t, s, 1, "ada@example.com")
		if err := s.PutCode(ctx, newCode(u.Sub, "x")); err != nil {
			t.Fatalf("PutCode: %v", err)
		}
		if err := s.DeleteCode(ctx, u.Sub, identity.PurposeConfirmSignUp); err != nil {
			t.Fatalf("DeleteCode: %v", err)
		}
		_, err := s.CodeFor(ctx, u.Sub, identity.PurposeConfirmSignUp)
		wantNotFound(t, "CodeFor after DeleteCode", err)
		// The domain relies on this to make codes single-use under races.
		err = s.DeleteCode(ctx, u.Sub, identity.PurposeConfirmSignUp)
		wantNotFound(t, "second DeleteCode", err)
	})
}

func TestCodeNotFound(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		u := mustCreateUser(t, s, 1, "ada@example.com")
		_, err := s.CodeFor(ctx, u.Sub, identity.PurposeConfirmSignUp)
		wantNotFound(t, "CodeFor", err)
		_, err = s.AddCodeAttempt(ctx, u.Sub, identity.PurposeConfirmSignUp)
		wantNotFound(t, "AddCodeAttempt", err)
		err = s.PutCode(ctx, newCode(testSub(404), "x"))
		wantNotFound(t, "PutCode for an unknown user", err)
	})
}
