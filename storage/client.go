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

// Config is how the app reaches MinIO with its own identity.
type Config struct {
	// Endpoint is MinIO's URL as the app reaches it, e.g. http://minio:9000.
	Endpoint *url.URL
	// AccessKey and SecretKey are the app's (the broker's) MinIO identity.
	AccessKey, SecretKey string
	// Bucket is the photo bucket; Region is used for signing.
	Bucket, Region string
}

// Client is the app's handle on the photo bucket.
type Client struct {
	s3     *minio.Client
	bucket string
	region string
}

// New builds a Client. It does not contact MinIO, so the app can start (and
// report not-ready) while MinIO is still coming up.
func New(cfg Config) (*Client, error) {
	if cfg.Endpoint == nil {
		return nil, errors.New("storage: endpoint is required")
	}
	s3, err := minio.New(cfg.Endpoint.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Endpoint.Scheme == "https",
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: new minio client: %w", err)
	}
	return &Client{s3: s3, bucket: cfg.Bucket, region: cfg.Region}, nil
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
