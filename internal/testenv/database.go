package testenv

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinhole/pinhole/internal/database"
)

// Database is one kind of database the store tests run against.
type Database struct {
	Name string
	// URL returns a DATABASE_URL naming a fresh, empty database. Opening it
	// twice gives two pools on the same database, like two replicas.
	URL func(t testing.TB) string
}

// Databases are the two that Pinhole supports: the embedded SQLite file
// (`make run`'s default) and PostgreSQL. Every store test runs on both, so
// that neither dialect drifts.
var Databases = []Database{
	{"sqlite", func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "pinhole.db") }},
	{"postgres", PostgresURL},
}

// EachDatabase runs test once per database in Databases, as parallel
// subtests, each with the URL of its own fresh database.
func EachDatabase(t *testing.T, test func(t *testing.T, url string)) {
	t.Helper()
	for _, d := range Databases {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			test(t, d.URL(t))
		})
	}
}

// Context is the test's context bounded to a minute, so that a deadlock
// fails the test instead of hanging it.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// OpenDB opens url and closes it when the test ends. gorm's warnings (some
// tests fail statements on purpose) go to the test's output, shown with -v
// or when the test fails.
func OpenDB(t testing.TB, url string) *database.DB {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	db, err := database.Open(Context(t), url, database.Options{Logger: logger})
	if err != nil {
		t.Fatalf("testenv: open database: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("testenv: close database: %v", err)
		}
	})
	return db
}
