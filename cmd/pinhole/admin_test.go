package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/identity"
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

// TestPurgeCommand runs `pinhole purge` against an embedded database that
// holds one ended session, and reads back the report it prints.
func TestPurgeCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == app.EnvDataDir {
			return dir
		}
		return ""
	}
	db, err := database.Open(ctx, "", database.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := gormstore.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	store := gormstore.New(db)
	now := time.Now()
	user := &identity.User{
		Sub: "00000000-0000-4000-8000-000000000001", Email: "ada@example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", Status: identity.StatusConfirmed,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := store.CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	for i, expires := range []time.Time{now.Add(-time.Minute), now.Add(time.Hour)} {
		sess := identity.Session{ID: fmt.Sprintf("s%d", i), Sub: user.Sub, AuthTime: now, CreatedAt: now, LastUsedAt: now, ExpiresAt: expires}
		if err := store.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"pinhole", "purge"}, getenv, &out, &out); err != nil {
		t.Fatalf("purge: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var report identity.PurgeReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &report); err != nil {
		t.Fatalf("last line of output is not the JSON report: %v\n%s", err, out.String())
	}
	if want := (identity.PurgeReport{Sessions: 1}); report != want {
		t.Errorf("purge report = %+v, want %+v", report, want)
	}
	if _, err := store.SessionByID(ctx, "s1"); err != nil {
		t.Errorf("the active session: %v", err)
	}
}
