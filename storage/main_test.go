package storage_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pinhole/pinhole/internal/devstack"
	"github.com/pinhole/pinhole/internal/fakeclock"
	"github.com/pinhole/pinhole/internal/testenv"
	"github.com/pinhole/pinhole/storage"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Two users. Real subs are uuid.NewString() values, like these.
const (
	alice = "3f0c2a9e-5b7d-4c1e-8a6f-0d9b2e4c7a11"
	bob   = "8e2d4b6f-1a3c-4e5f-9b7d-2c4e6a8f0b13"
)

const (
	testBucket = "photos"
	testRegion = "us-east-1"
)

// minioEnv is one dedicated MinIO with the photo bucket in place, and a
// root client for seeding and for checking behind the broker's back.
type minioEnv struct {
	srv      *devstack.MinIO
	endpoint *url.URL
	root     *minio.Client
}

func newMinIOEnv(t testing.TB) minioEnv {
	t.Helper()
	srv := testenv.MinIO(t)
	if srv == nil {
		return minioEnv{} // only reached with a fake testing.TB
	}
	env := minioEnv{srv: srv, endpoint: mustURL(t, srv.Endpoint)}
	env.root = mustS3(t, env.endpoint, credentials.NewStaticV4(srv.RootUser, srv.RootPassword, ""))
	client, err := storage.New(env.clientConfig())
	if err != nil {
		t.Fatalf("storage.New() error = %v", err)
	}
	if err := client.EnsureBucket(context.Background()); err != nil {
		t.Fatalf("EnsureBucket() error = %v", err)
	}
	return env
}

// clientConfig is the app's storage config. The root user stands in for
// the broker identity, as under `make run`.
func (env minioEnv) clientConfig() storage.Config {
	return storage.Config{
		Endpoint:  env.endpoint,
		AccessKey: env.srv.RootUser,
		SecretKey: env.srv.RootPassword,
		Bucket:    testBucket,
		Region:    testRegion,
	}
}

func (env minioEnv) brokerConfig() storage.BrokerConfig {
	return storage.BrokerConfig{
		Endpoint:  env.endpoint,
		AccessKey: env.srv.RootUser,
		SecretKey: env.srv.RootPassword,
		Bucket:    testBucket,
		Region:    testRegion,
	}
}

// mustPut writes an object with the root identity.
func (env minioEnv) mustPut(t testing.TB, bucket, key, body string) {
	t.Helper()
	_, err := env.root.PutObject(context.Background(), bucket, key, bytes.NewReader([]byte(body)), int64(len(body)), minio.PutObjectOptions{ContentType: "image/jpeg"})
	if err != nil {
		t.Fatalf("root PUT %s/%s: %v", bucket, key, err)
	}
}

// mustRead returns an object's body as root sees it.
func (env minioEnv) mustRead(t testing.TB, bucket, key string) string {
	t.Helper()
	body, err := readObject(context.Background(), env.root, bucket, key)
	if err != nil {
		t.Fatalf("root GET %s/%s: %v", bucket, key, err)
	}
	return body
}

func mustURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	return u
}

// mustS3 builds an ordinary S3 client, with retries off so a refusal or an
// outage shows at once.
func mustS3(t testing.TB, endpoint *url.URL, creds *credentials.Credentials) *minio.Client {
	t.Helper()
	c, err := minio.New(endpoint.Host, &minio.Options{
		Creds:      creds,
		Secure:     endpoint.Scheme == "https",
		Region:     testRegion,
		MaxRetries: 1,
	})
	if err != nil {
		t.Fatalf("minio.New(%s): %v", endpoint.Host, err)
	}
	return c
}

// s3As is what a browser does with vended credentials: sign for the
// endpoint and region they name.
func s3As(t testing.TB, creds storage.Credentials) *minio.Client {
	t.Helper()
	return mustS3(t, mustURL(t, creds.Endpoint), credentials.NewStaticV4(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken))
}

func mustBroker(t testing.TB, cfg storage.BrokerConfig) *storage.Broker {
	t.Helper()
	b, err := storage.NewBroker(cfg)
	if err != nil {
		t.Fatalf("NewBroker() error = %v", err)
	}
	return b
}

func mustVend(t testing.TB, b *storage.Broker, sub, cacheKey string) storage.Credentials {
	t.Helper()
	creds, err := b.Vend(context.Background(), sub, cacheKey)
	if err != nil {
		t.Fatalf("Vend(%s, %s) error = %v", sub, cacheKey, err)
	}
	return creds
}

// readObject GETs an object and reads it all; minio-go's GetObject is lazy
// and only reports a refusal on the first read.
func readObject(ctx context.Context, c *minio.Client, bucket, key string) (string, error) {
	obj, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", err
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	return string(b), err
}

// listKeys lists every key under prefix, or returns the first error.
func listKeys(ctx context.Context, c *minio.Client, bucket, prefix string) ([]string, error) {
	var keys []string
	for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, obj.Err
		}
		keys = append(keys, obj.Key)
	}
	return keys, nil
}

// httpGet fetches rawURL with plain net/http, as a browser would, and
// returns the body, or the S3 error document as a minio.ErrorResponse.
func httpGet(ctx context.Context, rawURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode == http.StatusOK {
		return string(body), nil
	}
	errResp := minio.ErrorResponse{StatusCode: resp.StatusCode}
	if err := xml.Unmarshal(body, &errResp); err != nil {
		return "", fmt.Errorf("GET %s: %s: %s", rawURL, resp.Status, body)
	}
	return "", errResp
}

// errCode is the S3 error code of err, "" for nil, or a marker for errors
// that are not S3 answers at all.
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		return "(not an S3 error: " + err.Error() + ")"
	}
	return resp.Code
}

// newFakeClock is an injectable clock for cache freshness, starting now.
func newFakeClock() *fakeclock.Clock { return fakeclock.New(time.Now()) }
