package storage_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/pinhole/pinhole/storage"
)

func mustClient(t testing.TB, cfg storage.Config) *storage.Client {
	t.Helper()
	c, err := storage.New(cfg)
	if err != nil {
		t.Fatalf("storage.New() error = %v", err)
	}
	return c
}

// TestPresignGetSignsForThePublicHost uses one MinIO under two names: the
// app reaches it as 127.0.0.1, browsers as localhost. A URL signed for the
// wrong name is refused, so this shows the signature covers the public host.
func TestPresignGetSignsForThePublicHost(t *testing.T) {
	t.Parallel()
	env := newMinIOEnv(t)
	ctx := context.Background()
	const key = "users/" + alice + "/photos/1.jpg"
	env.mustPut(t, testBucket, key, "alice's photo")

	cfg := env.clientConfig()
	if env.endpoint.Hostname() != "127.0.0.1" {
		t.Fatalf("test MinIO listens on %s, want 127.0.0.1 so localhost can be the public name", env.endpoint.Host)
	}
	cfg.PublicURL = mustURL(t, "http://localhost:"+env.endpoint.Port())
	client := mustClient(t, cfg)

	raw, err := client.PresignGetAs(ctx, key, "image/jpeg", time.Minute)
	if err != nil {
		t.Fatalf("PresignGetAs() error = %v", err)
	}
	u := mustURL(t, raw)
	if u.Host != cfg.PublicURL.Host {
		t.Errorf("presigned URL host = %q, want the public host %q", u.Host, cfg.PublicURL.Host)
	}
	if got := u.Query().Get("X-Amz-Expires"); got != "60" {
		t.Errorf("X-Amz-Expires = %q, want 60", got)
	}
	body, err := httpGet(ctx, raw)
	if err != nil || body != "alice's photo" {
		t.Errorf("GET presigned URL = %q, %v; want %q, nil", body, err, "alice's photo")
	}

	// The same URL sent to the internal name is refused: the host is signed.
	u.Host = env.endpoint.Host
	if _, err := httpGet(ctx, u.String()); errCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("GET presigned URL via the internal host: error = %v, want SignatureDoesNotMatch", err)
	}
}

func TestPresignGetAs(t *testing.T) {
	t.Parallel()
	// Presigning is local: a public host the app cannot reach (here, one
	// that does not exist) still gets a URL, and no request is made.
	client := mustClient(t, storage.Config{
		Endpoint:  mustURL(t, "http://127.0.0.1:1"),
		PublicURL: mustURL(t, "https://photos.invalid"),
		AccessKey: "app",
		SecretKey: "app-secret",
		Bucket:    testBucket,
		// No Region: the presigner must still not ask MinIO for one.
	})
	raw, err := client.PresignGetAs(context.Background(), "users/"+alice+"/photos/1.jpg", "image/jpeg", time.Hour)
	if err != nil {
		t.Fatalf("PresignGetAs() error = %v", err)
	}
	u := mustURL(t, raw)
	if u.Scheme != "https" || u.Host != "photos.invalid" || u.Path != "/photos/users/"+alice+"/photos/1.jpg" {
		t.Errorf("presigned URL = %s, want https://photos.invalid/photos/users/%s/photos/1.jpg?...", raw, alice)
	}
	if got := u.Query().Get("X-Amz-Credential"); !strings.Contains(got, "/us-east-1/") {
		t.Errorf("X-Amz-Credential = %q, want the default region us-east-1", got)
	}

	for _, tt := range []struct {
		key string
		ttl time.Duration
	}{
		{"", time.Minute},
		{"users/" + alice + "/1.jpg", 0},
		{"users/" + alice + "/1.jpg", 500 * time.Millisecond},
		{"users/" + alice + "/1.jpg", 8 * 24 * time.Hour},
	} {
		if got, err := client.PresignGetAs(context.Background(), tt.key, "image/jpeg", tt.ttl); err == nil {
			t.Errorf("PresignGetAs(%q, %s) = %q, want an error", tt.key, tt.ttl, got)
		}
	}
}

func TestPublicURLDefaultsToEndpoint(t *testing.T) {
	t.Parallel()
	client := mustClient(t, storage.Config{
		Endpoint:  mustURL(t, "http://minio:9000"),
		AccessKey: "app",
		SecretKey: "app-secret",
		Bucket:    testBucket,
		Region:    testRegion,
	})
	raw, err := client.PresignGetAs(context.Background(), "users/"+alice+"/photos/1.jpg", "image/jpeg", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if u := mustURL(t, raw); u.Host != "minio:9000" {
		t.Errorf("presigned URL host = %q, want the endpoint's host when PublicURL is nil", u.Host)
	}
}

func TestStatAndDelete(t *testing.T) {
	t.Parallel()
	env := newMinIOEnv(t)
	ctx := context.Background()
	client := mustClient(t, env.clientConfig())
	photo := "users/" + alice + "/photos/1.jpg"
	thumb := "users/" + alice + "/thumbs/1.jpg"
	before := time.Now().Add(-time.Second) // MinIO's times have second resolution
	env.mustPut(t, testBucket, photo, "alice's photo")
	env.mustPut(t, testBucket, thumb, "thumb")

	info, err := client.Stat(ctx, photo)
	if err != nil {
		t.Fatalf("Stat(%q) error = %v", photo, err)
	}
	if info.Key != photo || info.Size != int64(len("alice's photo")) || info.ContentType != "image/jpeg" {
		t.Errorf("Stat() = %+v, want key %q, size %d, type image/jpeg", info, photo, len("alice's photo"))
	}
	if info.LastModified.Before(before) || info.LastModified.After(time.Now().Add(time.Second)) {
		t.Errorf("Stat().LastModified = %s, want about now", info.LastModified)
	}

	missing := "users/" + alice + "/photos/missing.jpg"
	if _, err := client.Stat(ctx, missing); !errors.Is(err, storage.ErrObjectNotFound) {
		t.Errorf("Stat(missing) error = %v, want ErrObjectNotFound", err)
	}

	// Deleting a key that does not exist is fine: retries are safe.
	if err := client.Delete(ctx, photo, thumb, missing); err != nil {
		t.Fatalf("Delete() error = %v", err)
	}
	for _, key := range []string{photo, thumb} {
		if _, err := env.root.StatObject(ctx, testBucket, key, minio.StatObjectOptions{}); errCode(err) != minio.NoSuchKey {
			t.Errorf("after Delete, StatObject(%q) error = %v, want NoSuchKey", key, err)
		}
	}
	if err := client.Delete(ctx); err != nil {
		t.Errorf("Delete() with no keys: error = %v, want nil", err)
	}
	if err := client.Delete(ctx, ""); err == nil {
		t.Error("Delete(\"\") succeeded, want an error")
	}
}

func TestObjectsWhileMinIOIsDown(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: the same "connection refused" a stopped
	// MinIO gives (TestVendWhileMinIOIsDown stops a real one).
	client := mustClient(t, storage.Config{
		Endpoint:  &url.URL{Scheme: "http", Host: "127.0.0.1:1"},
		AccessKey: "app",
		SecretKey: "app-secret",
		Bucket:    testBucket,
		Region:    testRegion,
	})
	ctx := context.Background()
	if _, err := client.Stat(ctx, "users/"+alice+"/photos/1.jpg"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Stat() error = %v, want ErrUnavailable", err)
	}
	if err := client.Delete(ctx, "users/"+alice+"/photos/1.jpg"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Delete() error = %v, want ErrUnavailable", err)
	}
	// Presigned URLs still work: the gallery keeps rendering.
	if _, err := client.PresignGetAs(ctx, "users/"+alice+"/photos/1.jpg", "image/jpeg", time.Minute); err != nil {
		t.Errorf("PresignGetAs() error = %v, want nil while MinIO is down", err)
	}
}

// TestPresignGetAsPinsContentType: whatever type an object was later
// overwritten with (here HTML, the stored-XSS case), the gallery's URL serves
// it as the image type checked at registration.
func TestPresignGetAsPinsContentType(t *testing.T) {
	t.Parallel()
	env := newMinIOEnv(t)
	ctx := context.Background()
	const key = "users/" + alice + "/photos/2.png"
	html := "<script>alert(1)</script>"
	if _, err := env.root.PutObject(ctx, testBucket, key, strings.NewReader(html), int64(len(html)),
		minio.PutObjectOptions{ContentType: "text/html"}); err != nil {
		t.Fatal(err)
	}
	client := mustClient(t, env.clientConfig())
	raw, err := client.PresignGetAs(ctx, key, "image/png", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("GET = %d with Content-Type %q, want 200 image/png", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != "inline" {
		t.Errorf("Content-Disposition = %q, want inline", cd)
	}
}
