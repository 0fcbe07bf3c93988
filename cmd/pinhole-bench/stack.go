package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/internal/devstack"
)

// stack is everything the load phases run against: the real pinhole binary
// as a child process, and throwaway PostgreSQL, MinIO and Mailpit on
// loopback. Close stops all of it and removes its files.
type stack struct {
	root  string // the module root, where the binary is built from
	tmp   string // the binary, the app's log and data dir
	pg    *devstack.Postgres
	minio *devstack.MinIO
	mail  *devstack.Mailpit
	app   *appProcess
	api   *apiClient
	// bucket is the photo bucket the app uses.
	bucket string
}

// benchBucket is the photo bucket of the benchmark server.
const benchBucket = "photos"

// startStack builds pinhole (or takes the prebuilt binary, when named),
// starts the services and the app, and returns once /readyz says the app
// can serve.
func startStack(ctx context.Context, log *progress, prebuilt string) (st *stack, err error) {
	st = &stack{bucket: benchBucket}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	if st.root, err = moduleRoot(ctx); err != nil {
		return nil, err
	}
	if st.tmp, err = os.MkdirTemp("", "pinhole-bench-"); err != nil {
		return nil, err
	}
	bin := filepath.Join(st.tmp, "pinhole")
	if prebuilt != "" {
		if bin, err = filepath.Abs(prebuilt); err != nil {
			return nil, err
		}
		log.step("measuring %s", bin)
	} else {
		log.step("building %s", "./cmd/pinhole")
		if err := goBuild(ctx, st.root, bin); err != nil {
			return nil, err
		}
	}

	binDir, err := devstack.BinDir()
	if err != nil {
		return nil, err
	}
	minioBin, mailpitBin := devstack.MinIOTool.Path(binDir), devstack.MailpitTool.Path(binDir)
	for _, t := range []devstack.Tool{devstack.MinIOTool, devstack.MailpitTool} {
		if !t.Installed(binDir) {
			return nil, fmt.Errorf("%s is not built in %s: run `make tools` first", t.Name, binDir)
		}
	}

	// The app's address is chosen first: MinIO's CORS rule must name it.
	port, err := devstack.FreePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	base := "http://" + addr

	log.step("starting PostgreSQL, MinIO and Mailpit")
	if st.pg, err = devstack.StartPostgres(ctx, devstack.PostgresConfig{}); err != nil {
		return nil, err
	}
	dbURL, err := st.pg.CreateDatabase(ctx, "pinhole_bench")
	if err != nil {
		return nil, err
	}
	if st.minio, err = devstack.StartMinIO(ctx, devstack.MinIOConfig{Binary: minioBin, CORSOrigin: base}); err != nil {
		return nil, err
	}
	if st.mail, err = devstack.StartMailpit(ctx, devstack.MailpitConfig{Binary: mailpitBin}); err != nil {
		return nil, err
	}

	env := map[string]string{
		app.EnvAddr:           addr,
		app.EnvBaseURL:        base,
		app.EnvDataDir:        filepath.Join(st.tmp, "data"),
		app.EnvDatabaseURL:    dbURL,
		app.EnvMinIOEndpoint:  st.minio.Endpoint,
		app.EnvMinIOAccessKey: st.minio.RootUser,
		app.EnvMinIOSecretKey: st.minio.RootPassword,
		app.EnvMinIOBucket:    st.bucket,
		app.EnvSMTPURL:        st.mail.SMTPURL,
	}
	log.step("starting pinhole serve on %s", addr)
	if st.app, err = startApp(bin, env, filepath.Join(st.tmp, "pinhole.log")); err != nil {
		return nil, err
	}
	st.api = &apiClient{base: base}
	if err := st.app.waitReady(ctx, base+"/readyz", 60*time.Second); err != nil {
		return nil, err
	}
	return st, nil
}

// Close stops the app first (it depends on the others), then the services.
func (st *stack) Close() {
	if st.app != nil {
		st.app.stop()
	}
	if st.mail != nil {
		_ = st.mail.Close()
	}
	if st.minio != nil {
		_ = st.minio.Close()
	}
	if st.pg != nil {
		_ = st.pg.Close()
	}
	if st.tmp != "" {
		_ = os.RemoveAll(st.tmp)
	}
}

// moduleRoot is the directory of Pinhole's go.mod, where `go build` runs.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run pinhole-bench from inside the Pinhole repository (go env GOMOD is empty)")
	}
	return filepath.Dir(gomod), nil
}

// goBuild builds the real binary, exactly as a release would be built.
func goBuild(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/pinhole")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/pinhole: %w\n%s", err, stderr.String())
	}
	return nil
}

// appProcess is `pinhole serve` running as our child.
type appProcess struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error
}

// startApp runs bin serve with env on top of a scrubbed copy of ours (no
// inherited Pinhole, MinIO or database settings), logging to logPath.
func startApp(bin string, env map[string]string, logPath string) (*appProcess, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PINHOLE_") || strings.HasPrefix(name, "MINIO_") ||
			name == app.EnvDatabaseURL || name == app.EnvSMTPURL || name == app.EnvMailFrom {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	p := &appProcess{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// pid is the server's process id, for /proc.
func (p *appProcess) pid() int { return p.cmd.Process.Pid }

// exited reports whether the server has stopped (crashed, during a run).
func (p *appProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitReady polls url until it answers 200, the process exits or timeout.
func (p *appProcess) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	last := "no answer"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-p.done:
			return fmt.Errorf("pinhole serve exited during start-up (%v); its log:\n%s", p.waitErr, p.logTail(20))
		case <-ctx.Done():
			return fmt.Errorf("pinhole serve not ready within %s (last answer: %s); its log:\n%s", timeout, last, p.logTail(20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop asks the server to shut down gracefully and kills it if it will not.
func (p *appProcess) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// logTail returns the last n lines of the server's log, for error messages.
func (p *appProcess) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// cpuUse is the CPU time each party of a phase has used: the app, the
// database (the postmaster and its backends) and this driver.
type cpuUse struct{ App, DB, Driver time.Duration }

// cpuNow reads everyone's CPU time so far. A party that cannot be read
// counts zero; the figures are diagnostics for the notes, not targets.
func (st *stack) cpuNow() cpuUse {
	var u cpuUse
	u.App, _ = procCPU(st.app.pid())
	u.Driver, _ = procCPU(os.Getpid())
	if b, err := os.ReadFile(filepath.Join(st.pg.Dir, "postmaster.pid")); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil {
			u.DB = treeCPU(pid)
		}
	}
	return u
}

// perOp divides the CPU used since start by n operations.
func (u cpuUse) perOp(start cpuUse, n int) cpuUse {
	if n <= 0 {
		return cpuUse{}
	}
	d := time.Duration(n)
	return cpuUse{App: (u.App - start.App) / d, DB: (u.DB - start.DB) / d, Driver: (u.Driver - start.Driver) / d}
}

// add sums two measurements.
func (u cpuUse) add(o cpuUse) cpuUse {
	return cpuUse{App: u.App + o.App, DB: u.DB + o.DB, Driver: u.Driver + o.Driver}
}

func (u cpuUse) String() string {
	return fmt.Sprintf("app %s, PostgreSQL %s, load driver %s", ms(u.App), ms(u.DB), ms(u.Driver))
}
