package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/pinhole/pinhole/app"
)

// healthcheck asks the server on this machine whether it is ready. Container
// images built FROM scratch/distroless have no curl, so the binary checks itself.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	addr := getenv(app.EnvAddr)
	if addr == "" {
		addr = app.DefaultAddr
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s: %w", app.EnvAddr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort("127.0.0.1", port)+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /readyz answered %s", resp.Status)
	}
	return nil
}
