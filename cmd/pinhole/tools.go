package main

import (
	"context"
	"fmt"
	"io"

	"github.com/pinhole/pinhole/internal/devstack"
)

// tools builds the local services from their pinned Go modules into ./bin.
// `make test` runs it first so that a ten-minute MinIO build never eats into
// a test's timeout; the versions live in one place, package devstack.
func tools(ctx context.Context, stdout io.Writer) error {
	binDir, err := devstack.BinDir()
	if err != nil {
		return err
	}
	for _, t := range []devstack.Tool{devstack.MinIOTool, devstack.MailpitTool} {
		path, err := t.Ensure(ctx, binDir, stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s@%s ready at %s\n", t.Name, t.Version, path)
	}
	return nil
}
