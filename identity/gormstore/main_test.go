package gormstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// dialect is one database the conformance suite runs against.
type dialect struct {
	name string
	// url returns a DATABASE_URL naming a fresh, empty database.
	url func(t *testing.T) string
}

var dialects = []dialect{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "pinhole.db") }},
	{"postgres", func(t *testing.T) string { return testenv.PostgresURL(t) }},
}

// forEachDialect runs test once per dialect, in parallel, each time with a
// Store on its own freshly migrated database.
func forEachDialect(t *testing.T, test func(t *testing.T, db *database.DB, s *gormstore.Store)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := mustOpen(t, d.url(t))
			if err := gormstore.Migrate(testContext(t), db); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			test(t, db, gormstore.New(db))
		})
	}
}

// testContext is bounded so that a deadlock fails the test instead of
// hanging it.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mustOpen opens url and closes it when the test ends. gorm's warnings go to
// the test's output.
func mustOpen(t *testing.T, url string) *database.DB {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	db, err := database.Open(testContext(t), url, database.Options{Logger: logger})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
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
	if err := s.CreateUser(testContext(t), u); err != nil {
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
	if err := s.CreateSession(testContext(t), sess); err != nil {
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
