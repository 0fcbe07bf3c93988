package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/internal/database"
)

// Administrative commands run against the same database as the server and
// take effect for every replica, because keys and users live there.

// rotateKeys makes a new signing key the one that signs. Tokens signed by the
// old key stay valid (and its public key stays in the JWKS) until they expire.
func rotateKeys(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	return withUserPool(ctx, getenv, stdout, func(ids *identity.Service) error {
		kid, err := ids.Tokens().Rotate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new signing key %s is active; the previous key stays published until its tokens expire\n", kid)
		return nil
	})
}

// groups adds a user to a group or removes them: pinhole groups add|remove EMAIL GROUP.
func groups(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 3 || (args[0] != "add" && args[0] != "remove") {
		return fmt.Errorf("usage: pinhole groups add|remove EMAIL GROUP")
	}
	return withUserPool(ctx, getenv, stdout, func(ids *identity.Service) error {
		var err error
		if args[0] == "add" {
			err = ids.AddToGroup(ctx, args[1], args[2])
		} else {
			err = ids.RemoveFromGroup(ctx, args[1], args[2])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s %s (takes effect in the user's next tokens)\n", args[1], args[0], args[2])
		return nil
	})
}

// withUserPool opens the configured database and user pool for one command.
// These commands never touch MinIO, so its credentials may be left unset.
func withUserPool(ctx context.Context, getenv func(string) string, stdout io.Writer, fn func(*identity.Service) error) error {
	cfg, err := app.LoadConfig(withDevMinIOCredentials(getenv))
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
	defer closeMail(mail, log, 10*time.Second)
	return fn(ids)
}
