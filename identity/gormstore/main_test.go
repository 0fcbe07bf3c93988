package gormstore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// forEachDialect runs test once per database (testenv.EachDatabase), each
// time with a Store on its own freshly migrated database.
func forEachDialect(t *testing.T, test func(t *testing.T, db *database.DB, s *gormstore.Store)) {
	t.Helper()
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		if err := gormstore.Migrate(testenv.Context(t), db); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		test(t, db, gormstore.New(db))
	})
}

// t0 is the suite's "now". It has nanoseconds on purpose: the store keeps
// microseconds, so values read back as stored(t), not t.
var t0 = time.Date(2030, time.March, 4, 5, 6, 7, 123456789, time.UTC)

// stored is t as the store keeps it: UTC, whole microseconds.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// ptr returns a pointer to v, for the optional times.
func ptr[T any](v T) *T { return &v }

// testSub returns a fixed, readable UUID for user n.
func testSub(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// newUser returns a minimal valid user n with the given email.
func newUser(n int, email string) *identity.User {
	return &identity.User{
		Sub:          testSub(n),
		Email:        email,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Status:       identity.StatusUnconfirmed,
		CreatedAt:    t0,
		UpdatedAt:    t0,
	}
}

// mustCreateUser inserts user n with the given email and returns it.
func mustCreateUser(t *testing.T, s *gormstore.Store, n int, email string) *identity.User {
	t.Helper()
	u := newUser(n, email)
	if err := s.CreateUser(testenv.Context(t), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

// newSession returns a session of sub, active from t0 for a day.
func newSession(id, sub string, createdAt time.Time) identity.Session {
	return identity.Session{
		ID: id, Sub: sub,
		AuthTime: createdAt, CreatedAt: createdAt, LastUsedAt: createdAt,
		ExpiresAt: createdAt.Add(24 * time.Hour),
		IP:        "192.0.2.1", UserAgent: "test-agent/1.0",
	}
}

// mustCreateSession inserts sess.
func mustCreateSession(t *testing.T, s *gormstore.Store, sess identity.Session) {
	t.Helper()
	if err := s.CreateSession(testenv.Context(t), sess); err != nil {
		t.Fatalf("CreateSession(%s): %v", sess.ID, err)
	}
}

// hash returns a fake 32-byte hash, distinct for each label.
func hash(label string) []byte {
	h := make([]byte, 32)
	copy(h, label)
	return h
}

// wantNotFound fails unless err says "not found" as the Store contract
// promises.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("%s: got error %v, want identity.ErrNotFound", what, err)
	}
}
