package app

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// maxBodyBytes caps every request body. Pinhole's API takes small JSON
// documents only (photo bytes go straight to MinIO), so anything larger is a
// mistake or an attack and gets 413 before it is read into memory.
const maxBodyBytes = 64 << 10

// useMiddleware installs what every request passes through, outermost first.
func (s *server) useMiddleware(e *echo.Echo) {
	e.Use(middleware.RequestID())
	e.Use(s.logRequests())
	e.Use(s.recoverPanics())
	e.Use(securityHeaders(s.cfg))
	e.Use(middleware.BodyLimit(fmt.Sprintf("%dB", maxBodyBytes)))
}

// logRequests writes one structured line per request.
func (s *server) logRequests() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod: true, LogURIPath: true, LogStatus: true, LogLatency: true,
		LogRequestID: true, LogRemoteIP: true, LogError: true,
		Skipper: func(c echo.Context) bool {
			// Probes hit these every few seconds; logging them drowns real traffic.
			p := c.Request().URL.Path
			return p == "/healthz" || p == "/readyz"
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			s.log.LogAttrs(c.Request().Context(), level, "http request",
				slog.String("method", v.Method), slog.String("path", v.URIPath),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency),
				slog.String("ip", v.RemoteIP), slog.String("request_id", v.RequestID))
			return nil
		},
	})
}

// recoverPanics turns a panicking handler into a logged 500 instead of a
// dropped connection.
func (s *server) recoverPanics() echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisablePrintStack: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.ErrorContext(c.Request().Context(), "panic in handler", "err", err, "stack", string(stack))
			return err
		},
	})
}

// securityHeaders sets the browser-side defences every page gets. The content
// security policy allows scripts and styles from our own origin only, and
// network/image access to MinIO's public URL, where the browser uploads photos
// and loads presigned images.
func securityHeaders(cfg Config) echo.MiddlewareFunc {
	minio := ""
	if cfg.MinIO.PublicURL != nil {
		minio = " " + cfg.MinIO.PublicURL.Scheme + "://" + cfg.MinIO.PublicURL.Host
	}
	csp := strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data: blob:" + minio,
		"connect-src 'self'" + minio,
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if c.Request().TLS != nil || (cfg.BaseURL != nil && cfg.BaseURL.Scheme == "https") {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			return next(c)
		}
	}
}
