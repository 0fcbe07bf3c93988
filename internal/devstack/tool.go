package devstack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// modulePath identifies Pinhole's own go.mod when BinDir walks up from the
// working directory, so a go.mod of some enclosing project is never mistaken
// for ours.
const modulePath = "github.com/pinhole/pinhole"

// Tool is a program built from a pinned Go module into the project's bin directory.
//
// MinIO's community edition ships as source only, so building it with the Go
// toolchain every developer already has is the one install path that works
// everywhere without Docker.
type Tool struct{ Name, Module, Version string }

// MinIOTool is the object store behind the identity pool; the compose file
// builds the same version so dev, tests and compose agree.
var MinIOTool = Tool{"minio", "github.com/minio/minio", "v0.0.0-20260212201848-7aac2a2c5b7c"}

// MailpitTool catches the mail the user pool sends (codes, links) so humans
// can read it in a browser and tests can read it over HTTP.
var MailpitTool = Tool{"mailpit", "github.com/axllent/mailpit", "v1.33.1"}

// BinDir returns where tools live: $PINHOLE_BIN_DIR if set, so an installed
// binary or a CI cache can point elsewhere, else the bin directory next to
// Pinhole's go.mod, found by walking up from the working directory so that
// tests (which run inside their package directory) and `make` agree.
func BinDir() (string, error) {
	if dir := os.Getenv("PINHOLE_BIN_DIR"); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("devstack: PINHOLE_BIN_DIR: %w", err)
		}
		return abs, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("devstack: find bin dir: %w", err)
	}
	root, err := findModuleRoot(wd, modulePath)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin"), nil
}

// findModuleRoot walks up from dir to the directory whose go.mod declares
// module.
func findModuleRoot(dir, module string) (string, error) {
	for d := dir; ; {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && goModModule(data) == module {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("devstack: no go.mod for module %s above %s; run from inside the repository or set PINHOLE_BIN_DIR", module, dir)
		}
		d = parent
	}
}

// goModModule returns the module path declared in a go.mod. It reads only the
// module line by hand: golang.org/x/mod/modfile would do it too, but BinDir
// runs in the shipped binary and one line does not justify the dependency.
func goModModule(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			rest, _, _ = strings.Cut(rest, "//")
			return strings.Trim(strings.TrimSpace(rest), `"`+"`")
		}
	}
	return ""
}

// Path is where the tool's binary lives in binDir.
func (t Tool) Path(binDir string) string {
	name := t.Name
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(binDir, name)
}

// stampPath records which module version produced the binary. It is
// written only after go install succeeded, so its presence also proves the
// build finished rather than being cut short half-way.
func (t Tool) stampPath(binDir string) string {
	return filepath.Join(binDir, "."+t.Name+".version")
}

// stamp is the stamp file's content: module and version, so moving to a fork
// rebuilds just like a version bump does.
func (t Tool) stamp() string { return t.Module + "@" + t.Version }

// Installed reports whether the binary exists and its stamp names exactly
// t's module and version; bumping the pin therefore forces a rebuild.
func (t Tool) Installed(binDir string) bool {
	info, err := os.Stat(t.Path(binDir))
	if err != nil || info.IsDir() {
		return false
	}
	data, err := os.ReadFile(t.stampPath(binDir))
	if err != nil {
		return false
	}
	return strings.TrimSpace(string(data)) == t.stamp()
}

// Ensure builds the tool with `go install module@version` into binDir unless
// it is already Installed, and returns the binary's path. A build can take
// ten minutes, so it reports progress to progress (nil = silent); the stamp
// is written only after a successful build, so an interrupted build is simply
// retried next time.
func (t Tool) Ensure(ctx context.Context, binDir string, progress io.Writer) (string, error) {
	path := t.Path(binDir)
	if t.Installed(binDir) {
		return path, nil
	}
	if progress == nil {
		progress = io.Discard
	}
	absBin, err := filepath.Abs(binDir) // GOBIN must be absolute
	if err != nil {
		return "", fmt.Errorf("devstack: build %s: %w", t.Name, err)
	}
	if err := os.MkdirAll(absBin, 0o755); err != nil {
		return "", fmt.Errorf("devstack: build %s: %w", t.Name, err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("devstack: build %s: the Go toolchain is needed to build it: %w", t.Name, err)
	}

	fmt.Fprintf(progress, "building %s (first run only, %s)\n", t.stamp(), t.buildHint())
	out := newTailBuffer(16 << 10)
	cmd := exec.CommandContext(ctx, goBin, "install", t.stamp())
	cmd.Env = append(os.Environ(), "GOBIN="+absBin)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr(nil)
	// go install forks compilers and linkers; cancelling (Ctrl-C in
	// `pinhole dev`) must stop all of them, not just the go command.
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("devstack: build %s: %w", t.Name, err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	ticker := time.NewTicker(30 * time.Second)
	defer ticker.Stop()
	for done := false; !done; {
		select {
		case <-ticker.C:
			fmt.Fprintf(progress, "  still building %s: %s elapsed\n", t.Name, time.Since(start).Round(time.Second))
		case err = <-waitErr:
			done = true
		}
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = errors.Join(ctxErr, err)
		}
		return "", fmt.Errorf("devstack: go install %s: %w\n%s", t.stamp(), err, out.lastLines(30))
	}
	if err := os.WriteFile(t.stampPath(absBin), []byte(t.stamp()+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("devstack: build %s: write stamp: %w", t.Name, err)
	}
	fmt.Fprintf(progress, "built %s in %s\n", t.Name, time.Since(start).Round(time.Second))
	return path, nil
}

// buildHint sets expectations, because a silent ten-minute first run looks
// like a hang.
func (t Tool) buildHint() string {
	switch t.Name {
	case MinIOTool.Name:
		return "about 10 minutes on 2 cores"
	case MailpitTool.Name:
		return "about 2 minutes on 2 cores"
	default:
		return "this can take a few minutes"
	}
}
