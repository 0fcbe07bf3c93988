package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrPostgresNotFound means no initdb/postgres pair was found, so callers
// (testenv) can tell "not installed" apart from "installed but broken".
var ErrPostgresNotFound = errors.New("PostgreSQL server binaries (initdb, postgres) not found")

// postgresStartTimeout is generous because the first start after initdb
// replays nothing but still has to create shared memory on a loaded CI box.
const postgresStartTimeout = 30 * time.Second

// postgresSearchGlob is where Debian and Ubuntu install server binaries; they
// are deliberately not on PATH there.
var postgresSearchGlob = "/usr/lib/postgresql/*/bin"

// PostgresConfig describes one throwaway PostgreSQL cluster.
type PostgresConfig struct {
	Dir  string    // data directory; empty = a new temp dir, removed by Close. An existing cluster in Dir is reused
	Port int       // TCP port on 127.0.0.1; 0 = a free port
	Log  io.Writer // initdb and server output; nil = discard (the tail still appears in start-up errors)
}

// Postgres is a running PostgreSQL cluster that trusts every local
// connection: it is for tests and development only.
type Postgres struct {
	URL  string // postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
	Dir  string // the data directory, which also holds the Unix socket
	Port int    // the TCP port on 127.0.0.1

	mu      sync.Mutex
	proc    *process
	tempDir string // removed by Close; empty when the caller chose Dir
	closed  bool
}

// FindPostgres returns the directory holding initdb and postgres: PATH first
// (so a developer's choice wins), then the highest version under
// /usr/lib/postgresql. The error wraps ErrPostgresNotFound.
func FindPostgres() (string, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(initdb)
		if isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(postgresSearchGlob)
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("devstack: %w in PATH or %s", ErrPostgresNotFound, postgresSearchGlob)
}

// pgVersion extracts 15 from /usr/lib/postgresql/15/bin, so that 15 sorts
// above 9.6 (a string sort would not).
func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// postgresCredential returns the unprivileged user to run as when we are
// root (initdb and postgres refuse to run as root), or nil otherwise.
func postgresCredential() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if runtime.GOOS != "linux" {
		return nil, errors.New("devstack: running PostgreSQL as root is only supported on Linux (it must switch to the postgres user)")
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("devstack: running as root, and PostgreSQL refuses root: need an OS user named postgres to run it as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("devstack: postgres user ids: %w", err)
	}
	return &credential{uid: uint32(uid), gid: uint32(gid)}, nil
}

// StartPostgres creates (initdb) and starts a cluster as a direct child
// process and returns once it accepts connections. Durability is switched
// off (fsync, synchronous_commit, full_page_writes) because the data is
// disposable and tests are much faster without it.
func StartPostgres(ctx context.Context, cfg PostgresConfig) (*Postgres, error) {
	binDir, err := FindPostgres()
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	p := &Postgres{Dir: cfg.Dir}
	if p.Dir == "" {
		// /tmp rather than a dir under the repo: the postgres user must be
		// able to reach it, and /root is closed to it.
		if p.tempDir, err = os.MkdirTemp("", "pinhole-pg-"); err != nil {
			return nil, fmt.Errorf("devstack: postgres temp dir: %w", err)
		}
		p.Dir = p.tempDir
	} else if p.Dir, err = filepath.Abs(p.Dir); err != nil {
		return nil, fmt.Errorf("devstack: postgres dir: %w", err)
	} else if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("devstack: postgres dir: %w", err)
	}
	fail := func(err error) (*Postgres, error) {
		if p.tempDir != "" {
			_ = os.RemoveAll(p.tempDir)
		}
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(p.Dir, int(cred.uid), int(cred.gid)); err != nil {
			return fail(fmt.Errorf("devstack: give %s to the postgres user: %w", p.Dir, err))
		}
	}

	tail := newTailBuffer(32 << 10)
	out := logWriter(cfg.Log, tail)
	if _, err := os.Stat(filepath.Join(p.Dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := initdb(ctx, binDir, p.Dir, cred, out); err != nil {
			return fail(withTail(err, "initdb", tail))
		}
	}

	err = startOnFreePorts(ctx, cfg.Port == 0, func() error {
		p.Port = cfg.Port
		if p.Port == 0 {
			var err error
			if p.Port, err = FreePort(); err != nil {
				return err
			}
		}
		p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
		return p.start(ctx, binDir, cred, out)
	})
	if err != nil {
		return fail(withTail(err, "postgres", tail))
	}
	return p, nil
}

// initdb creates the cluster. It is short-lived, so unlike the server it may
// die with ctx.
func initdb(ctx context.Context, binDir, dir string, cred *credential, out io.Writer) error {
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"),
		"-D", dir,
		"-A", "trust",
		"-U", "postgres",
		"-E", "UTF8",
		"--no-locale", // the C locale exists everywhere; others may not be installed
		"--no-sync",   // throwaway data need not survive a power cut
		"--no-instructions",
	)
	cmd.Dir = dir // the postgres user may not be able to enter our cwd
	cmd.Env = childEnv("PG", "LC_", "LANG")
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr(cred)
	// initdb runs a postgres child of its own; stop both on cancellation.
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	return nil
}

// start runs the server on p.Port and waits until it accepts connections.
func (p *Postgres) start(ctx context.Context, binDir string, cred *credential, out io.Writer) error {
	cmd := exec.Command(filepath.Join(binDir, "postgres"),
		"-D", p.Dir,
		"-p", strconv.Itoa(p.Port),
		"-k", p.Dir, // socket in the data dir: /var/run/postgresql may not exist or be writable
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
	)
	cmd.Dir = p.Dir
	cmd.Env = childEnv("PG", "LC_", "LANG")
	proc, err := startProcess("postgres", cmd, out, cred)
	if err != nil {
		return err
	}
	err = waitReady(ctx, proc, postgresStartTimeout, func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, p.URL)
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})
	if err != nil {
		proc.stop(syscall.SIGINT, 10*time.Second)
		return err
	}
	p.proc = proc
	return nil
}

// CreateDatabase creates an empty database in this cluster and returns its
// URL.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) (string, error) {
	return CreateDatabase(ctx, p.URL, name)
}

// CreateDatabase creates database name on the server serverURL points at
// (any database on it will do as the connection target) and returns the
// URL of the new database. It works on any server, not just one started
// here, so tests can share TEST_DATABASE_URL's server.
func CreateDatabase(ctx context.Context, serverURL, name string) (string, error) {
	dbURL, err := databaseURL(serverURL, name)
	if err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", fmt.Errorf("devstack: create database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("devstack: create database %s: %w", name, err)
	}
	return dbURL, nil
}

// DropDatabase drops database name on serverURL's server, disconnecting
// anyone still using it, so tests on a shared server leave nothing behind.
func DropDatabase(ctx context.Context, serverURL, name string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("devstack: drop database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("devstack: drop database %s: %w", name, err)
	}
	return nil
}

// databaseURL swaps the database name in a postgres:// URL, keeping user,
// host and query parameters.
func databaseURL(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("devstack: %q is not a postgres:// URL", redact(serverURL))
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// redact hides a password before a URL lands in an error message.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		return "..." + raw[i:]
	}
	return raw
}

// Close shuts the server down with a fast shutdown (SIGINT: abort open
// transactions, no waiting for clients), waits for it, and removes a temp
// data dir. It is safe to call more than once.
func (p *Postgres) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.proc != nil {
		p.proc.stop(syscall.SIGINT, 10*time.Second)
		p.proc = nil
	}
	if p.tempDir != "" {
		if err := os.RemoveAll(p.tempDir); err != nil {
			return fmt.Errorf("devstack: postgres: remove temp dir: %w", err)
		}
	}
	return nil
}
