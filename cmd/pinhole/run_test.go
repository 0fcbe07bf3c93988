package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/internal/devstack"
	"github.com/pinhole/pinhole/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// lockedBuffer collects the server's log; the server writes from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runningApp is a Pinhole started through run(), exactly as main starts it.
type runningApp struct {
	URL string
	Log *lockedBuffer
}

// startApp runs `pinhole serve` in-process with env as its whole environment,
// waits until it answers /healthz and stops it when the test ends.
func startApp(t *testing.T, env map[string]string) *runningApp {
	t.Helper()
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	vars := map[string]string{
		app.EnvAddr:     fmt.Sprintf("127.0.0.1:%d", port),
		app.EnvBaseURL:  fmt.Sprintf("http://127.0.0.1:%d", port),
		app.EnvDataDir:  t.TempDir(),
		app.EnvLogLevel: "debug",
	}
	for k, v := range env {
		vars[k] = v
	}
	a := &runningApp{URL: vars[app.EnvBaseURL], Log: &lockedBuffer{}}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"pinhole", "serve"}, func(k string) string { return vars[k] }, a.Log, a.Log)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after shutdown, want nil", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("serve did not stop within 15s of cancellation")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", a.Log)
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("serve exited during start-up: %v\n%s", err, a.Log)
		default:
		}
		if resp, err := http.Get(a.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer /healthz within 30s\n%s", a.Log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStatus polls path until it answers want, failing after timeout.
func waitStatus(t *testing.T, url string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: want %d within %s, last answer: %s", url, want, timeout, last)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// minioEnv points the app at a test MinIO with its root identity.
func minioEnv(m *devstack.MinIO) map[string]string {
	return map[string]string{
		app.EnvMinIOEndpoint:  m.Endpoint,
		app.EnvMinIOAccessKey: m.RootUser,
		app.EnvMinIOSecretKey: m.RootPassword,
		app.EnvMinIOBucket:    "photos-test",
	}
}

// TestServeAgainstRealServices starts the app the way production does, on
// each database dialect, against a real MinIO: it must become ready, create its
// bucket, serve the home page, and follow MinIO going away and coming back.
func TestServeAgainstRealServices(t *testing.T) {
	dialects := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"embedded", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return testenv.PostgresURL(t) }},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			objects := testenv.MinIO(t)
			env := minioEnv(objects)
			env[app.EnvDatabaseURL] = d.url(t)
			a := startApp(t, env)

			waitStatus(t, a.URL+"/readyz", http.StatusOK, 30*time.Second)
			if !strings.Contains(a.Log.String(), "database="+d.name) && !(d.name == "embedded" && strings.Contains(a.Log.String(), "database=sqlite")) {
				t.Errorf("log does not say which database is in use:\n%s", a.Log)
			}
			assertBucketExists(t, objects, "photos-test")

			status, body := get(t, a.URL+"/")
			if status != http.StatusOK || !strings.Contains(body, "<h1>Your photos, your pinhole.</h1>") {
				t.Errorf("GET / = %d, want 200 with the home heading; body:\n%s", status, body)
			}

			// MinIO goes away: not ready, but pages still render.
			if err := objects.Stop(); err != nil {
				t.Fatalf("stop minio: %v", err)
			}
			waitStatus(t, a.URL+"/readyz", http.StatusServiceUnavailable, 15*time.Second)
			_, body = get(t, a.URL+"/readyz")
			if !strings.Contains(body, `"storage":"unavailable"`) || !strings.Contains(body, `"database":"ok"`) {
				t.Errorf("/readyz body = %s, want storage unavailable and database ok", body)
			}
			if status, _ := get(t, a.URL+"/"); status != http.StatusOK {
				t.Errorf("GET / with MinIO down = %d, want 200", status)
			}

			// And comes back.
			if err := objects.Start(context.Background()); err != nil {
				t.Fatalf("restart minio: %v", err)
			}
			waitStatus(t, a.URL+"/readyz", http.StatusOK, 30*time.Second)
		})
	}
}

// TestServeCreatesBucketWhenMinIOStartsLate covers compose-style start-up where
// the app may come up before MinIO: it must keep trying and become ready.
func TestServeCreatesBucketWhenMinIOStartsLate(t *testing.T) {
	t.Parallel()
	objects := testenv.MinIO(t)
	if err := objects.Stop(); err != nil {
		t.Fatalf("stop minio: %v", err)
	}
	a := startApp(t, minioEnv(objects))
	waitStatus(t, a.URL+"/readyz", http.StatusServiceUnavailable, 10*time.Second)
	if err := objects.Start(context.Background()); err != nil {
		t.Fatalf("start minio: %v", err)
	}
	waitStatus(t, a.URL+"/readyz", http.StatusOK, 45*time.Second)
	assertBucketExists(t, objects, "photos-test")
}

func assertBucketExists(t *testing.T, m *devstack.MinIO, bucket string) {
	t.Helper()
	endpoint := strings.TrimPrefix(m.Endpoint, "http://")
	c, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.RootUser, m.RootPassword, "")})
	if err != nil {
		t.Fatalf("minio client: %v", err)
	}
	ok, err := c.BucketExists(context.Background(), bucket)
	if err != nil || !ok {
		t.Fatalf("bucket %q exists = %v, %v; want true", bucket, ok, err)
	}
}

// TestBadConfigStopsStartup checks that misconfiguration ends start-up with
// one line naming the problem, instead of a server that half works.
func TestBadConfigStopsStartup(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		app.EnvAddr:           "127.0.0.1:0",
		app.EnvMinIOAccessKey: "pinhole",
		app.EnvMinIOSecretKey: "pinhole-secret",
	}
	tests := []struct {
		name     string
		env      map[string]string
		wantText string
	}{
		{"unreachable postgres", map[string]string{app.EnvDatabaseURL: "postgres://pinhole:s3cr3tpw@nohost.invalid:5432/pinhole?connect_timeout=3"}, "database"},
		{"unknown database scheme", map[string]string{app.EnvDatabaseURL: "mysql://db/x"}, app.EnvDatabaseURL},
		{"minio endpoint without scheme", map[string]string{app.EnvMinIOEndpoint: "minio:9000"}, app.EnvMinIOEndpoint},
		{"missing secret", map[string]string{app.EnvMinIOSecretKey: ""}, app.EnvMinIOSecretKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{app.EnvDataDir: t.TempDir()}
			for k, v := range base {
				vars[k] = v
			}
			for k, v := range tt.env {
				vars[k] = v
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			err := run(ctx, []string{"pinhole", "serve"}, func(k string) string { return vars[k] }, &out, &out)
			if err == nil {
				t.Fatal("serve started, want a start-up error")
			}
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				t.Fatalf("start-up hung until the test deadline: %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantText) {
				t.Errorf("error %q does not name %q", msg, tt.wantText)
			}
			if strings.Contains(msg, "s3cr3tpw") {
				t.Errorf("error %q leaks the database password", msg)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"pinhole", "frobnicate"}, func(string) string { return "" }, io.Discard, &stderr)
	if !errors.Is(err, errUsage) {
		t.Errorf("run(frobnicate) = %v, want errUsage", err)
	}
	if !strings.Contains(stderr.String(), "usage: pinhole") {
		t.Errorf("stderr = %q, want usage text", stderr.String())
	}
}
