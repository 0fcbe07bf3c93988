package chromium

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	t.Run("CHROME_PATH wins", func(t *testing.T) {
		fake := filepath.Join(t.TempDir(), "my-chrome")
		if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("CHROME_PATH", fake)
		if got, err := Find(); got != fake || err != nil {
			t.Errorf("Find() = %q, %v; want %q", got, err, fake)
		}
	})
	t.Run("a CHROME_PATH that does not exist is an error", func(t *testing.T) {
		absent := filepath.Join(t.TempDir(), "absent")
		t.Setenv("CHROME_PATH", absent)
		if got, err := Find(); err == nil || !strings.Contains(err.Error(), absent) {
			t.Errorf("Find() = %q, %v; want an error naming %s", got, err, absent)
		}
	})
	t.Run("nothing on PATH is an error", func(t *testing.T) {
		t.Setenv("CHROME_PATH", "")
		t.Setenv("PATH", t.TempDir())
		if got, err := Find(); err == nil || !strings.Contains(err.Error(), "chromium") {
			t.Errorf("Find() = %q, %v; want an error naming what was looked for", got, err)
		}
	})
}
