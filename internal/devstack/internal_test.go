package devstack

import (
	"strings"
	"testing"
)

func TestGoModModule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, gomod, want string
	}{
		{"plain", "module github.com/pinhole/pinhole\n\ngo 1.26\n", "github.com/pinhole/pinhole"},
		{"after comments", "// Pinhole\n\nmodule github.com/pinhole/pinhole // the app\n", "github.com/pinhole/pinhole"},
		{"quoted", "module \"github.com/pinhole/pinhole\"\n", "github.com/pinhole/pinhole"},
		{"tab separated", "module\tgithub.com/pinhole/pinhole\n", "github.com/pinhole/pinhole"},
		{"not a module line", "modules github.com/x\n", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := goModModule([]byte(tt.gomod)); got != tt.want {
				t.Errorf("goModModule(%q) = %q, want %q", tt.gomod, got, tt.want)
			}
		})
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	t.Parallel()
	b := newTailBuffer(10)
	for _, s := range []string{"0123", "4567", "89ab", "cdef"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
		}
	}
	if got, want := b.String(), "6789abcdef"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestTailBufferLastLines(t *testing.T) {
	t.Parallel()
	b := newTailBuffer(1 << 10)
	for i := range 50 {
		b.Write([]byte(strings.Repeat("x", i%3) + "line\n"))
	}
	got := b.lastLines(3)
	if want := "xxline\nline\nxline"; got != want {
		t.Errorf("lastLines(3) = %q, want %q", got, want)
	}
}

func TestPgVersionSortsNumerically(t *testing.T) {
	t.Parallel()
	if a, b := pgVersion("/usr/lib/postgresql/15/bin"), pgVersion("/usr/lib/postgresql/9.6/bin"); a <= b {
		t.Errorf("pgVersion(15) = %v, pgVersion(9.6) = %v; want 15 > 9.6", a, b)
	}
}

func TestDatabaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		server, name, want string
		wantErr            bool
	}{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "test_a", "postgres://postgres@127.0.0.1:5432/test_a?sslmode=disable", false},
		{"postgresql://u:p@db/app", "x y", "postgresql://u:p@db/x%20y", false},
		{"host=localhost dbname=app", "x", "", true},
	}
	for _, tt := range tests {
		got, err := databaseURL(tt.server, tt.name)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("databaseURL(%q, %q) = %q, %v; want %q, error %v", tt.server, tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}
