package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ErrUnavailable means MinIO did not answer; callers turn it into a 503.
var ErrUnavailable = errors.New("storage: object storage is unavailable")

// defaultRegion is MinIO's region when none is configured. Signing needs a
// region, and knowing it locally spares minio-go a GetBucketLocation call.
const defaultRegion = "us-east-1"

// Config is how the app reaches MinIO with its own identity.
type Config struct {
	// Endpoint is MinIO's URL as the app reaches it, e.g. http://minio:9000.
	Endpoint *url.URL
	// PublicURL is MinIO's URL as browsers reach it, e.g.
	// https://photos.example.com. Presigned URLs are signed for this host,
	// because SigV4 signs the Host header: a URL signed for minio:9000
	// would be refused when fetched as photos.example.com. Nil means
	// Endpoint.
	PublicURL *url.URL
	// AccessKey and SecretKey are the app's (the broker's) MinIO identity.
	AccessKey, SecretKey string
	// Bucket is the photo bucket; Region is used for signing.
	Bucket, Region string
}

// Client is the app's handle on the photo bucket.
type Client struct {
	s3 *minio.Client
	// presigner only signs URLs for the public host; it never sends a
	// request, because its region is set (see New).
	presigner *minio.Client
	bucket    string
	region    string
}

// New builds a Client. It does not contact MinIO, so the app can start (and
// report not-ready) while MinIO is still coming up.
func New(cfg Config) (*Client, error) {
	if err := checkEndpoint("endpoint", cfg.Endpoint); err != nil {
		return nil, err
	}
	if cfg.PublicURL == nil {
		cfg.PublicURL = cfg.Endpoint
	}
	if err := checkEndpoint("public URL", cfg.PublicURL); err != nil {
		return nil, err
	}
	creds := credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	s3, err := minio.New(cfg.Endpoint.Host, &minio.Options{
		Creds:  creds,
		Secure: cfg.Endpoint.Scheme == "https",
		Region: cfg.Region,
		// minio-go retries ten times by default; when MinIO is down that
		// turns every call into a multi-second wait. A few retries ride out
		// a blip, and an outage becomes a prompt 503.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: new minio client: %w", err)
	}
	// Without a region, minio-go would ask the public host for the
	// bucket's location before presigning, and the app often cannot reach
	// that host (it is the browser's view of MinIO, e.g. behind a proxy).
	presignRegion := cfg.Region
	if presignRegion == "" {
		presignRegion = defaultRegion
	}
	presigner, err := minio.New(cfg.PublicURL.Host, &minio.Options{
		Creds:  creds,
		Secure: cfg.PublicURL.Scheme == "https",
		Region: presignRegion,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: new minio presigner: %w", err)
	}
	return &Client{s3: s3, presigner: presigner, bucket: cfg.Bucket, region: cfg.Region}, nil
}

// checkEndpoint accepts scheme://host[:port] only: minio-go addresses MinIO
// by host, so a path (MinIO behind a sub-path proxy) would be silently lost.
func checkEndpoint(name string, u *url.URL) error {
	switch {
	case u == nil:
		return fmt.Errorf("storage: %s is required", name)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("storage: %s %q: scheme must be http or https", name, u.Redacted())
	case u.Host == "":
		return fmt.Errorf("storage: %s %q: host is missing", name, u.Redacted())
	case u.Path != "" && u.Path != "/":
		return fmt.Errorf("storage: %s %q: must not have a path", name, u.Redacted())
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("storage: %s %q: must not carry credentials, a query or a fragment", name, u.Redacted())
	}
	return nil
}

// originOf returns scheme://host[:port], the form minio-go and browsers
// expect for an endpoint.
func originOf(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}

// Bucket returns the name of the photo bucket.
func (c *Client) Bucket() string { return c.bucket }

// EnsureBucket creates the photo bucket if it does not exist yet. It is safe to
// call on every start and from several replicas at once.
func (c *Client) EnsureBucket(ctx context.Context) error {
	exists, err := c.s3.BucketExists(ctx, c.bucket)
	if err != nil {
		return fmt.Errorf("%w: check bucket %q: %w", ErrUnavailable, c.bucket, err)
	}
	if exists {
		return nil
	}
	err = c.s3.MakeBucket(ctx, c.bucket, minio.MakeBucketOptions{Region: c.region})
	if err != nil {
		// Another replica may have won the race between our check and create.
		code := minio.ToErrorResponse(err).Code
		if code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
			return nil
		}
		return fmt.Errorf("storage: create bucket %q: %w", c.bucket, err)
	}
	return nil
}

// Ping reports whether MinIO answers and the photo bucket exists. It backs
// /readyz, so it must be cheap: one HEAD request.
func (c *Client) Ping(ctx context.Context) error {
	exists, err := c.s3.BucketExists(ctx, c.bucket)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !exists {
		return fmt.Errorf("storage: bucket %q does not exist", c.bucket)
	}
	return nil
}
