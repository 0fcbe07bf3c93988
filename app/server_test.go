package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity/password"
	"github.com/pinhole/pinhole/storage"
)

// pingerFunc adapts a function to Pinger. Readiness logic is pure routing of
// answers, so fakes are enough here; cmd/pinhole tests it against real services.
type pingerFunc func(ctx context.Context) error

func (f pingerFunc) Ping(ctx context.Context) error { return f(ctx) }

var (
	up   = pingerFunc(func(context.Context) error { return nil })
	down = pingerFunc(func(context.Context) error { return errors.New("connection refused") })
)

func newTestServer(t *testing.T, db, objects Pinger) *echo.Echo {
	t.Helper()
	cfg, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	return NewServer(Deps{Config: cfg, DB: db, Storage: objects})
}

func do(t *testing.T, h http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		db, objects Pinger
		wantStatus  int
		wantChecks  map[string]string
	}{
		{"all up", up, up, http.StatusOK, map[string]string{"database": "ok", "storage": "ok"}},
		{"storage down", up, down, http.StatusServiceUnavailable, map[string]string{"database": "ok", "storage": "unavailable"}},
		{"database down", down, up, http.StatusServiceUnavailable, map[string]string{"database": "unavailable", "storage": "ok"}},
		{"storage missing", up, nil, http.StatusServiceUnavailable, map[string]string{"database": "ok", "storage": "unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := do(t, newTestServer(t, tt.db, tt.objects), http.MethodGet, "/readyz", nil)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			var body readiness
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("decode %q: %v", rec.Body, err)
			}
			for k, want := range tt.wantChecks {
				if got := body.Checks[k]; got != want {
					t.Errorf("checks[%s] = %q, want %q", k, got, want)
				}
			}
			if strings.Contains(rec.Body.String(), "refused") {
				t.Errorf("body %q leaks the failure reason", rec.Body)
			}
		})
	}
}

func TestHealthzIgnoresDependencies(t *testing.T) {
	t.Parallel()
	rec := do(t, newTestServer(t, down, down), http.MethodGet, "/healthz", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200 even with dependencies down", rec.Code)
	}
}

func TestHomePage(t *testing.T) {
	t.Parallel()
	rec := do(t, newTestServer(t, up, up), http.MethodGet, "/", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{"<h1>", `href="/signup"`, `href="/signin"`, `href="/static/app.css"`} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	h := rec.Header()
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Content-Type":           "text/html; charset=UTF-8",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "connect-src 'self' http://localhost:9000"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if h.Get(echo.HeaderXRequestID) == "" {
		t.Error("response has no X-Request-Id")
	}
}

func TestStaticAssets(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, up, up)
	rec := do(t, srv, http.MethodGet, "/static/app.css", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /static/app.css status = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q, want text/css", ct)
	}
	if rec := do(t, srv, http.MethodGet, "/static/../config.go", nil); rec.Code == http.StatusOK {
		t.Errorf("path traversal served %q", rec.Body.String()[:min(40, rec.Body.Len())])
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, up, up)
	tests := []struct {
		name, path string
		header     map[string]string
		wantType   string
		wantBody   string
	}{
		{"page", "/no/such/page", map[string]string{"Accept": "text/html"}, "text/html", "Page not found"},
		{"api", "/api/nothing", nil, "application/json", `"error":"not_found"`},
		{"json client", "/nothing", map[string]string{"Accept": "application/json"}, "application/json", `"error":"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, srv, http.MethodGet, tt.path, tt.header)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("status = %d, want 404", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type = %q, want %s", ct, tt.wantType)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body %q lacks %q", rec.Body, tt.wantBody)
			}
		})
	}
}

// TestErrorsNeverLeakInternals drives handlers that fail in different ways
// through the real router and error handler.
func TestErrorsNeverLeakInternals(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, up, up)
	srv.GET("/api/boom", func(echo.Context) error {
		return fmt.Errorf("query users: %w", errors.New("pq: password authentication failed for user secret"))
	})
	srv.GET("/api/storage", func(echo.Context) error { return fmt.Errorf("vend: %w", storage.ErrUnavailable) })
	srv.GET("/api/panic", func(echo.Context) error { panic("nil map in secret place") })
	srv.GET("/api/busy", func(echo.Context) error { return fmt.Errorf("identity: verify password: %w", password.ErrBusy) })
	srv.GET("/boom", func(echo.Context) error { return errors.New("template exploded at secret line") })

	tests := []struct {
		path       string
		wantStatus int
		wantCode   string
	}{
		{"/api/boom", http.StatusInternalServerError, "internal_error"},
		{"/api/storage", http.StatusServiceUnavailable, "storage_unavailable"},
		{"/api/panic", http.StatusInternalServerError, "internal_error"},
		// The hasher at capacity: a flood is shed with 429, not queued into a timeout.
		{"/api/busy", http.StatusTooManyRequests, "busy"},
	}
	for _, tt := range tests {
		rec := do(t, srv, http.MethodGet, tt.path, nil)
		if rec.Code != tt.wantStatus {
			t.Errorf("%s: status = %d, want %d", tt.path, rec.Code, tt.wantStatus)
		}
		var body APIError
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: decode %q: %v", tt.path, rec.Body, err)
		}
		if body.Code != tt.wantCode || body.Message == "" {
			t.Errorf("%s: body = %+v, want code %q and a message", tt.path, body, tt.wantCode)
		}
		if strings.Contains(rec.Body.String(), "secret") {
			t.Errorf("%s: body %q leaks internals", tt.path, rec.Body)
		}
	}
	if got := do(t, srv, http.MethodGet, "/api/busy", nil).Header().Get("Retry-After"); got != "1" {
		t.Errorf("busy Retry-After = %q, want 1", got)
	}
	if got := do(t, srv, http.MethodGet, "/api/storage", nil).Header().Get("Retry-After"); got == "" {
		t.Error("503 without Retry-After")
	}

	rec := do(t, srv, http.MethodGet, "/boom", map[string]string{"Accept": "text/html"})
	page, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(string(page), "Something went wrong") {
		t.Errorf("HTML 500 = %d %q, want the error page", rec.Code, page)
	}
	if strings.Contains(string(page), "secret") {
		t.Errorf("HTML 500 leaks internals: %q", page)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, up, up)
	srv.POST("/api/echo", func(c echo.Context) error {
		_, err := io.ReadAll(c.Request().Body)
		return err
	})
	req := httptest.NewRequest(http.MethodPost, "/api/echo", strings.NewReader(strings.Repeat("x", maxBodyBytes+1)))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "request_too_large") {
		t.Errorf("oversized body: %d %q, want 413 request_too_large", rec.Code, rec.Body)
	}
}

// TestClientIPCannotBeForged: without trusted proxies, X-Forwarded-For is
// ignored (else anyone could dodge per-IP throttles); with one, it is read.
func TestClientIPCannotBeForged(t *testing.T) {
	t.Parallel()
	_, proxy, _ := net.ParseCIDR("10.0.0.0/8")
	tests := []struct {
		name    string
		trusted []*net.IPNet
		remote  string
		want    string
	}{
		{"direct client", nil, "203.0.113.7:5555", "203.0.113.7"},
		{"behind trusted proxy", []*net.IPNet{proxy}, "10.1.2.3:5555", "198.51.100.9"},
		{"untrusted hop", []*net.IPNet{proxy}, "203.0.113.7:5555", "203.0.113.7"},
	}
	for _, tt := range tests {
		cfg := mustConfig(t)
		cfg.TrustedProxies = tt.trusted
		srv := NewServer(Deps{Config: cfg})
		var got string
		srv.GET("/ip", func(c echo.Context) error { got = c.RealIP(); return nil })
		req := httptest.NewRequest(http.MethodGet, "/ip", nil)
		req.RemoteAddr = tt.remote
		req.Header.Set("X-Forwarded-For", "198.51.100.9")
		req.Header.Set("X-Real-IP", "198.51.100.9")
		srv.ServeHTTP(httptest.NewRecorder(), req)
		if got != tt.want {
			t.Errorf("%s: RealIP = %q, want %q", tt.name, got, tt.want)
		}
	}
}
