package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	// These tests skip on purpose with made-up prerequisites to check how
	// skipping works; they must not land in `make test`'s report of what
	// is really missing.
	os.Unsetenv("PINHOLE_SKIP_REPORT")
	Main(m)
}

// helperEnv makes TestRequireHelper do its job only when TestRequire runs
// the test binary again as a child process.
const helperEnv = "TESTENV_REQUIRE_HELPER"

// TestRequireHelper is the child side of TestRequire: a real test whose only
// prerequisite is missing.
func TestRequireHelper(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("runs only as TestRequire's child process")
	}
	Require(t, false, "a unicorn", "apt-get install unicorn")
	t.Log("REACHED AFTER REQUIRE")
}

// TestRequire runs a real test in a child process, because only a real
// *testing.T shows what a skip or a failure does to `go test`'s exit code.
func TestRequire(t *testing.T) {
	t.Parallel()
	const line = "MISSING PREREQUISITE: a unicorn — apt-get install unicorn"
	tests := []struct {
		name     string
		ci       string // "" = CI unset
		wantFail bool
		wantOut  string
	}{
		{name: "CI unset skips", ci: "", wantFail: false, wantOut: "--- SKIP: TestRequireHelper"},
		{name: "CI=false skips", ci: "false", wantFail: false, wantOut: "--- SKIP: TestRequireHelper"},
		{name: "CI=true fails", ci: "true", wantFail: true, wantOut: "--- FAIL: TestRequireHelper"},
		{name: "CI=1 fails", ci: "1", wantFail: true, wantOut: "--- FAIL: TestRequireHelper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestRequireHelper$", "-test.v")
			cmd.Env = append(envWithout("CI", helperEnv), helperEnv+"=1")
			if tt.ci != "" {
				cmd.Env = append(cmd.Env, "CI="+tt.ci)
			}
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if err != nil && !errors.As(err, &exitErr) {
				t.Fatalf("run child test: %v", err)
			}
			if gotFail := err != nil; gotFail != tt.wantFail {
				t.Errorf("child failed = %v, want %v; output:\n%s", gotFail, tt.wantFail, out)
			}
			for _, want := range []string{line, tt.wantOut} {
				if !strings.Contains(string(out), want) {
					t.Errorf("child output does not contain %q; output:\n%s", want, out)
				}
			}
			if strings.Contains(string(out), "REACHED AFTER REQUIRE") {
				t.Errorf("test kept running after Require; output:\n%s", out)
			}
			if n := strings.Count(string(out), "MISSING PREREQUISITE"); n != 1 {
				t.Errorf("MISSING PREREQUISITE appears %d times, want once; output:\n%s", n, out)
			}
		})
	}
}

func TestRequireSatisfiedDoesNothing(t *testing.T) {
	t.Parallel()
	f := &fakeTB{TB: t}
	Require(f, true, "a unicorn", "apt-get install unicorn")
	if f.skipped != "" || f.fatal != "" {
		t.Errorf("Require(ok=true) skipped %q, failed %q; want neither", f.skipped, f.fatal)
	}
}

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	tests := []struct{ testName, wantPrefix string }{
		{"TestSignup", "test_testsignup_"},
		{"TestSignup/duplicate_email#01", "test_testsignup_duplicate_email_01_"},
		{"TestÜber/ünïcode", "test_test_ber_n_code_"},
		{strings.Repeat("TestVeryLong", 20), "test_" + strings.Repeat("testverylong", 4)[:40] + "_"},
	}
	for _, tt := range tests {
		got := databaseName(tt.testName)
		if !strings.HasPrefix(got, tt.wantPrefix) || len(got) != len(tt.wantPrefix)+8 {
			t.Errorf("databaseName(%q) = %q, want %q + 8 hex digits", tt.testName, got, tt.wantPrefix)
		}
		if len(got) > 63 {
			t.Errorf("databaseName(%q) is %d bytes, want at most 63 (PostgreSQL's limit)", tt.testName, len(got))
		}
	}
	if a, b := databaseName("TestX"), databaseName("TestX"); a == b {
		t.Errorf("databaseName twice = %q both times, want unique names", a)
	}
}

func TestPostgresURLGivesFreshDatabases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first, second := PostgresURL(t), PostgresURL(t)
	if first == second {
		t.Fatalf("PostgresURL twice = %q, want two different databases", first)
	}
	for _, dbURL := range []string{first, second} {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatalf("connect to %s: %v", dbURL, err)
		}
		var tables int
		err = conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables)
		conn.Close(ctx)
		if err != nil || tables != 0 {
			t.Errorf("%s: public tables = %d, %v; want 0, nil", dbURL, tables, err)
		}
	}
	// Writing in one must not show in the other.
	mustExec(t, first, "CREATE TABLE only_here (id int)")
	conn, err := pgx.Connect(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('only_here') IS NOT NULL").Scan(&exists); err != nil || exists {
		t.Errorf("table from the first database visible in the second = %v, %v; want false, nil", exists, err)
	}
}

func TestMinIOIsClosedAfterTheTest(t *testing.T) {
	t.Parallel()
	var endpoint string
	t.Run("uses minio", func(t *testing.T) {
		m := MinIO(t)
		endpoint = m.Endpoint
		resp, err := http.Get(m.Endpoint + "/minio/health/ready")
		if err != nil {
			t.Fatalf("GET /minio/health/ready: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /minio/health/ready = %d, want 200", resp.StatusCode)
		}
	})
	if endpoint == "" {
		return // skipped: MinIO not built
	}
	assertRefused(t, strings.TrimPrefix(endpoint, "http://"))
}

func TestWaitForMessage(t *testing.T) {
	t.Parallel()
	mp := Mailpit(t)
	// Send after a delay, as the app does from a background goroutine.
	sent := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		msg := "To: Carol@Example.com\r\nSubject: Confirm your email\r\n\r\nCode: 654321\r\n"
		sent <- smtp.SendMail(mp.SMTPAddr, nil, "no-reply@localhost", []string{"Carol@Example.com"}, []byte(msg))
	}()
	got := WaitForMessage(t, mp, "carol@example.com", 10*time.Second)
	if err := <-sent; err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	if got.Subject != "Confirm your email" {
		t.Errorf("WaitForMessage().Subject = %q, want %q", got.Subject, "Confirm your email")
	}
	text, err := mp.Text(context.Background(), got.ID)
	if err != nil || !strings.Contains(text, "654321") {
		t.Errorf("Text() = %q, %v; want the code", text, err)
	}
}

func TestWaitForMessageTimesOut(t *testing.T) {
	t.Parallel()
	mp := Mailpit(t)
	f := &fakeTB{TB: t}
	start := time.Now()
	WaitForMessage(f, mp, "nobody@example.com", 300*time.Millisecond)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("WaitForMessage took %s with a 300ms timeout", elapsed)
	}
	if !strings.Contains(f.fatal, "no message to nobody@example.com") {
		t.Errorf("WaitForMessage failure = %q, want it to name the address", f.fatal)
	}
}

func TestChromiumPath(t *testing.T) {
	t.Run("CHROME_PATH wins", func(t *testing.T) {
		fake := filepath.Join(t.TempDir(), "my-chrome")
		if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("CHROME_PATH", fake)
		if got := ChromiumPath(t); got != fake {
			t.Errorf("ChromiumPath() = %q, want %q", got, fake)
		}
	})
	t.Run("missing CHROME_PATH skips outside CI", func(t *testing.T) {
		t.Setenv("CHROME_PATH", filepath.Join(t.TempDir(), "absent"))
		t.Setenv("CI", "")
		f := &fakeTB{TB: t}
		ChromiumPath(f)
		if !strings.Contains(f.skipped, "MISSING PREREQUISITE: Chromium") || f.fatal != "" {
			t.Errorf("skipped %q, failed %q; want a MISSING PREREQUISITE skip", f.skipped, f.fatal)
		}
	})
	t.Run("missing CHROME_PATH fails in CI", func(t *testing.T) {
		t.Setenv("CHROME_PATH", filepath.Join(t.TempDir(), "absent"))
		t.Setenv("CI", "true")
		f := &fakeTB{TB: t}
		ChromiumPath(f)
		if !strings.Contains(f.fatal, "MISSING PREREQUISITE: Chromium") || f.skipped != "" {
			t.Errorf("skipped %q, failed %q; want a MISSING PREREQUISITE failure", f.skipped, f.fatal)
		}
	})
}

// fakeTB records Skip and Fatal instead of stopping the goroutine, so a
// test can look at what a helper decided.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Skip(args ...any)                  { f.skipped = fmt.Sprint(args...) }
func (f *fakeTB) Skipf(format string, args ...any)  { f.skipped = fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatal(args ...any)                 { f.fatal = fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func envWithout(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, n := range names {
			if name == n {
				keep = false
			}
		}
		if keep {
			env = append(env, kv)
		}
	}
	return env
}

func mustExec(t *testing.T, dbURL, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func assertRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("dial %s succeeded after the test ended, want connection refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial %s error = %v, want connection refused", addr, err)
	}
}
