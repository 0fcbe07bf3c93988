// Package testenv gives Pinhole's tests the real services a Cognito-like
// system depends on: PostgreSQL for the user pool, MinIO for the identity
// pool's storage, Mailpit to read back the mail the user pool sends, and
// Chromium for browser tests.
//
// Fakes would hide exactly the bugs that matter here (SQL constraints,
// session policies MinIO actually enforces, mail that really goes over
// SMTP), so tests run against the real thing, started by devstack. When a
// prerequisite is missing, tests skip with one loud line saying how to get
// it, except under CI=true, where a skip would hide lost coverage and the
// test fails instead.
//
// Use it from TestMain so shared services are shut down:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinhole/pinhole/internal/chromium"
	"github.com/pinhole/pinhole/internal/devstack"
)

// startTimeout bounds how long a test waits for a service to come up; the
// devstack start functions have their own, tighter, per-service deadlines.
const startTimeout = 2 * time.Minute

// shared holds services that live for the whole test binary because
// starting them per test would be too slow (a PostgreSQL cluster takes a
// couple of seconds; a database inside it, milliseconds).
var shared struct {
	pgOnce sync.Once
	pg     *devstack.Postgres
	pgErr  error
}

// Main runs the tests and then closes every shared service, which deferred
// calls cannot do because os.Exit skips them.
func Main(m *testing.M) {
	code := m.Run()
	if err := closeShared(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func closeShared() error {
	if shared.pg != nil {
		return shared.pg.Close()
	}
	return nil
}

// Require skips the test when ok is false, with one line naming what is
// missing and how to get it; with CI=true it fails instead, because CI must
// never pass by silently skipping integration tests.
func Require(t testing.TB, ok bool, what, hint string) {
	t.Helper()
	if ok {
		return
	}
	msg := fmt.Sprintf("MISSING PREREQUISITE: %s — %s", what, hint)
	if inCI() {
		t.Fatal(msg + " (fatal because CI=true)")
		return // only reached with a fake testing.TB
	}
	reportSkip(msg)
	t.Skip(msg)
}

// reportSkip appends msg to the file named by PINHOLE_SKIP_REPORT. `go test
// ./...` shows nothing of a passing package, skip lines included, so `make
// test` collects them there and prints them after the run.
func reportSkip(msg string) {
	path := os.Getenv("PINHOLE_SKIP_REPORT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, msg)
}

// inCI accepts CI=true as set by GitHub Actions and GitLab, and the other
// spellings strconv.ParseBool knows (CI=1).
func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// PostgresURL returns the URL of a brand-new, empty database, so tests can
// run in parallel and migrate freely without seeing each other's rows. The
// database lives on TEST_DATABASE_URL's server when that is set (and is
// dropped after the test), else in a throwaway cluster shared by the test
// binary and stopped by Main.
func PostgresURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	name := databaseName(t.Name())

	if server := os.Getenv("TEST_DATABASE_URL"); server != "" {
		dbURL, err := devstack.CreateDatabase(ctx, server, name)
		if err != nil {
			t.Fatalf("testenv: TEST_DATABASE_URL: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := devstack.DropDatabase(ctx, server, name); err != nil {
				t.Errorf("testenv: %v", err)
			}
		})
		return dbURL
	}

	_, err := devstack.FindPostgres()
	Require(t, err == nil, "PostgreSQL server binaries (initdb, postgres)", "apt-get install postgresql or set TEST_DATABASE_URL")
	if err != nil {
		return "" // only reached with a fake testing.TB
	}
	shared.pgOnce.Do(func() {
		shared.pg, shared.pgErr = devstack.StartPostgres(ctx, devstack.PostgresConfig{})
	})
	if shared.pgErr != nil {
		t.Fatalf("testenv: start PostgreSQL: %v", shared.pgErr)
	}
	dbURL, err := shared.pg.CreateDatabase(ctx, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return dbURL
}

var notIdentChar = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName derives a unique name from the test name, so a leftover
// database on a shared server says which test made it.
func databaseName(testName string) string {
	base := strings.Trim(notIdentChar.ReplaceAllString(strings.ToLower(testName), "_"), "_")
	if len(base) > 40 { // PostgreSQL truncates identifiers at 63 bytes
		base = base[:40]
	}
	return "test_" + base + "_" + randomSuffix()
}

// randomSuffix keeps names unique across parallel tests and test binaries
// sharing one server.
func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// MinIO starts a dedicated MinIO (own port, own temp data dir) for the test
// and closes it when the test ends, so tests can create buckets, policies
// and users, or Stop the server, without disturbing each other. The binary
// is not built here: a first build takes about ten minutes, far beyond a
// test's timeout.
func MinIO(t testing.TB) *devstack.MinIO {
	t.Helper()
	bin := ToolPath(t, devstack.MinIOTool)
	if bin == "" {
		return nil // only reached with a fake testing.TB
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	m, err := devstack.StartMinIO(ctx, devstack.MinIOConfig{Binary: bin})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: minio output (tail):\n%s", tail(m.Logs()))
		}
		if err := m.Close(); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return m
}

// Mailpit starts a dedicated Mailpit for the test and closes it when the
// test ends, so every mailbox starts empty.
func Mailpit(t testing.TB) *devstack.Mailpit {
	t.Helper()
	bin := ToolPath(t, devstack.MailpitTool)
	if bin == "" {
		return nil // only reached with a fake testing.TB
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	mp, err := devstack.StartMailpit(ctx, devstack.MailpitConfig{Binary: bin})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: mailpit output (tail):\n%s", tail(mp.Logs()))
		}
		if err := mp.Close(); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return mp
}

// ToolPath returns the binary of a tool built by `make tools`, or skips
// (fails under CI) when it is missing; for tests that need a service with a
// non-default devstack config. A binary whose stamp names another version is
// still used, with a note: a slightly stale MinIO is more useful to a test
// run than a skip.
func ToolPath(t testing.TB, tool devstack.Tool) string {
	t.Helper()
	hint := fmt.Sprintf("run `make tools` (builds ./bin/%s from its pinned module)", tool.Name)
	dir, err := devstack.BinDir()
	Require(t, err == nil, tool.Name+" binary (no bin dir: "+fmt.Sprint(err)+")", hint+" or set PINHOLE_BIN_DIR")
	if err != nil {
		return ""
	}
	path := tool.Path(dir)
	info, err := os.Stat(path)
	ok := err == nil && !info.IsDir()
	Require(t, ok, tool.Name+" binary at "+path, hint)
	if !ok {
		return ""
	}
	if !tool.Installed(dir) {
		t.Logf("testenv: %s is not stamped as %s@%s; `make tools` rebuilds it", path, tool.Module, tool.Version)
	}
	return path
}

// ChromiumPath returns a headless-capable Chromium or Chrome for chromedp
// (see chromium.Find), or skips or fails the test as Require does.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	p, err := chromium.Find()
	if err != nil {
		Require(t, false, fmt.Sprintf("Chromium (%v)", err), chromium.Hint)
	}
	return p
}

// WaitForMessage polls mp until a message addressed to `to` (compared
// case-insensitively) arrives, and returns the newest such message. Mail is
// sent asynchronously by the app, so a single look right after the request
// would be flaky. A test expecting a second message to the same address
// should compare IDs with the first.
func WaitForMessage(t testing.TB, mp *devstack.Mailpit, to string, timeout time.Duration) devstack.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var (
		seen    []devstack.Message
		lastErr error
	)
	for {
		msgs, err := mp.Messages(ctx)
		if err == nil {
			seen = msgs
			for _, msg := range msgs {
				for _, rcpt := range msg.To {
					if strings.EqualFold(rcpt, to) {
						return msg
					}
				}
			}
		} else if ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			var got []string
			for _, msg := range seen {
				got = append(got, fmt.Sprintf("%q to %v", msg.Subject, msg.To))
			}
			t.Fatalf("testenv: no message to %s within %s; mailbox has %d: %s (last error: %v)", to, timeout, len(seen), strings.Join(got, ", "), lastErr)
			return devstack.Message{} // only reached with a fake testing.TB
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail keeps failure output readable: the end of a log is where the reason is.
func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}
