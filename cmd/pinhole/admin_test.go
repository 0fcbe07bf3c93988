package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/internal/database"
)

// TestRotateKeysCommand runs `pinhole rotate-keys` against an embedded
// database: a new key signs, the old one stays published (retired).
func TestRotateKeysCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == app.EnvDataDir {
			return dir
		}
		return ""
	}
	for i := 0; i < 2; i++ {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"pinhole", "rotate-keys"}, getenv, &out, &out); err != nil {
			t.Fatalf("rotate-keys: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "new signing key") {
			t.Errorf("output %q does not name the new key", out.String())
		}
	}
	db, err := database.Open(context.Background(), "", database.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := gormstore.New(db).Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, k := range keys {
		if k.RetiredAt == nil {
			active++
		}
	}
	// The first key (made at start-up) and two rotations: three keys, one signing.
	if len(keys) != 3 || active != 1 {
		t.Errorf("after two rotations: %d keys, %d active; want 3 keys, 1 active", len(keys), active)
	}
}

func TestGroupsCommandUsage(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"pinhole", "groups", "add", "only-email"}, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("groups with missing args = %v, want a usage error", err)
	}
}
