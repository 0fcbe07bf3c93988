package devstack_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinhole/pinhole/internal/devstack"
)

func TestToolInstalled(t *testing.T) {
	t.Parallel()
	tool := devstack.Tool{Name: "widget", Module: "example.com/widget", Version: "v1.2.3"}
	tests := []struct {
		name   string
		binary bool
		stamp  string // "" = no stamp file
		want   bool
	}{
		{name: "nothing", want: false},
		{name: "binary without stamp", binary: true, want: false},
		{name: "stamp without binary", stamp: "example.com/widget@v1.2.3\n", want: false},
		{name: "stamp names another version", binary: true, stamp: "example.com/widget@v1.2.2\n", want: false},
		{name: "stamp names another module", binary: true, stamp: "example.com/fork/widget@v1.2.3\n", want: false},
		{name: "binary and matching stamp", binary: true, stamp: "example.com/widget@v1.2.3\n", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tt.binary {
				mustWrite(t, tool.Path(dir), "#!/bin/sh\n", 0o755)
			}
			if tt.stamp != "" {
				mustWrite(t, filepath.Join(dir, ".widget.version"), tt.stamp, 0o644)
			}
			if got := tool.Installed(dir); got != tt.want {
				t.Errorf("Installed() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestToolEnsureDoesNotRebuildInstalledTool(t *testing.T) {
	t.Parallel()
	tool := devstack.Tool{Name: "widget", Module: "example.com/widget", Version: "v1.2.3"}
	dir := t.TempDir()
	mustWrite(t, tool.Path(dir), "#!/bin/sh\n", 0o755)
	mustWrite(t, filepath.Join(dir, ".widget.version"), "example.com/widget@v1.2.3\n", 0o644)

	// A cancelled context makes any attempt to run `go install` fail, so
	// success proves nothing was built.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var progress bytes.Buffer
	got, err := tool.Ensure(ctx, dir, &progress)
	if err != nil {
		t.Fatalf("Ensure() error = %v, want nil", err)
	}
	if want := tool.Path(dir); got != want {
		t.Errorf("Ensure() = %q, want %q", got, want)
	}
	if progress.Len() != 0 {
		t.Errorf("Ensure() printed %q, want no progress for an installed tool", progress.String())
	}
}

func TestToolEnsureFailureLeavesNoStamp(t *testing.T) {
	t.Parallel()
	tool := devstack.Tool{Name: "widget", Module: "example.com/widget", Version: "v1.2.3"}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the build cannot even start
	var progress bytes.Buffer
	if _, err := tool.Ensure(ctx, dir, &progress); err == nil {
		t.Fatal("Ensure() with a cancelled context succeeded, want an error")
	}
	if !strings.Contains(progress.String(), "building example.com/widget@v1.2.3") {
		t.Errorf("progress = %q, want a line announcing the build", progress.String())
	}
	if tool.Installed(dir) {
		t.Error("Installed() = true after a failed build, want false")
	}
	if _, err := os.Stat(filepath.Join(dir, ".widget.version")); !os.IsNotExist(err) {
		t.Errorf("stamp after failed build: Stat error = %v, want not-exist", err)
	}
}

func TestBinDirHonoursEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PINHOLE_BIN_DIR", dir)
	got, err := devstack.BinDir()
	if err != nil {
		t.Fatalf("BinDir() error = %v", err)
	}
	if got != dir {
		t.Errorf("BinDir() = %q, want %q", got, dir)
	}
}

func TestBinDirMakesRelativeEnvAbsolute(t *testing.T) {
	t.Setenv("PINHOLE_BIN_DIR", "some/tools")
	got, err := devstack.BinDir()
	if err != nil {
		t.Fatalf("BinDir() error = %v", err)
	}
	wd, _ := os.Getwd()
	if want := filepath.Join(wd, "some", "tools"); got != want {
		t.Errorf("BinDir() = %q, want %q", got, want)
	}
}

func TestBinDirDefaultsToModuleRoot(t *testing.T) {
	t.Setenv("PINHOLE_BIN_DIR", "")
	got, err := devstack.BinDir()
	if err != nil {
		t.Fatalf("BinDir() error = %v", err)
	}
	// Tests run in internal/devstack, two levels below the module root.
	wd, _ := os.Getwd()
	if want := filepath.Join(wd, "..", "..", "bin"); got != filepath.Clean(want) {
		t.Errorf("BinDir() = %q, want %q", got, filepath.Clean(want))
	}
}

func mustWrite(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}
