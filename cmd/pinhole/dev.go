package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/internal/devstack"
)

// Development-only MinIO root credentials used by `pinhole dev` when none are
// set. They guard a MinIO bound to 127.0.0.1 with data under ./.data; never use
// root credentials (these or any) for a deployed app: see the README.
const (
	devMinIOUser     = "pinhole-dev"
	devMinIOPassword = "pinhole-dev-secret"
	// envDevMailpit turns on a local Mailpit so mail can be read in a browser.
	envDevMailpit = "PINHOLE_DEV_MAILPIT"
)

// dev starts the local services the embedded defaults need (MinIO, and Mailpit
// when asked), then serves. Everything it started is stopped when ctx ends.
func dev(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	env := map[string]string{}
	withDefaults := withDevMinIOCredentials(getenv)
	lookup := func(name string) string {
		if v, ok := env[name]; ok {
			return v
		}
		return withDefaults(name)
	}
	// Validate before a first run spends ten minutes building MinIO.
	cfg, err := app.LoadConfig(lookup)
	if err != nil {
		return err
	}
	binDir, err := devstack.BinDir()
	if err != nil {
		return err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stdout, "pinhole dev: "+format+"\n", args...) }

	// A MINIO_ENDPOINT set by hand means "use my MinIO": start none.
	if getenv(app.EnvMinIOEndpoint) == "" {
		mc, err := startDevMinIO(ctx, cfg, binDir, stdout, logf)
		if err != nil {
			return err
		}
		defer func() {
			logf("stopping MinIO")
			mc.Close()
		}()
	}

	if isTrue(getenv(envDevMailpit)) && getenv(app.EnvSMTPURL) == "" {
		bin, err := devstack.MailpitTool.Ensure(ctx, binDir, stdout)
		if err != nil {
			return err
		}
		mp, err := devstack.StartMailpit(ctx, devstack.MailpitConfig{Binary: bin, SMTPAddr: "127.0.0.1:1025", HTTPAddr: "127.0.0.1:8025"})
		if err != nil {
			return fmt.Errorf("start mailpit: %w", err)
		}
		defer func() {
			logf("stopping Mailpit")
			mp.Close()
		}()
		env[app.EnvSMTPURL] = mp.SMTPURL
		logf("Mailpit is reading mail at %s", mp.WebURL)
	}

	return serve(ctx, lookup, stdout)
}

// startDevMinIO builds MinIO on first use and runs it on the configured
// endpoint's port, loopback only, with its data under the data directory.
func startDevMinIO(ctx context.Context, cfg app.Config, binDir string, stdout io.Writer, logf func(string, ...any)) (*devstack.MinIO, error) {
	bin, err := devstack.MinIOTool.Ensure(ctx, binDir, stdout)
	if err != nil {
		return nil, err
	}
	port := cfg.MinIO.Endpoint.Port()
	if port == "" {
		port = "80"
	}
	origin := cfg.BaseURL.Scheme + "://" + cfg.BaseURL.Host
	logf("starting MinIO on 127.0.0.1:%s (data in %s)", port, filepath.Join(cfg.DataDir, "minio"))
	mc, err := devstack.StartMinIO(ctx, devstack.MinIOConfig{
		Binary:       bin,
		DataDir:      filepath.Join(cfg.DataDir, "minio"),
		Addr:         net.JoinHostPort("127.0.0.1", port),
		RootUser:     cfg.MinIO.AccessKey,
		RootPassword: cfg.MinIO.SecretKey,
		CORSOrigin:   origin,
	})
	if err != nil {
		return nil, fmt.Errorf("start minio on port %s (is another MinIO running? set MINIO_ENDPOINT to use it): %w", port, err)
	}
	return mc, nil
}

// withDevMinIOCredentials supplies the development MinIO identity when the
// environment names none.
func withDevMinIOCredentials(getenv func(string) string) func(string) string {
	if getenv(app.EnvMinIOAccessKey) != "" || getenv(app.EnvMinIOSecretKey) != "" {
		return getenv
	}
	return func(name string) string {
		switch name {
		case app.EnvMinIOAccessKey:
			return devMinIOUser
		case app.EnvMinIOSecretKey:
			return devMinIOPassword
		}
		return getenv(name)
	}
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}
