package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// ErrObjectNotFound means the key does not exist in the photo bucket, for
// example a photo registered before its upload finished.
var ErrObjectNotFound = errors.New("storage: object not found")

// Limits of a presigned URL's lifetime: SigV4 allows at most seven days,
// and a URL must live at least a second to be of any use.
const (
	minPresignTTL = time.Second
	maxPresignTTL = 7 * 24 * time.Hour
)

// ObjectInfo is what the app needs to know about a stored object to accept
// it as a photo: where it is, how big, what type, and when it was written.
type ObjectInfo struct {
	Key          string
	Size         int64
	ContentType  string
	LastModified time.Time
}

// PresignGetAs returns a URL through which a browser can GET key for ttl
// (between one second and seven days), signed with the app's identity for
// MinIO's public host. It is computed locally, without a request to MinIO,
// so galleries still render links while MinIO is briefly down.
//
// The response's Content-Type is fixed to contentType (an S3 response
// override that is part of the signature), and Content-Disposition to
// inline. Whatever the owner later writes to the key (they hold PUT rights
// until their credentials expire), the URL serves it as the image type that
// was checked at registration, never as HTML. That is why there is no
// variant without a type.
func (c *Client) PresignGetAs(ctx context.Context, key, contentType string, ttl time.Duration) (string, error) {
	if err := s3utils.CheckValidObjectName(key); err != nil {
		return "", fmt.Errorf("storage: presign %q: %w", key, err)
	}
	if ttl < minPresignTTL || ttl > maxPresignTTL {
		return "", fmt.Errorf("storage: presign %q: ttl %s is outside [%s, %s]", key, ttl, minPresignTTL, maxPresignTTL)
	}
	params := url.Values{"response-content-type": {contentType}, "response-content-disposition": {"inline"}}
	u, err := c.presigner.PresignedGetObject(ctx, c.bucket, key, ttl, params)
	if err != nil {
		return "", fmt.Errorf("storage: presign %q: %w", key, err)
	}
	return u.String(), nil
}

// Stat returns key's size, content type and modification time; it fails
// with ErrObjectNotFound if there is no such object. The app uses it to
// check an upload the browser made before recording it as a photo.
func (c *Client) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := s3utils.CheckValidObjectName(key); err != nil {
		return ObjectInfo{}, fmt.Errorf("storage: stat %q: %w", key, err)
	}
	info, err := c.s3.StatObject(ctx, c.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return ObjectInfo{}, fmt.Errorf("%w: %q", ErrObjectNotFound, key)
		}
		return ObjectInfo{}, classify(fmt.Sprintf("stat %q", key), err)
	}
	return ObjectInfo{
		Key:          info.Key,
		Size:         info.Size,
		ContentType:  info.ContentType,
		LastModified: info.LastModified,
	}, nil
}

// Delete removes keys one by one and stops at the first failure. Deleting a
// key that does not exist succeeds (S3 semantics), so retrying after a
// partial failure is safe. One request per key is plenty for a photo and
// its thumbnail; minio-go's RemoveObjects batches when there are thousands.
func (c *Client) Delete(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		if err := s3utils.CheckValidObjectName(key); err != nil {
			return fmt.Errorf("storage: delete %q: %w", key, err)
		}
	}
	for _, key := range keys {
		if err := c.s3.RemoveObject(ctx, c.bucket, key, minio.RemoveObjectOptions{}); err != nil {
			return classify(fmt.Sprintf("delete %q", key), err)
		}
	}
	return nil
}

// classify wraps an error from a minio-go call: no answer from MinIO (a
// network error or timeout) or a 5xx becomes ErrUnavailable, so the app
// answers 503; anything else, such as AccessDenied for a broker identity
// without the right policy, is reported as it is.
func classify(op string, err error) error {
	if minio.IsNetworkOrHostDown(err, false) || minio.ToErrorResponse(err).StatusCode >= 500 {
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
	}
	return fmt.Errorf("storage: %s: %w", op, err)
}
