package app

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// readyTimeout bounds each dependency check so a hung database cannot hang the
// probe (orchestrators give probes a few seconds at most).
const readyTimeout = 2 * time.Second

// handleHealthz is liveness: the process is up and serving HTTP. It checks no
// dependency, so a database outage never gets the app restarted in a loop.
func (s *server) handleHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readiness is the /readyz body. Checks say only "ok" or "unavailable": the
// probe is public, so the reasons go to the log, not the response.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// handleReadyz is readiness: 200 only when the database and MinIO both answer,
// so a load balancer sends traffic only to instances that can serve it.
func (s *server) handleReadyz(c echo.Context) error {
	ctx := c.Request().Context()
	checks := map[string]Pinger{"database": s.db, "storage": s.storage}
	res := readiness{Status: "ready", Checks: make(map[string]string, len(checks))}
	status := http.StatusOK
	for name, p := range checks {
		if err := ping(ctx, p); err != nil {
			s.log.WarnContext(ctx, "readiness check failed", "check", name, "err", err)
			res.Checks[name] = "unavailable"
			res.Status = "unavailable"
			status = http.StatusServiceUnavailable
			continue
		}
		res.Checks[name] = "ok"
	}
	return c.JSON(status, res)
}

func ping(ctx context.Context, p Pinger) error {
	if p == nil {
		return errNotConfigured
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return p.Ping(ctx)
}
