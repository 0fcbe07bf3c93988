// Package chromium finds the headless Chromium that the browser tests and
// the benchmark's upload phase drive with chromedp, and says how to start
// it: one list of names and one set of flags for both.
package chromium

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/chromedp/chromedp"
)

// Hint says how to get Chromium on the development machines (Debian).
const Hint = "apt-get install -y chromium"

// names are the usual executables, in order of preference.
var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns $CHROME_PATH if it is set (and exists), else the first of the
// usual names on PATH. The error says what was looked for.
func Find() (string, error) {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CHROME_PATH=%s: %w", p, err)
		}
		return p, nil
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("none of " + strings.Join(names, ", ") + " on PATH, and CHROME_PATH is not set")
}

// AllocatorOptions start the Chromium at path headless, with its own
// profile in profileDir.
func AllocatorOptions(path, profileDir string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profileDir),
		// Root in a container has no user namespace sandbox to give Chromium.
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		// The machines here have no outside network: keep Chromium from trying.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
}
