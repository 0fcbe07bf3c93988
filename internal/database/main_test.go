package database_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// dialect is one database the shared suite runs against.
type dialect struct {
	name string
	// url returns a DATABASE_URL naming a fresh, empty database. Opening it
	// twice gives two pools on the same database, like two replicas.
	url func(t *testing.T) string
}

var dialects = []dialect{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "pinhole.db") }},
	{"postgres", func(t *testing.T) string { return testenv.PostgresURL(t) }},
}

// forEachDialect runs test once per dialect, in parallel, each with the URL
// of its own fresh database.
func forEachDialect(t *testing.T, test func(t *testing.T, url string)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			test(t, d.url(t))
		})
	}
}

// testContext is bounded so a deadlock fails the test instead of hanging it.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mustOpen opens url and closes it when the test ends. gorm's warnings
// (several tests fail statements on purpose) go to the test's output, shown
// with -v or when the test fails.
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
