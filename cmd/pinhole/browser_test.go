package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pinhole/pinhole/internal/testenv"
)

// TestBrowserHomePage loads the home page in real headless Chromium: the page
// renders, its stylesheet applies (so the CSP lets our own assets through) and
// the way in is a click away.
func TestBrowserHomePage(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	a := startApp(t, minioEnv(testenv.MinIO(t)))
	waitStatus(t, a.URL+"/readyz", http.StatusOK, 30*time.Second)

	if err := chromedp.Do(ctx, chromedp.Navigate(a.URL+"/")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatalf("read heading: %v", err)
	}
	if want := "Your photos, your pinhole."; heading != want {
		t.Errorf("h1 = %q, want %q", heading, want)
	}
	// app.css sets the page background; the browser default is transparent.
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	if err != nil {
		t.Fatalf("computed style: %v", err)
	}
	if want := "rgb(247, 245, 241)"; bg != want {
		t.Errorf("body background = %q, want %q (is app.css loading?)", bg, want)
	}
	signup, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.hero a.button').getAttribute('href')`))
	if err != nil || signup != "/signup" {
		t.Errorf("primary action href = %q, %v; want /signup", signup, err)
	}

	// A screenshot for people reviewing the change: PINHOLE_SCREENSHOTS=dir.
	if dir := os.Getenv("PINHOLE_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "home.png"), png, 0o644); err != nil {
			t.Fatalf("save screenshot: %v", err)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(a.URL+"/no-such-page")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || !strings.Contains(title, "Page not found") {
		t.Errorf("404 page h1 = %q, %v; want Page not found", title, err)
	}
}
