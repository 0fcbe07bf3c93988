package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// minioStartTimeout covers a cold first start on a slow 2-core machine,
// where MinIO formats its data dir before it answers health checks.
const minioStartTimeout = 60 * time.Second

// MinIOConfig describes one MinIO server. Zero values give a throwaway
// server on free loopback ports, which is what tests want.
type MinIOConfig struct {
	Binary       string    // path to the minio binary, usually MinIOTool.Path(BinDir())
	DataDir      string    // empty = a new temp dir, removed by Close; set it to keep objects across runs
	Addr         string    // host:port for the S3 API; empty = 127.0.0.1:<free port>
	ConsoleAddr  string    // host:port for MinIO's web console; empty = 127.0.0.1:<free port>
	RootUser     string    // empty = a generated random dev value
	RootPassword string    // empty = a generated random dev value
	CORSOrigin   string    // sets MINIO_API_CORS_ALLOW_ORIGIN (comma-separated); empty keeps MinIO's default, "*"
	Log          io.Writer // process output; nil = discard (the tail still appears in start-up errors)
}

// MinIO is a running (or deliberately stopped) MinIO server.
type MinIO struct {
	Endpoint     string // http://host:port of the S3 API
	ConsoleURL   string // http://host:port of the web console
	RootUser     string // the root access key, for creating the broker's own user
	RootPassword string // the root secret key
	DataDir      string // where objects live; survives Stop, removed by Close only if it was a temp dir

	mu      sync.Mutex
	cfg     MinIOConfig // resolved: addresses, credentials and data dir filled in
	scratch string      // our temp dir: certs dir, and the data dir unless the caller gave one
	proc    *process    // nil while stopped
	tail    *tailBuffer // shared across restarts, so errors show the latest output
	client  *http.Client
	closed  bool
}

// StartMinIO starts a MinIO server and returns once /minio/health/cluster
// answers 200. That is the one health endpoint that waits for the object
// layer, bucket metadata and IAM: /minio/health/live and /ready answer 200
// while those still initialise, and a request made then (creating a bucket,
// an STS call) fails with "Server not initialized yet".
func StartMinIO(ctx context.Context, cfg MinIOConfig) (*MinIO, error) {
	if cfg.Binary == "" {
		return nil, errors.New("devstack: MinIOConfig.Binary is empty")
	}
	scratch, err := os.MkdirTemp("", "pinhole-minio-")
	if err != nil {
		return nil, fmt.Errorf("devstack: minio temp dir: %w", err)
	}
	// MinIO creates its certs dir (default ~/.minio/certs) even without TLS;
	// keeping it in our temp dir leaves nothing behind in $HOME.
	if err := os.Mkdir(filepath.Join(scratch, "certs"), 0o700); err != nil {
		_ = os.RemoveAll(scratch)
		return nil, fmt.Errorf("devstack: minio certs dir: %w", err)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(scratch, "data")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		_ = os.RemoveAll(scratch)
		return nil, fmt.Errorf("devstack: minio data dir: %w", err)
	}
	if cfg.RootUser == "" {
		cfg.RootUser = "pinhole-" + randomHex(4)
	}
	if cfg.RootPassword == "" {
		cfg.RootPassword = randomHex(16)
	}
	m := &MinIO{
		scratch: scratch,
		tail:    newTailBuffer(32 << 10),
		// No keep-alives: idle connections to a server we are about to
		// Stop would only produce confusing errors later.
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}

	err = startOnFreePorts(ctx, cfg.Addr == "" || cfg.ConsoleAddr == "", func() error {
		try := cfg
		var err error
		if try.Addr == "" {
			if try.Addr, err = freeAddr(); err != nil {
				return err
			}
		}
		if try.ConsoleAddr == "" {
			if try.ConsoleAddr, err = freeAddr(); err != nil {
				return err
			}
		}
		m.cfg = try
		return m.startLocked(ctx)
	})
	if err != nil {
		_ = os.RemoveAll(scratch)
		return nil, err
	}
	m.Endpoint = "http://" + m.cfg.Addr
	m.ConsoleURL = "http://" + m.cfg.ConsoleAddr
	m.RootUser = m.cfg.RootUser
	m.RootPassword = m.cfg.RootPassword
	m.DataDir = m.cfg.DataDir
	return m, nil
}

// startLocked launches the process with m.cfg and waits for readiness; on
// failure nothing is left running. The caller holds m.mu (or owns m alone).
func (m *MinIO) startLocked(ctx context.Context) error {
	cmd := exec.Command(m.cfg.Binary, "server",
		"--address", m.cfg.Addr,
		"--console-address", m.cfg.ConsoleAddr,
		"--certs-dir", filepath.Join(m.scratch, "certs"),
		m.cfg.DataDir,
	)
	cmd.Env = append(childEnv("MINIO_"),
		"MINIO_ROOT_USER="+m.cfg.RootUser,
		"MINIO_ROOT_PASSWORD="+m.cfg.RootPassword,
		// No phoning home for updates: dev machines and CI may be offline.
		"MINIO_UPDATE=off",
	)
	if m.cfg.CORSOrigin != "" {
		cmd.Env = append(cmd.Env, "MINIO_API_CORS_ALLOW_ORIGIN="+m.cfg.CORSOrigin)
	}
	proc, err := startProcess("minio", cmd, logWriter(m.cfg.Log, m.tail), nil)
	if err != nil {
		return err
	}
	endpoint := "http://" + m.cfg.Addr
	err = waitReady(ctx, proc, minioStartTimeout, func(ctx context.Context) error {
		return m.probe(ctx, endpoint+"/minio/health/cluster")
	})
	if err != nil {
		proc.stop(syscall.SIGTERM, 5*time.Second)
		return withTail(err, "minio", m.tail)
	}
	m.proc = proc
	return nil
}

// probe succeeds only on a 200 from url.
func (m *MinIO) probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// Stop stops the process (SIGTERM, then SIGKILL after a few seconds) but
// keeps the data dir and addresses, so tests can simulate "MinIO is down"
// and then Start it again. Stopping a stopped server does nothing.
func (m *MinIO) Stop() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopLocked()
	return nil
}

func (m *MinIO) stopLocked() {
	if m.proc != nil {
		m.proc.stop(syscall.SIGTERM, 5*time.Second)
		m.proc = nil
	}
}

// Start restarts a stopped server on the same address and data dir and
// waits until it is ready; on a running server it does nothing.
func (m *MinIO) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("devstack: minio: Start after Close")
	}
	if m.proc != nil {
		select {
		case <-m.proc.done: // crashed on its own: start a new one
			m.proc = nil
		default:
			return nil
		}
	}
	return m.startLocked(ctx)
}

// Logs returns the most recent output of the server, for a test to print
// when it fails.
func (m *MinIO) Logs() string { return m.tail.String() }

// Close stops the server and removes its temp dir (and with it the data dir
// unless the caller chose one). It is safe to call more than once.
func (m *MinIO) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.stopLocked()
	m.client.CloseIdleConnections()
	if err := os.RemoveAll(m.scratch); err != nil {
		return fmt.Errorf("devstack: minio: remove temp dir: %w", err)
	}
	return nil
}
