package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/storage"
)

// shutdownGrace is how long in-flight requests get to finish after SIGTERM.
const shutdownGrace = 10 * time.Second

// serve runs the app until ctx is cancelled, then shuts down gracefully.
func serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stdout, cfg)

	db, err := database.Open(ctx, cfg.DatabaseURL, database.Options{DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return err
	}
	defer db.Close()

	ids, mail, err := newUserPool(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	if cfg.SMTPURL == nil {
		log.Warn("SMTP_URL is not set: emails (with their codes) are written to this log; set SMTP_URL for real delivery")
	}
	// On the way out, mail still queued is delivered (for up to
	// shutdownGrace) before the process exits.
	defer closeMail(mail, log, shutdownGrace)
	pool, err := newIdentityPool(ctx, cfg, db, log)
	if err != nil {
		return err
	}

	handler := app.NewServer(app.Deps{
		Config: cfg, Logger: log, DB: db, Storage: pool.objects,
		Identity: ids, Broker: pool.broker, Photos: pool.gallery,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("%s: cannot listen: %w", app.EnvAddr, err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// MinIO may still be starting (or down); the app serves anyway and /readyz
	// says not-ready until the bucket exists.
	go ensureBucket(ctx, log, pool.objects)
	go purgeEvery(ctx, log, ids, purgeInterval)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("pinhole is listening", "addr", ln.Addr().String(), "url", cfg.BaseURL.String(),
		"database", db.Dialect, "minio", cfg.MinIO.Endpoint.String(), "bucket", cfg.MinIO.Bucket)

	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", shutdownGrace)
	shutdownCtx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("http server shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("stopped")
	return nil
}

// ensureBucket creates the photo bucket, retrying with backoff until it
// succeeds or the server stops, so start-up order between the app and MinIO
// does not matter.
func ensureBucket(ctx context.Context, log *slog.Logger, objects *storage.Client) {
	delay := 500 * time.Millisecond
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := objects.EnsureBucket(attemptCtx)
		cancel()
		if err == nil {
			log.Info("photo bucket ready", "bucket", objects.Bucket())
			return
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("photo bucket not ready; retrying", "bucket", objects.Bucket(), "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// newLogger builds the structured logger: text for people at a terminal,
// JSON (PINHOLE_LOG_FORMAT=json) for log collectors.
func newLogger(w io.Writer, cfg app.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
