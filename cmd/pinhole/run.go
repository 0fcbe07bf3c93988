package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

const usage = `usage: pinhole <command>

commands:
  serve        run the app against the services named in the environment
  dev          start local MinIO (and Mailpit with PINHOLE_DEV_MAILPIT=1), then serve
  healthcheck  exit 0 if the server on PINHOLE_ADDR reports ready
  tools        build MinIO and Mailpit from their pinned Go modules into ./bin
  rotate-keys  make a new token signing key active (old tokens stay valid until they expire)
  purge        delete expired codes, ended sessions and audit events past retention, once
               (serve does this every hour by itself)
  groups add|remove EMAIL GROUP
               put a user in a group or take them out (groups travel in tokens)
  help         show this text

Configuration is read from the environment only; see README.md or .env.example.
`

// errUsage is returned for an unknown or missing command, after printing usage.
var errUsage = errors.New("unknown command (see `pinhole help`)")

// run is the whole program with its environment passed in, so tests can start
// the real server in-process with a fake environment and a cancellable context.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch cmd := args[1]; cmd {
	case "serve":
		return serve(ctx, getenv, stdout)
	case "dev":
		return dev(ctx, getenv, stdout)
	case "healthcheck":
		return healthcheck(ctx, getenv)
	case "tools":
		return tools(ctx, stdout)
	case "rotate-keys":
		return rotateKeys(ctx, getenv, stdout)
	case "purge":
		return purge(ctx, getenv, stdout)
	case "groups":
		return groups(ctx, args[2:], getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%q: %w", cmd, errUsage)
	}
}
