package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/internal/devstack"
	"github.com/pinhole/pinhole/internal/testenv"
)

// TestBrowserUploadsStraightToMinIO is SPEC §4 end to end, in real headless
// Chromium against the real app, real SMTP and a real MinIO whose CORS
// allows the app's origin: sign up, confirm from the email, sign in, pick a
// 2 MB photo on the upload page, watch it upload, and find it in the
// gallery, loaded from MinIO.
//
// It also proves the app never receives the photo: every byte the browser
// sends the app passes through a counting proxy, and during the upload that
// is a few kilobytes of JSON, not megabytes. The upload's throughput is
// logged next to a direct S3 PUT of the same file (SPEC §5 compares them;
// timings are reported, never asserted).
func TestBrowserUploadsStraightToMinIO(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	mail := testenv.Mailpit(t)

	// The browser reaches the app through the proxy, so the proxy's address
	// is the app's origin (PINHOLE_BASE_URL). It must be known before MinIO
	// starts, because MinIO's CORS policy names it.
	appPort, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	appAddr := fmt.Sprintf("127.0.0.1:%d", appPort)
	proxy := startCountingProxy(t, appAddr)
	origin := "http://" + proxy.Addr()
	objects := startMinIOWithCORS(t, origin)

	env := minioEnv(objects)
	env[app.EnvSMTPURL] = mail.SMTPURL
	env[app.EnvAddr] = appAddr
	env[app.EnvBaseURL] = origin
	a := startApp(t, env)
	waitStatus(t, a.URL+"/readyz", http.StatusOK, 30*time.Second)

	const (
		email    = "hana@example.com"
		password = "paper lanterns drift downstream"
	)
	mustDo(t, ctx, "open sign-up", chromedp.Navigate(a.URL+"/signup"))
	mustDo(t, ctx, "fill in sign-up",
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
	)
	submit(t, ctx, `form[action="/signup"]`, http.StatusOK)
	msg := testenv.WaitForMessage(t, mail, email, 15*time.Second)
	text, err := mail.Text(context.Background(), msg.ID)
	if err != nil {
		t.Fatalf("read confirmation email: %v", err)
	}
	link := regexp.MustCompile(`https?://\S+/auth/confirm\?token=[A-Za-z0-9_-]+`).FindString(text)
	if !strings.HasPrefix(link, a.URL+"/") {
		t.Fatalf("no confirmation link on %s in the email:\n%s", a.URL, text)
	}
	mustResponse(t, ctx, "open the confirmation link", http.StatusOK, chromedp.Navigate(link))
	mustDo(t, ctx, "open sign-in", chromedp.Navigate(a.URL+"/signin"))
	mustDo(t, ctx, "fill in sign-in",
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
	)
	submit(t, ctx, `form[action="/signin"]`, http.StatusOK)
	if loc := mustRun(t, ctx, "location", chromedp.Location()); loc != a.URL+"/photos" {
		t.Fatalf("after sign-in the browser is at %q, want the gallery", loc)
	}
	mustResponse(t, ctx, "follow Upload photos", http.StatusOK, chromedp.Click(chromedp.CSS(`.empty-state a[href="/photos/upload"]`)))
	screenshot(t, ctx, "upload-empty.png")

	// Upload: pick the file, as a person would with the file picker.
	photo := writeTestPhoto(t, 800, 800)
	size := fileSize(t, photo)
	proxy.received.Store(0)
	start := time.Now()
	mustDo(t, ctx, "pick the photo", chromedp.SetUploadFiles(chromedp.CSS(`input[type="file"]`), []string{photo}))
	outcome := mustRun(t, ctx, "wait for the upload", chromedp.Poll[string](`(() => {
		const row = document.querySelector('.upload-item');
		const state = row && row.dataset.state;
		return (state === 'done' || state === 'failed') ? state + ': ' + row.querySelector('.upload-message').textContent : '';
	})()`, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
	elapsed := time.Since(start)
	received := proxy.received.Load()
	if outcome != "done: Done" {
		t.Fatalf("upload ended %q, want done", outcome)
	}
	progress := mustRun(t, ctx, "progress bar", chromedp.Evaluate[[]float64](`(() => {
		const p = document.querySelector('.upload-item progress');
		return [p.value, p.max];
	})()`))
	if progress[0] != progress[1] || progress[1] < float64(size) {
		t.Errorf("progress bar at %v of %v, want full, over at least the photo's %d bytes", progress[0], progress[1], size)
	}
	screenshot(t, ctx, "upload-done.png")

	// The app received two small JSON calls, not the photo.
	const appBudget = 64 << 10
	t.Logf("app received %d request bytes during the upload of a %d-byte photo", received, size)
	if received >= appBudget {
		t.Errorf("the app received %d bytes during the upload, want < %d: photo bytes must go straight to MinIO", received, appBudget)
	}

	// MinIO holds the photo, byte for byte, and its thumbnail.
	root := rootClient(t, objects)
	bctx := context.Background()
	var photoKey, thumbKey string
	for obj := range root.ListObjects(bctx, "photos-test", minio.ListObjectsOptions{Prefix: "users/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		switch {
		case strings.Contains(obj.Key, "/photos/"):
			photoKey = obj.Key
		case strings.Contains(obj.Key, "/thumbs/"):
			thumbKey = obj.Key
		}
	}
	keyShape := regexp.MustCompile(`^users/[0-9a-f-]{36}/photos/[0-9a-f-]{36}\.png$`)
	if !keyShape.MatchString(photoKey) || thumbKey == "" {
		t.Fatalf("objects in MinIO: photo %q, thumbnail %q; want users/<sub>/photos/<id>.png and its thumbnail", photoKey, thumbKey)
	}
	info, err := root.StatObject(bctx, "photos-test", photoKey, minio.StatObjectOptions{})
	if err != nil || info.Size != size || info.ContentType != "image/png" {
		t.Errorf("StatObject(%s) = %d bytes, %q, %v; want %d bytes of image/png", photoKey, info.Size, info.ContentType, err, size)
	}
	thumb, err := root.StatObject(bctx, "photos-test", thumbKey, minio.StatObjectOptions{})
	if err != nil || thumb.ContentType != "image/jpeg" || thumb.Size == 0 || thumb.Size > 1<<20 {
		t.Errorf("StatObject(%s) = %d bytes, %q, %v; want a small image/jpeg", thumbKey, thumb.Size, thumb.ContentType, err)
	}

	// Throughput: the whole browser flow (thumbnail, credentials, two PUTs,
	// registration), the photo's PUT alone as the browser timed it, and a
	// direct S3 PUT of the same file from Go to the same MinIO.
	putMillis := mustRun(t, ctx, "PUT timing", chromedp.Evaluate[float64](`performance.getEntriesByType('resource')
		.filter(e => e.initiatorType === 'xmlhttprequest' && e.name.includes('/photos/'))
		.reduce((sum, e) => sum + e.duration, 0)`))
	direct := directPut(t, root, photo, size)
	mbps := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	putTime := time.Duration(putMillis * float64(time.Millisecond))
	t.Logf("browser, pick to done: %d bytes in %s = %.1f MiB/s (includes thumbnail, credentials, thumbnail PUT, registration)", size, elapsed.Round(time.Millisecond), mbps(elapsed))
	t.Logf("browser, photo PUT alone (Resource Timing, incl. CORS preflight): %s = %.1f MiB/s", putTime.Round(time.Millisecond), mbps(putTime))
	t.Logf("direct minio-go PutObject of the same file: %s = %.1f MiB/s", direct.Round(time.Millisecond), mbps(direct))

	// The gallery shows the thumbnail, loaded from MinIO's public URL.
	mustResponse(t, ctx, "open the gallery", http.StatusOK, chromedp.Navigate(a.URL+"/photos"))
	public := objects.Endpoint + "/"
	loaded := mustRun(t, ctx, "thumbnail loads", chromedp.Poll[bool](fmt.Sprintf(`(() => {
		const img = document.querySelector('img.gallery-thumb');
		return !!img && img.src.startsWith(%q) && img.complete && img.naturalWidth > 0;
	})()`, public), chromedp.WithPollingTimeout(15*time.Second)))
	if !loaded {
		t.Fatal("the gallery's thumbnail did not load from MinIO")
	}
	screenshot(t, ctx, "gallery.png")

	// And the photo page shows the original, at its full 800 px.
	mustResponse(t, ctx, "open the photo", http.StatusOK, chromedp.Click(chromedp.CSS(`a.gallery-link`)))
	width := mustRun(t, ctx, "photo loads", chromedp.Poll[int](`(() => {
		const img = document.querySelector('img.photo-full');
		return img && img.complete && img.naturalWidth;
	})()`, chromedp.WithPollingTimeout(15*time.Second)))
	if width != 800 {
		t.Errorf("full-size photo is %d px wide, want 800", width)
	}
	screenshot(t, ctx, "photo.png")
}

// countingProxy forwards TCP connections to the app and counts the bytes
// clients send it. Counting below HTTP means nothing can slip past: headers,
// bodies, any request at all.
type countingProxy struct {
	ln       net.Listener
	upstream string
	received atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startCountingProxy listens on a free loopback port and forwards to
// upstream until the test ends.
func startCountingProxy(t *testing.T, upstream string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *countingProxy) Addr() string { return p.ln.Addr().String() }

func (p *countingProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Go(func() { p.forward(client) })
	}
}

func (p *countingProxy) forward(client net.Conn) {
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		client.Close() // the app is not listening yet: the client retries
		return
	}
	if !p.track(client, server) {
		return
	}
	defer p.untrack(client, server)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(server, countingReader{client, &p.received})
		server.(*net.TCPConn).CloseWrite()
	}()
	_, _ = io.Copy(client, server)
	client.Close()
	<-done
}

// track remembers a connection pair so close can end it; it refuses (and
// closes the pair) once the proxy is closing.
func (p *countingProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *countingProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *countingProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// countingReader adds what it reads to n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// startMinIOWithCORS starts a MinIO for the test that lets pages from origin
// call its S3 API, as MINIO_API_CORS_ALLOW_ORIGIN does in production
// (testenv.MinIO sets no CORS origin).
func startMinIOWithCORS(t *testing.T, origin string) *devstack.MinIO {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := devstack.StartMinIO(ctx, devstack.MinIOConfig{Binary: testenv.ToolPath(t, devstack.MinIOTool), CORSOrigin: origin})
	if err != nil {
		t.Fatalf("start minio: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("minio output (tail):\n%s", m.Logs())
		}
		if err := m.Close(); err != nil {
			t.Errorf("close minio: %v", err)
		}
	})
	return m
}

// writeTestPhoto writes a w×h PNG of noise into the test's temp dir and
// returns its path. Noise does not compress, so the file is about 3 bytes a
// pixel (1.9 MB at 800×800): a realistic photo size, made at test time.
func writeTestPhoto(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		if i%4 == 3 {
			img.Pix[i] = 0xff // opaque, so the encoder writes RGB
		} else {
			img.Pix[i] = byte(rng.Uint32())
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "harbour.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

func rootClient(t *testing.T, m *devstack.MinIO) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(m.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(m.RootUser, m.RootPassword, ""), Region: app.DefaultMinIORegion,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// directPut uploads path with minio-go and returns how long it took: the
// baseline the browser's upload is compared with.
func directPut(t *testing.T, c *minio.Client, path string, size int64) time.Duration {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	_, err = c.PutObject(context.Background(), "photos-test", "direct/baseline.png", f, size, minio.PutObjectOptions{ContentType: "image/png"})
	if err != nil {
		t.Fatalf("direct PutObject: %v", err)
	}
	return time.Since(start)
}
