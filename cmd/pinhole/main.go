// Command pinhole runs the Pinhole photo app: its user pool, its identity pool
// and its pages, from one binary.
//
//	pinhole serve        run against the services named in the environment
//	pinhole dev          start local MinIO (and Mailpit) first, then serve; what `make run` calls
//	pinhole healthcheck  exit 0 when the local server reports ready (for container health checks)
//
// Configuration comes only from the environment; see the README.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		// One line, so the reason is the last thing an operator sees.
		fmt.Fprintf(os.Stderr, "pinhole: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		os.Exit(1)
	}
}
