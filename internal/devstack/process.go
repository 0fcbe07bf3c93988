package devstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// errExited marks a service that died before it became ready. Start
// functions retry those with fresh ports (see startOnFreePorts), because the
// usual cause is a port that FreePort handed out and another process grabbed
// in the meantime.
var errExited = errors.New("exited before it was ready")

// startOnFreePorts calls start, which picks its free ports afresh on every
// call, up to three times while it fails with errExited. With fixed ports
// (picked is false) a retry would only meet the same conflict, so the first
// error stands.
func startOnFreePorts(ctx context.Context, picked bool, start func() error) error {
	for attempt := 1; ; attempt++ {
		err := start()
		if err == nil || !picked || attempt == 3 || !errors.Is(err, errExited) || ctx.Err() != nil {
			return err
		}
	}
}

// credential is the user a child runs as (PostgreSQL refuses to run as root).
type credential struct {
	uid, gid uint32
}

// process is one running service and the record of how it ended.
type process struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{} // closed once Wait has returned
	waitErr error         // valid after done is closed
}

// startProcess starts cmd with its output sent to out. The command is built
// with exec.Command, not exec.CommandContext: the service must outlive the
// start-up context, and it is stopped only through stop.
func startProcess(name string, cmd *exec.Cmd, out io.Writer, cred *credential) (*process, error) {
	cmd.SysProcAttr = sysProcAttr(cred)
	cmd.Stdout = out
	cmd.Stderr = out
	// Grandchildren (PostgreSQL backends) inherit the output pipe; without a
	// bound, Wait would hang for as long as any of them lingers.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("devstack: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exitError describes how the process ended; call only after done is closed.
func (p *process) exitError() error {
	if p.waitErr == nil {
		return fmt.Errorf("%s %w (exit status 0)", p.name, errExited)
	}
	return fmt.Errorf("%s %w: %v", p.name, errExited, p.waitErr)
}

// stop asks the service to shut down with sig and kills its whole process
// group if it has not exited after grace. It is a no-op on a process that
// has already exited, which makes every Stop and Close idempotent.
func (p *process) stop(sig os.Signal, grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = killGroup(p.cmd.Process.Pid)
		<-p.done
	}
}

// waitReady polls probe until it succeeds, the process exits, the context
// ends or timeout passes, whichever comes first.
func waitReady(ctx context.Context, p *process, timeout time.Duration, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 20 * time.Millisecond
	var last error
	for {
		select {
		case <-p.done:
			return p.exitError()
		default:
		}
		probeCtx, probeCancel := context.WithTimeout(ctx, 2*time.Second)
		last = probe(probeCtx)
		probeCancel()
		if last == nil {
			return nil
		}
		timer := time.NewTimer(delay)
		select {
		case <-p.done:
			timer.Stop()
			return p.exitError()
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%s not ready (waited up to %s): %w; last probe: %v", p.name, timeout, ctx.Err(), last)
		case <-timer.C:
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// tailBuffer keeps the last max bytes written to it, so a failed start can
// show what the service said without holding its whole log in memory.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

// Write never fails, so it never breaks the MultiWriter feeding the
// caller's log.
func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// String returns everything still held.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// lastLines returns at most n complete trailing lines.
func (b *tailBuffer) lastLines(n int) string {
	s := strings.TrimRight(b.String(), "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// withTail appends the service's last output lines to err, since "did not
// become ready" alone never says why.
func withTail(err error, name string, tail *tailBuffer) error {
	out := tail.lastLines(30)
	if out == "" {
		return fmt.Errorf("devstack: %w (no output from %s)", err, name)
	}
	return fmt.Errorf("devstack: %w\n--- last lines of %s output ---\n%s", err, name, out)
}

// logWriter sends process output to the caller's log (if any) and to the
// tail buffer.
func logWriter(log io.Writer, tail *tailBuffer) io.Writer {
	if log == nil {
		return tail
	}
	return io.MultiWriter(log, tail)
}

// childEnv returns the parent's environment minus variables that would
// silently reconfigure a service: Pinhole's own config reuses names such as
// MINIO_ACCESS_KEY and MINIO_REGION, and a developer's MP_UI_AUTH would lock
// tests out of Mailpit's API.
func childEnv(dropPrefixes ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		keep := true
		for _, prefix := range dropPrefixes {
			if strings.HasPrefix(kv, prefix) {
				keep = false
				break
			}
		}
		if keep {
			env = append(env, kv)
		}
	}
	return env
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another
// process can still take it before the service binds it, so the Start
// functions retry with a new port when a service exits during start-up.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devstack: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeAddr is FreePort as a host:port.
func freeAddr() (string, error) {
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", port), nil
}

// randomHex returns n random bytes hex-encoded, for generated dev
// credentials and database names.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// trimOutput shortens captured command output for an error message.
func trimOutput(out []byte) string {
	out = bytes.TrimSpace(out)
	const max = 4000
	if len(out) > max {
		out = append([]byte("..."), out[len(out)-max:]...)
	}
	return string(out)
}
