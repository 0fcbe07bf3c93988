package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/identity/password"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/devstack"
	"github.com/pinhole/pinhole/internal/fakeclock"
	"github.com/pinhole/pinhole/internal/testenv"
	"github.com/pinhole/pinhole/storage"
	"github.com/pinhole/pinhole/storage/photostore"
)

// photosEnv is the whole app with its identity pool behind a real HTTP
// server: a real user pool on SQLite, a real MinIO (its own, so a test may
// stop it), the real broker and gallery, the real router. MinIO's public
// URL is "localhost" while the app reaches it as 127.0.0.1, so a test can
// tell which one an answer names.
type photosEnv struct {
	t       *testing.T
	URL     string
	ids     *identity.Service
	minio   *devstack.MinIO
	root    *minio.Client
	objects *storage.Client
	broker  *storage.Broker
	public  string // MINIO_PUBLIC_URL
	clock   *fakeclock.Clock
	mail    *capturingMailer
	// brokerConfig builds brokers like the app's, for waitForSTS.
	brokerConfig storage.BrokerConfig
}

const (
	testBucket = "photos-test"
	// maxTestPhoto keeps "too large" uploads small.
	maxTestPhoto = 256 << 10
)

func newPhotosEnv(t *testing.T) *photosEnv {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	db, err := database.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "pinhole.db"), database.Options{Logger: logger})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := gormstore.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate user pool: %v", err)
	}
	if err := photostore.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate photos: %v", err)
	}

	mc := testenv.MinIO(t)
	endpoint, err := url.Parse(mc.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	public := "http://localhost:" + endpoint.Port()
	cfg, err := LoadConfig(env(map[string]string{
		EnvBaseURL: base, EnvMinIOEndpoint: mc.Endpoint, EnvMinIOPublicURL: public,
		EnvMinIOAccessKey: mc.RootUser, EnvMinIOSecretKey: mc.RootPassword, EnvMinIOBucket: testBucket,
	}))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	m := cfg.MinIO
	objects, err := storage.New(storage.Config{Endpoint: m.Endpoint, PublicURL: m.PublicURL, AccessKey: m.AccessKey, SecretKey: m.SecretKey, Bucket: m.Bucket, Region: m.Region})
	if err != nil {
		t.Fatalf("storage.New: %v", err)
	}
	if err := objects.EnsureBucket(ctx); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	brokerConfig := storage.BrokerConfig{Endpoint: m.Endpoint, PublicURL: m.PublicURL, AccessKey: m.AccessKey, SecretKey: m.SecretKey, Bucket: m.Bucket, Region: m.Region}
	broker, err := storage.NewBroker(brokerConfig)
	if err != nil {
		t.Fatalf("NewBroker: %v", err)
	}
	clock := fakeclock.New(time.Now().UTC())
	gallery, err := storage.NewGallery(storage.GalleryConfig{
		Store: photostore.New(db), Objects: objects, MaxPhotoBytes: maxTestPhoto, Now: clock.Now, Logger: logger,
	})
	if err != nil {
		t.Fatalf("NewGallery: %v", err)
	}
	hasher := password.NewHasher(testParams, 4, 64)
	mail := &capturingMailer{}
	ids, err := identity.New(ctx, identity.Config{Issuer: base, Attributes: cfg.CustomAttributes}, gormstore.New(db), mail, hasher, logger)
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	root, err := minio.New(endpoint.Host, &minio.Options{Creds: credentials.NewStaticV4(mc.RootUser, mc.RootPassword, ""), Region: m.Region})
	if err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewUnstartedServer(NewServer(Deps{
		Config: cfg, Logger: logger, DB: db, Storage: objects, Identity: ids, Broker: broker, Photos: gallery,
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	e := &photosEnv{t: t, URL: srv.URL, ids: ids, minio: mc, root: root, objects: objects, broker: broker, public: public,
		clock: clock, mail: mail, brokerConfig: brokerConfig}
	e.waitForSTS()
	return e
}

// waitForSTS waits until MinIO's STS can vend. MinIO reports itself ready
// before its IAM subsystem has loaded, and for a moment after (re)start
// AssumeRole fails with HTTP 400 "Server not initialized". A broker of its
// own asks, so the app's broker's STSCalls count stays the test's.
func (e *photosEnv) waitForSTS() {
	e.t.Helper()
	probe, err := storage.NewBroker(e.brokerConfig)
	if err != nil {
		e.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for attempt := 0; ; attempt++ {
		_, err := probe.Vend(context.Background(), "00000000-0000-4000-8000-000000000000", fmt.Sprint("probe-", attempt))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("MinIO STS not ready within 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// user is a signed-in user of a photosEnv.
type user struct {
	email, sub  string
	access      string
	refresh     string
	sessionID   string
	prefix      string // users/<sub>/
	environment *photosEnv
}

// photosMeta is the caller the photo tests' users sign up and in as.
var photosMeta = identity.RequestMeta{IP: "192.0.2.7", UserAgent: "photos-test"}

// mustUser signs up, confirms and signs in a new user, through the service
// (the user pool's own tests cover doing it over HTTP).
func (e *photosEnv) mustUser(name string) *user {
	e.t.Helper()
	email := uniqueEmail(name)
	mustSignUpConfirmed(e.t, e.ids, e.mail, email, testPassword, photosMeta)
	u := &user{email: email, environment: e}
	u.signIn()
	return u
}

// signIn starts a new session for u.
func (u *user) signIn() {
	e := u.environment
	e.t.Helper()
	ctx := context.Background()
	res, err := e.ids.SignIn(ctx, u.email, testPassword, photosMeta)
	if err != nil {
		e.t.Fatalf("SignIn(%s): %v", u.email, err)
	}
	p, err := e.ids.Authenticate(ctx, res.Tokens.AccessToken)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	u.sub, u.access, u.refresh, u.sessionID = p.Sub, res.Tokens.AccessToken, res.Tokens.RefreshToken, res.SessionID
	u.prefix = "users/" + p.Sub + "/"
}

// api calls the JSON API as u (or anonymously when u is nil).
func (e *photosEnv) api(u *user, method, path string, body any) response {
	e.t.Helper()
	bearer := ""
	if u != nil {
		bearer = u.access
	}
	return doJSON(e.t, e.URL, method, path, body, bearer)
}

// put stores an object in the photo bucket with the root identity, for
// tests that need uploads of a shape the browser would never send.
func (e *photosEnv) put(key, contentType string, size int) {
	e.t.Helper()
	body := bytes.Repeat([]byte{0xd8}, size)
	_, err := e.root.PutObject(context.Background(), testBucket, key, bytes.NewReader(body), int64(size), minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		e.t.Fatalf("root PUT %s: %v", key, err)
	}
}

// exists reports whether key is in the photo bucket.
func (e *photosEnv) exists(key string) bool {
	e.t.Helper()
	_, err := e.root.StatObject(context.Background(), testBucket, key, minio.StatObjectOptions{})
	if err == nil {
		return true
	}
	if minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		e.t.Fatalf("StatObject(%s): %v", key, err)
	}
	return false
}

// upload PUTs a photo and its thumbnail into u's folder the way the browser
// does: with credentials vended by POST /api/credentials, not root's.
func (e *photosEnv) upload(u *user, id, ext, contentType string, size int) map[string]any {
	e.t.Helper()
	r := e.api(u, http.MethodPost, "/api/credentials", nil)
	want(e.t, r, http.StatusOK, "")
	endpoint, err := url.Parse(e.minio.Endpoint) // the test reaches MinIO as 127.0.0.1
	if err != nil {
		e.t.Fatal(err)
	}
	s3, err := minio.New(endpoint.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(r.str("access_key_id"), r.str("secret_access_key"), r.str("session_token")),
		Region: r.str("region"),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	key, thumb := u.prefix+"photos/"+id+"."+ext, u.prefix+"thumbs/"+id+".jpg"
	for _, obj := range []struct {
		key, contentType string
		size             int
	}{{key, contentType, size}, {thumb, "image/jpeg", 2000}} {
		body := bytes.Repeat([]byte{0xd8}, obj.size)
		_, err := s3.PutObject(context.Background(), r.str("bucket"), obj.key, bytes.NewReader(body), int64(obj.size), minio.PutObjectOptions{ContentType: obj.contentType})
		if err != nil {
			e.t.Fatalf("PUT %s with vended credentials: %v", obj.key, err)
		}
	}
	return map[string]any{"id": id, "key": key, "thumb_key": thumb}
}

// mustPhoto uploads and registers a photo of u, and returns its id.
func (e *photosEnv) mustPhoto(u *user, caption string) string {
	e.t.Helper()
	id := newPhotoID()
	body := e.upload(u, id, "jpg", "image/jpeg", 3000)
	body["caption"] = caption
	want(e.t, e.api(u, http.MethodPost, "/api/photos", body), http.StatusCreated, "")
	return id
}

var photoSeq atomic.Int64

// newPhotoID returns a fresh, readable UUID, as crypto.randomUUID would.
func newPhotoID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", photoSeq.Add(1))
}

// pageBrowser is a cookie-keeping HTTP client for the pages, signed in as
// u, that does not follow redirects (tests check where they lead).
type pageBrowser struct {
	t      *testing.T
	env    *photosEnv
	client *http.Client
}

func (e *photosEnv) browser(u *user) *pageBrowser {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if u != nil {
		base, _ := url.Parse(e.URL)
		jar.SetCookies(base, []*http.Cookie{
			{Name: cookieAccess, Value: u.access, Path: "/"},
			{Name: cookieRefresh, Value: u.refresh, Path: "/"},
		})
	}
	return &pageBrowser{t: e.t, env: e, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a loaded page: status, Location and body.
type page struct {
	status   int
	location string
	body     string
}

func (b *pageBrowser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.env.URL+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(raw)}
}

func (b *pageBrowser) get(path string) page {
	b.t.Helper()
	return b.do(http.MethodGet, path, nil)
}

// submit posts form to action with the CSRF token of the page at from.
func (b *pageBrowser) submit(from, action string, form url.Values) page {
	b.t.Helper()
	p := b.get(from)
	return b.do(http.MethodPost, action, withCSRF(b.t, from, p.status, p.body, form))
}
