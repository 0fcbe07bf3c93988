package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL flavour behind a *gorm.DB, for the few places where
// portable gorm is not enough and SQL has to differ.
type Dialect string

// The dialects Open can return.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DefaultDataDir is where the embedded SQLite file lives when Options.DataDir
// is empty, relative to the working directory (the spec's ./.data/).
const DefaultDataDir = ".data"

// defaultPingTimeout bounds the start-up ping when the caller's context has
// no deadline, so an unreachable host fails start-up instead of hanging for
// the operating system's TCP timeout (minutes).
const defaultPingTimeout = 10 * time.Second

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// DataDir holds the embedded SQLite file pinhole.db when the URL is
	// empty. Empty means DefaultDataDir.
	DataDir string
	// Logger receives gorm's warnings (slow queries, failed statements).
	// Nil means the standard library's log output on stderr.
	Logger *slog.Logger
}

// DB is an open connection pool. It embeds *gorm.DB, so stores call gorm
// directly (db.WithContext(ctx).Create(...)), and records which dialect it
// speaks.
type DB struct {
	*gorm.DB
	Dialect Dialect
}

// Open connects to the database named by databaseURL, the value of
// DATABASE_URL:
//
//   - "" is the embedded default, a SQLite file <DataDir>/pinhole.db (the
//     directory is created with mode 0700 because it holds password hashes);
//   - "postgres://..." or "postgresql://..." is PostgreSQL;
//   - "sqlite:<path>" or "file:<path>" is a SQLite file at path
//     (sqlite::memory: gives a private in-memory database, for unit tests).
//
// Open pings before returning so that a wrong host or path fails start-up
// with one clear line. The ping is bounded by ctx, or by 10 seconds if ctx has
// no deadline.
func Open(ctx context.Context, databaseURL string, opts Options) (*DB, error) {
	t, err := parseURL(databaseURL, opts.DataDir)
	if err != nil {
		return nil, err
	}

	cfg := &gorm.Config{
		Logger: newLogger(opts.Logger),
		// gorm wraps every single write in BEGIN/COMMIT by default, to keep a
		// row and its associations together. Pinhole's stores write no
		// associations: each write is one statement (atomic on its own) and
		// multi-statement work goes through an explicit transaction. Skipping
		// the wrapper saves two round trips per write (the benchmarks showed
		// it on the credential vend and refresh paths).
		SkipDefaultTransaction: true,
		// Times gorm stamps itself (CreatedAt, UpdatedAt) get the same
		// treatment as times the stores write: see Time.
		NowFunc: func() time.Time { return Time(time.Now()) },
		// Driver errors become gorm.ErrDuplicatedKey and
		// gorm.ErrForeignKeyViolated on both dialects, so stores can map "email
		// already taken" without parsing SQLite or PostgreSQL error codes.
		TranslateError: true,
		// gorm's own ping has no context and would hang on a black-holed
		// host; Open pings below with a deadline instead.
		DisableAutomaticPing: true,
	}

	var dialector gorm.Dialector
	switch t.dialect {
	case Postgres:
		dialector = postgres.Open(t.dsn)
	case SQLite:
		dialector = sqlite.Open(t.dsn)
	}
	gdb, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, t.describe(err)
	}
	db := &DB{DB: gdb, Dialect: t.dialect}

	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, t.describe(err)
	}
	t.configurePool(sqlDB)

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultPingTimeout)
		defer cancel()
	}
	if err := db.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, t.describe(err)
	}
	return db, nil
}

// Time is t as Pinhole writes it to either database: in UTC, because SQLite
// stores times as text and text sorts by instant only when every value has
// the same offset (keyset pagination and expiry queries compare them), and
// truncated to microseconds, PostgreSQL's precision, so a value reads back
// equal to what was written on both dialects. Stores pass every time they
// write or compare against through it.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Ping checks that the database answers, for start-up and for /readyz.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes every connection in the pool. With SQLite it also folds the
// write-ahead log back into the database file.
func (db *DB) Close() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// target is a parsed DATABASE_URL.
type target struct {
	dialect Dialect
	dsn     string   // what the driver gets; may contain a password
	where   string   // safe to print: "host:port" or a file path
	secrets []string // substrings that must never appear in an error
	memory  bool     // SQLite :memory:, which lives and dies with one connection
}

// accepted is appended to every complaint about DATABASE_URL's form.
const accepted = `use empty (embedded SQLite under ./.data/), postgres://user:password@host:5432/dbname, or sqlite:<path>`

func parseURL(raw, dataDir string) (*target, error) {
	if raw == "" {
		if dataDir == "" {
			dataDir = DefaultDataDir
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("database: create data directory: %w", err)
		}
		return sqliteTarget(filepath.Join(dataDir, "pinhole.db"), "")
	}

	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		// No scheme at all: do not echo the value, it may be a password
		// pasted into the wrong variable.
		return nil, fmt.Errorf("database: DATABASE_URL has no scheme; %s", accepted)
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if !strings.HasPrefix(rest, "//") {
			return nil, fmt.Errorf("database: DATABASE_URL must be a URL such as postgres://user:password@host:5432/dbname; %s", accepted)
		}
		return postgresTarget(raw)
	case "sqlite":
		return sqliteTarget(rest, "")
	case "file":
		// Keep the file: prefix so SQLite reads the value as a URI and
		// honours its parameters (file:x.db?mode=ro).
		return sqliteTarget(rest, "file:")
	default:
		return nil, fmt.Errorf("database: DATABASE_URL scheme %q is not supported; %s", printableScheme(scheme), accepted)
	}
}

// printableScheme shows a scheme only if it looks like one, so that a value
// such as "hunter2" (no colon in the right place) is never echoed in full.
func printableScheme(s string) string {
	if len(s) > 20 {
		return "(not a scheme)"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return "(not a scheme)"
		}
	}
	return s
}

func postgresTarget(raw string) (*target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse errors quote the input, password included, so the
		// cause is deliberately dropped.
		return nil, errors.New("database: DATABASE_URL is not a valid postgres:// URL; check host:port, and percent-encode special characters such as @ : / % # in the user name and password")
	}
	t := &target{dialect: Postgres, dsn: raw, where: u.Host}
	switch {
	case u.Host == "":
		t.where = "the default host"
	case u.Port() == "":
		t.where += ":5432"
	}
	if pw, ok := u.User.Password(); ok {
		t.secrets = append(t.secrets, pw, url.QueryEscape(pw), url.PathEscape(pw), rawPassword(raw))
	}
	if pw := u.Query().Get("password"); pw != "" {
		t.secrets = append(t.secrets, pw, url.QueryEscape(pw))
	}
	return t, nil
}

// rawPassword returns the password exactly as typed in the URL, percent
// escapes and all, because that is the form a parser's error would quote.
func rawPassword(raw string) string {
	_, rest, _ := strings.Cut(raw, "://")
	authority, _, _ := strings.Cut(rest, "/")
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(authority[:at], ":")
	return pw
}

// SQLite settings applied to every new connection (the driver runs each
// _pragma when it opens one). Order matters: busy_timeout first, so the
// switch to WAL waits for a lock instead of failing.
var sqlitePragmas = []string{
	// Wait up to 10 s for another connection's write lock instead of failing
	// at once with "database is locked".
	"busy_timeout(10000)",
	// Write-ahead log: readers never block the writer and vice versa.
	"journal_mode(WAL)",
	// In WAL mode NORMAL is still crash-safe (a power cut may lose the last
	// commits, never corrupt the file) and much faster than FULL.
	"synchronous(NORMAL)",
	// SQLite leaves foreign keys off by default, per connection.
	"foreign_keys(1)",
}

func sqliteTarget(rest, prefix string) (*target, error) {
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return nil, fmt.Errorf("database: DATABASE_URL sqlite: needs a path, e.g. sqlite:./.data/pinhole.db; %s", accepted)
	}
	// SQLite creates the file but not its directory, and the driver then
	// reports "out of memory (14)"; say what is actually wrong.
	if dir := filepath.Dir(path); path != ":memory:" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("database: cannot open sqlite database %s: directory %s: %w", path, dir, errors.Unwrap(err))
		}
	}
	user, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("database: DATABASE_URL has a malformed query: %w", err)
	}

	if user.Has("_time_format") {
		// go-sqlite v1.21 stops reading parameters after _time_format, so
		// it would silently drop _txlock below; times are already written
		// in SQLite's own format without it.
		return nil, errors.New("database: DATABASE_URL parameter _time_format is not supported (it disables _txlock in the SQLite driver)")
	}

	params := url.Values{"_pragma": slices.Clone(sqlitePragmas)}
	// BEGIN IMMEDIATE takes the write lock when a transaction starts. With
	// the default (deferred) a read-then-write transaction can fail with
	// SQLITE_BUSY when it tries to upgrade, and busy_timeout does not help.
	params.Set("_txlock", "immediate")
	for k, vs := range user {
		if k == "_pragma" {
			// Run after ours, so a caller's pragma wins.
			params[k] = append(params[k], vs...)
		} else {
			params[k] = vs
		}
	}
	return &target{
		dialect: SQLite,
		dsn:     prefix + path + "?" + params.Encode(),
		where:   path,
		memory:  path == ":memory:" || user.Get("mode") == "memory",
	}, nil
}

// configurePool sizes the connection pool for the dialect.
func (t *target) configurePool(sqlDB *sql.DB) {
	switch {
	case t.memory:
		// Every connection to :memory: is a separate, empty database, and
		// closing the last one throws it away: keep exactly one, forever.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
	case t.dialect == SQLite:
		// SQLite has a single writer whatever the pool size (BEGIN IMMEDIATE
		// queues the others on busy_timeout); extra connections only let
		// reads run next to it under WAL. A local file gains nothing from
		// recycling connections, so they live as long as the pool.
		n := max(4, runtime.GOMAXPROCS(0))
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
	default:
		// Sized for a 2-core replica: a handful of queries in flight at
		// once, comfortably under PostgreSQL's default max_connections=100
		// even with several replicas. Connections are recycled so that
		// failovers and server-side settings changes are picked up.
		sqlDB.SetMaxOpenConns(10)
		sqlDB.SetMaxIdleConns(5)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
}

// describe turns a connection failure into the one line an operator sees,
// with any password from the URL blanked out.
func (t *target) describe(err error) error {
	err = &startupError{err: err, secrets: t.secrets}
	if t.dialect == Postgres {
		return fmt.Errorf("database: cannot reach postgres at %s: %w", t.where, err)
	}
	return fmt.Errorf("database: cannot open sqlite database %s: %w", t.where, err)
}

// startupError presents the error it wraps as a single line without
// secrets. Driver errors usually leave passwords out already; this makes sure
// of it. pgx also spreads one failure over several lines (one per address it
// tried, often identical), which would break a log line in pieces.
type startupError struct {
	err     error
	secrets []string
}

func (e *startupError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	var b strings.Builder
	seen := map[string]bool{}
	for line := range strings.Lines(msg) {
		line = strings.TrimSpace(line)
		if line == "" || seen[line] {
			continue
		}
		seen[line] = true
		if b.Len() > 0 {
			if strings.HasSuffix(b.String(), ":") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

func (e *startupError) Unwrap() error { return e.err }

// newLogger keeps gorm quiet: warnings only (slow queries and failed
// statements), never "record not found", and never the values bound to a
// query, which may be emails, password hashes or token hashes.
func newLogger(l *slog.Logger) logger.Interface {
	cfg := logger.Config{
		SlowThreshold:             200 * time.Millisecond,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true,
	}
	if l != nil {
		return logger.NewSlogLogger(l, cfg)
	}
	return logger.New(log.New(os.Stderr, "", log.LstdFlags), cfg)
}
