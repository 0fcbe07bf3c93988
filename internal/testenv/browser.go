package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pinhole/pinhole/internal/chromium"
)

// browserTimeout bounds everything one test does in the browser, so a page
// that never finishes loading fails the test instead of hanging the suite.
const browserTimeout = 2 * time.Minute

// Browser starts a fresh headless Chromium (its own profile in a temp dir) and
// returns a chromedp context driving one tab. The browser is closed when the
// test ends.
func Browser(t testing.TB) context.Context {
	t.Helper()
	path := ChromiumPath(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromium.AllocatorOptions(path, t.TempDir())...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, browserTimeout)
	// Start the browser now, so a broken install fails here with a clear error.
	if err := chromedp.Do(ctx); err != nil {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium (%s): %v", path, err)
	}
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}
