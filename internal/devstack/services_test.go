package devstack_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pinhole/pinhole/internal/devstack"
	"github.com/pinhole/pinhole/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestPostgresLifecycle(t *testing.T) {
	t.Parallel()
	_, err := devstack.FindPostgres()
	testenv.Require(t, err == nil, "PostgreSQL server binaries", "apt-get install postgresql")
	ctx := context.Background()

	start := time.Now()
	pg, err := devstack.StartPostgres(ctx, devstack.PostgresConfig{})
	if err != nil {
		t.Fatalf("StartPostgres() error = %v", err)
	}
	t.Cleanup(func() { pg.Close() })
	t.Logf("postgres ready in %s", time.Since(start).Round(time.Millisecond))

	if want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.Port); pg.URL != want {
		t.Errorf("URL = %q, want %q", pg.URL, want)
	}

	// A name that needs quoting proves the identifier is sanitized, not pasted.
	const name = `pinhole "test"-db`
	dbURL, err := pg.CreateDatabase(ctx, name)
	if err != nil {
		t.Fatalf("CreateDatabase() error = %v", err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", dbURL, err)
	}
	var one int
	var current string
	if err := conn.QueryRow(ctx, "SELECT 1, current_database()").Scan(&one, &current); err != nil {
		t.Fatalf("SELECT 1: %v", err)
	}
	conn.Close(ctx)
	if one != 1 || current != name {
		t.Errorf("SELECT 1, current_database() = %d, %q; want 1, %q", one, current, name)
	}

	start = time.Now()
	if err := pg.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	t.Logf("postgres closed in %s", time.Since(start).Round(time.Millisecond))
	if err := pg.Close(); err != nil {
		t.Errorf("second Close() error = %v, want nil", err)
	}
	assertRefused(t, fmt.Sprintf("127.0.0.1:%d", pg.Port))
	if _, err := os.Stat(pg.Dir); !os.IsNotExist(err) {
		t.Errorf("data dir %s after Close: Stat error = %v, want not-exist", pg.Dir, err)
	}
}

func TestMinIOStopStartClose(t *testing.T) {
	t.Parallel()
	bin := testenv.ToolPath(t, devstack.MinIOTool)
	ctx := context.Background()

	start := time.Now()
	m, err := devstack.StartMinIO(ctx, devstack.MinIOConfig{Binary: bin, CORSOrigin: "http://localhost:8080"})
	if err != nil {
		t.Fatalf("StartMinIO() error = %v", err)
	}
	t.Cleanup(func() { m.Close() })
	t.Logf("minio ready in %s", time.Since(start).Round(time.Millisecond))

	assertStatus(t, m.Endpoint+"/minio/health/cluster", http.StatusOK)
	assertRootCredentialsWork(t, m)
	assertCORS(t, m.Endpoint+"/survives-restart/photo.jpg", "http://localhost:8080", true)
	assertCORS(t, m.Endpoint+"/survives-restart/photo.jpg", "http://evil.example", false)

	start = time.Now()
	if err := m.Stop(); err != nil {
		t.Fatalf("Stop() error = %v", err)
	}
	t.Logf("minio stopped in %s", time.Since(start).Round(time.Millisecond))
	if err := m.Stop(); err != nil {
		t.Errorf("second Stop() error = %v, want nil", err)
	}
	assertRefused(t, strings.TrimPrefix(m.Endpoint, "http://"))
	if _, err := os.Stat(m.DataDir); err != nil {
		t.Errorf("data dir after Stop: %v, want it kept", err)
	}

	start = time.Now()
	if err := m.Start(ctx); err != nil {
		t.Fatalf("Start() after Stop error = %v", err)
	}
	t.Logf("minio restarted in %s", time.Since(start).Round(time.Millisecond))
	assertStatus(t, m.Endpoint+"/minio/health/cluster", http.StatusOK)
	assertBucketExists(t, m, "survives-restart")

	if err := m.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close() error = %v, want nil", err)
	}
	assertRefused(t, strings.TrimPrefix(m.Endpoint, "http://"))
	if _, err := os.Stat(m.DataDir); !os.IsNotExist(err) {
		t.Errorf("temp data dir after Close: Stat error = %v, want not-exist", err)
	}
	if err := m.Start(ctx); err == nil {
		t.Error("Start() after Close succeeded, want an error")
	}
}

func TestStartFailureShowsProcessOutput(t *testing.T) {
	t.Parallel()
	// A stand-in that dies at once, like MinIO does on a bad flag or a
	// taken port: the error must carry what it said.
	fake := filepath.Join(t.TempDir(), "minio")
	mustWrite(t, fake, "#!/bin/sh\necho 'FATAL something specific went wrong' >&2\nexit 1\n", 0o755)

	_, err := devstack.StartMinIO(context.Background(), devstack.MinIOConfig{Binary: fake, Addr: "127.0.0.1:1", ConsoleAddr: "127.0.0.1:2"})
	if err == nil {
		t.Fatal("StartMinIO() with a failing binary succeeded, want an error")
	}
	for _, want := range []string{"exited before it was ready", "FATAL something specific went wrong"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q, want it to contain %q", err, want)
		}
	}
}

func TestMailpitCatchesMail(t *testing.T) {
	t.Parallel()
	bin := testenv.ToolPath(t, devstack.MailpitTool)
	ctx := context.Background()

	start := time.Now()
	mp, err := devstack.StartMailpit(ctx, devstack.MailpitConfig{Binary: bin})
	if err != nil {
		t.Fatalf("StartMailpit() error = %v", err)
	}
	t.Cleanup(func() { mp.Close() })
	t.Logf("mailpit ready in %s", time.Since(start).Round(time.Millisecond))

	if want := "smtp://" + mp.SMTPAddr; mp.SMTPURL != want {
		t.Errorf("SMTPURL = %q, want %q", mp.SMTPURL, want)
	}
	// The app may be configured with or without credentials; both must work.
	host, _, _ := net.SplitHostPort(mp.SMTPAddr)
	sends := []struct {
		to   string
		auth smtp.Auth
	}{
		{"alice@example.com", nil},
		{"bob@example.com", smtp.PlainAuth("", "any-user", "any-password", host)},
	}
	for _, s := range sends {
		msg := "From: Pinhole <no-reply@localhost>\r\nTo: " + s.to + "\r\nSubject: Your code for " + s.to +
			"\r\n\r\nYour code is 123456.\r\n"
		if err := smtp.SendMail(mp.SMTPAddr, s.auth, "no-reply@localhost", []string{s.to}, []byte(msg)); err != nil {
			t.Fatalf("SendMail(to %s, auth %v) error = %v", s.to, s.auth != nil, err)
		}
	}

	msgs, err := mp.Messages(ctx)
	if err != nil {
		t.Fatalf("Messages() error = %v", err)
	}
	if len(msgs) != len(sends) {
		t.Fatalf("Messages() returned %d messages, want %d: %+v", len(msgs), len(sends), msgs)
	}
	// Newest first.
	got := msgs[0]
	if got.From != "no-reply@localhost" || len(got.To) != 1 || got.To[0] != "bob@example.com" ||
		got.Subject != "Your code for bob@example.com" || time.Since(got.Created) > time.Minute {
		t.Errorf("Messages()[0] = %+v, want the message to bob, from no-reply@localhost, just created", got)
	}
	text, err := mp.Text(ctx, got.ID)
	if err != nil {
		t.Fatalf("Text() error = %v", err)
	}
	if !strings.Contains(text, "Your code is 123456.") {
		t.Errorf("Text() = %q, want it to contain the code", text)
	}

	if err := mp.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if err := mp.Close(); err != nil {
		t.Errorf("second Close() error = %v, want nil", err)
	}
	assertRefused(t, mp.SMTPAddr)
}

func TestFreePort(t *testing.T) {
	t.Parallel()
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatalf("FreePort() error = %v", err)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("listen on the free port %d: %v", port, err)
	}
	l.Close()
}

func assertStatus(t *testing.T, url string, want int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Errorf("GET %s = %d, want %d", url, resp.StatusCode, want)
	}
}

// assertCORS sends a browser's preflight for a PUT upload and checks
// whether MinIO allows origin, proving CORSOrigin reached the server.
func assertCORS(t *testing.T, url, origin string, wantAllowed bool) {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPut)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("OPTIONS %s: %v", url, err)
	}
	resp.Body.Close()
	got := resp.Header.Get("Access-Control-Allow-Origin")
	if allowed := got == origin; allowed != wantAllowed {
		t.Errorf("preflight from %s: Access-Control-Allow-Origin = %q (status %d), want allowed = %v", origin, got, resp.StatusCode, wantAllowed)
	}
}

// assertRefused checks that nothing listens on addr any more.
func assertRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("dial %s succeeded, want connection refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial %s error = %v, want connection refused", addr, err)
	}
}

// assertRootCredentialsWork proves the generated root credentials were
// really handed to MinIO, by creating a bucket with them.
func assertRootCredentialsWork(t *testing.T, m *devstack.MinIO) {
	t.Helper()
	client := minioClient(t, m)
	if err := client.MakeBucket(context.Background(), "survives-restart", minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket with root credentials: %v", err)
	}
}

func assertBucketExists(t *testing.T, m *devstack.MinIO, bucket string) {
	t.Helper()
	ok, err := minioClient(t, m).BucketExists(context.Background(), bucket)
	if err != nil || !ok {
		t.Errorf("BucketExists(%q) = %v, %v; want true, nil", bucket, ok, err)
	}
}

func minioClient(t *testing.T, m *devstack.MinIO) *minio.Client {
	t.Helper()
	u, err := url.Parse(m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	client, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(m.RootUser, m.RootPassword, "")})
	if err != nil {
		t.Fatal(err)
	}
	return client
}
