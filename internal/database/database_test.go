package database_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

func TestOpenRejectsBadURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		url    string
		want   []string // substrings the message must contain
		secret string   // must not appear in the message
	}{
		{
			name:   "other scheme",
			url:    "mysql://bob:hunter2@db.example:3306/pinhole",
			want:   []string{"DATABASE_URL", `"mysql"`, "postgres://", "sqlite:"},
			secret: "hunter2",
		},
		{
			name:   "no scheme",
			url:    "hunter2",
			want:   []string{"DATABASE_URL", "postgres://"},
			secret: "hunter2",
		},
		{
			name:   "password where the scheme should be",
			url:    "p@ss word:rest",
			want:   []string{"DATABASE_URL", "not a scheme"},
			secret: "p@ss word",
		},
		{
			name: "sqlite without a path",
			url:  "sqlite:",
			want: []string{"DATABASE_URL", "needs a path"},
		},
		{
			name: "postgres without slashes",
			url:  "postgres:pinhole",
			want: []string{"DATABASE_URL", "postgres://user:password@host:5432/dbname"},
		},
		{
			name: "sqlite directory missing",
			url:  "sqlite:/nonexistent-pinhole-dir/pinhole.db",
			want: []string{"directory /nonexistent-pinhole-dir", "no such file or directory"},
		},
		{
			name: "sqlite driver parameter that would undo our settings",
			url:  "sqlite:pinhole.db?_time_format=sqlite",
			want: []string{"_time_format", "_txlock"},
		},
		{
			name:   "postgres password not percent-encoded",
			url:    "postgres://alice:50%off@localhost/pinhole",
			want:   []string{"DATABASE_URL", "percent-encode"},
			secret: "50%off",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, err := database.Open(testenv.Context(t), tt.url, database.Options{})
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.url)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q leaks %q", err, tt.secret)
			}
		})
	}
}

func TestOpenUnreachablePostgresFailsFast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, where string
	}{
		{"unknown host", "postgres://alice:s3cr3t-pw@nohost/pinhole", "nohost:5432"},
		{"closed port", "postgresql://alice:s3cr3t-pw@127.0.0.1:1/pinhole?sslmode=disable", "127.0.0.1:1"},
		{"password in query", "postgres://127.0.0.1:1/pinhole?user=alice&password=s3cr3t-pw", "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			start := time.Now()
			db, err := database.Open(ctx, tt.url, database.Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("Open took %v to fail, want well under 10s", elapsed)
			}
			want := "database: cannot reach postgres at " + tt.where + ": "
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
			if strings.Contains(err.Error(), "s3cr3t-pw") {
				t.Errorf("error %q leaks the password", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines, want one", err)
			}
		})
	}
}

func TestOpenEmbeddedDefault(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := database.Open(testenv.Context(t), "", database.Options{DataDir: dir})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()

	if db.Dialect != database.SQLite {
		t.Errorf("Dialect = %q, want %q", db.Dialect, database.SQLite)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("data directory: %v", err)
	}
	if got := info.Mode().Perm(); got != 0o700 {
		t.Errorf("data directory mode = %v, want 0700", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "pinhole.db")); err != nil {
		t.Errorf("database file: %v", err)
	}
}

// Pragmas are per connection, so check two connections held at once.
func TestOpenSQLiteConfiguresEveryConnection(t *testing.T) {
	t.Parallel()
	db := testenv.OpenDB(t, "sqlite:"+filepath.Join(t.TempDir(), "pinhole.db"))
	ctx := testenv.Context(t)
	sqlDB, err := db.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "10000",
		"synchronous":  "1", // NORMAL
	}
	for i := range 2 {
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
		defer conn.Close()
		for pragma, w := range want {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("conn %d: PRAGMA %s: %v", i, pragma, err)
			}
			if got != w {
				t.Errorf("conn %d: PRAGMA %s = %s, want %s", i, pragma, got, w)
			}
		}
	}
}

func TestOpenSQLiteForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, url   string
		busyTimeout int
	}{
		{"sqlite path", "sqlite:" + filepath.Join(dir, "a.db"), 10000},
		{"file path", "file:" + filepath.Join(dir, "b.db"), 10000},
		{"memory", "sqlite::memory:", 10000},
		{"caller pragma wins", "sqlite:" + filepath.Join(dir, "c.db") + "?_pragma=busy_timeout(1234)", 1234},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testenv.OpenDB(t, tt.url)
			if db.Dialect != database.SQLite {
				t.Errorf("Dialect = %q, want %q", db.Dialect, database.SQLite)
			}
			var got int
			if err := db.WithContext(testenv.Context(t)).Raw("PRAGMA busy_timeout").Scan(&got).Error; err != nil {
				t.Fatalf("PRAGMA busy_timeout: %v", err)
			}
			if got != tt.busyTimeout {
				t.Errorf("busy_timeout = %d, want %d", got, tt.busyTimeout)
			}
		})
	}
}

func TestOpenPostgres(t *testing.T) {
	t.Parallel()
	db := testenv.OpenDB(t, testenv.PostgresURL(t))
	if db.Dialect != database.Postgres {
		t.Errorf("Dialect = %q, want %q", db.Dialect, database.Postgres)
	}
	if err := db.Ping(testenv.Context(t)); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// gorm's log lines must show the SQL but never the values bound to it, which
// may be emails or token hashes.
func TestLoggerOmitsQueryValues(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		var buf bytes.Buffer
		db, err := database.Open(testenv.Context(t), url, database.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer db.Close()

		err = db.WithContext(testenv.Context(t)).Exec("SELECT * FROM no_such_table WHERE token = ?", "tok-12345").Error
		if err == nil {
			t.Fatal("query on a missing table succeeded, want an error")
		}
		logged := buf.String()
		if !strings.Contains(logged, "no_such_table") {
			t.Errorf("log %q does not show the failed statement", logged)
		}
		if strings.Contains(logged, "tok-12345") {
			t.Errorf("log %q shows a bound value", logged)
		}
	})
}

// Times written by gorm come back equal on both dialects.
func TestTimesRoundTrip(t *testing.T) {
	t.Parallel()
	type event struct {
		ID        int64 `gorm:"primaryKey"`
		CreatedAt time.Time
	}
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		ctx := testenv.Context(t)
		if err := db.WithContext(ctx).Migrator().CreateTable(&event{}); err != nil {
			t.Fatalf("create table: %v", err)
		}
		in := event{}
		if err := db.WithContext(ctx).Create(&in).Error; err != nil {
			t.Fatalf("create: %v", err)
		}
		if in.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt location = %v, want UTC", in.CreatedAt.Location())
		}
		var out event
		if err := db.WithContext(ctx).First(&out, in.ID).Error; err != nil {
			t.Fatalf("read: %v", err)
		}
		if !out.CreatedAt.Equal(in.CreatedAt) {
			t.Errorf("CreatedAt read back as %v, want %v", out.CreatedAt, in.CreatedAt)
		}
	})
}

// Time gives the form every store writes: UTC, whole microseconds.
func TestTime(t *testing.T) {
	t.Parallel()
	in := time.Date(2024, 3, 1, 12, 30, 45, 123456789, time.FixedZone("CET", 3600))
	got := database.Time(in)
	want := time.Date(2024, 3, 1, 11, 30, 45, 123456000, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Time(%v) = %v, want %v", in, got, want)
	}
}

// Unique violations surface as gorm.ErrDuplicatedKey on both dialects, which
// is what stores map to "email already registered".
func TestDuplicateKeyIsTranslated(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		ctx := testenv.Context(t)
		if err := db.WithContext(ctx).Exec("CREATE TABLE emails (address VARCHAR(100) PRIMARY KEY)").Error; err != nil {
			t.Fatalf("create table: %v", err)
		}
		insert := func() error {
			return db.WithContext(ctx).Exec("INSERT INTO emails (address) VALUES (?)", "a@example.com").Error
		}
		if err := insert(); err != nil {
			t.Fatalf("first insert: %v", err)
		}
		if err := insert(); !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Errorf("second insert: got error %v, want gorm.ErrDuplicatedKey", err)
		}
	})
}
