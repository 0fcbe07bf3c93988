package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/pinhole/pinhole/identity"
)

// purgeInterval is how often `pinhole serve` purges the user pool. Nothing
// depends on the purge for correctness (it only removes rows no flow would
// accept), so the interval only bounds how much dead data piles up.
const purgeInterval = time.Hour

// purgeEvery purges the user pool one minute after start-up (so that a
// server restarting in a crash loop does not purge in a loop too) and then
// every interval, until ctx ends. Several replicas purging at once is fine:
// each statement deletes what is dead, and a row deleted twice is deleted.
func purgeEvery(ctx context.Context, log *slog.Logger, ids *identity.Service, interval time.Duration) {
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		report, err := ids.Purge(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("purge failed; will try again", "err", err, "retry_in", interval)
		case err == nil:
			log.Info("purged the user pool", "rows", report.Total(), "took", time.Since(start).Round(time.Millisecond),
				"codes", report.Codes, "sessions", report.Sessions, "refresh_tokens", report.RefreshTokens,
				"throttle_windows", report.ThrottleWindows, "throttle_attempts", report.ThrottleAttempts,
				"events", report.Events)
		}
		timer.Reset(interval)
	}
}

// purge is `pinhole purge`: one purge now, for operators who would rather
// run it from cron (or before a backup) than wait for the hourly one. It
// prints what it removed as one JSON object.
func purge(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	return withUserPool(ctx, getenv, stdout, func(ids *identity.Service) error {
		report, err := ids.Purge(ctx)
		if err != nil {
			return err
		}
		out, err := json.Marshal(report)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", out)
		return nil
	})
}
