package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// ErrInvalidSubject means a user id is not a canonical lower-case UUID, so it
// must not be written into a policy: a "*" or "?" in a policy path is a
// wildcard, and "" or "../x" would name someone else's folder.
var ErrInvalidSubject = errors.New("storage: invalid subject: want a lower-case canonical UUID")

// subjectPattern is the only shape a user id (the token's sub) may have
// before it becomes part of a policy or an object key. SPEC §3 allows
// ^[0-9a-f-]{36}$; this is the stricter, canonical form that uuid.NewString
// produces (8-4-4-4-12 lower-case hex), so "------..." or "0000...-" with
// dashes in the wrong places is refused too. Nothing in it is special in
// IAM wildcards or S3 keys.
var subjectPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// policyVersion is the IAM policy language version; MinIO refuses a session
// policy without it.
const policyVersion = "2012-10-17"

// userObjectActions is everything a browser needs inside its own folder, and
// nothing more:
//   - PUT, GET (and HEAD, which S3 authorises as GetObject) and DELETE of
//     single objects;
//   - multipart uploads: CreateMultipartUpload, UploadPart and
//     CompleteMultipartUpload are all authorised as s3:PutObject, so only
//     aborting an upload and listing its parts (to resume it) need actions
//     of their own.
//
// Deliberately absent: s3:ListBucketMultipartUploads (a bucket-level action
// that cannot be narrowed to a prefix the way ListBucket can, and would show
// other users' upload keys), tagging, ACLs, retention and every bucket or
// admin action.
var userObjectActions = []string{
	"s3:GetObject",
	"s3:PutObject",
	"s3:DeleteObject",
	"s3:AbortMultipartUpload",
	"s3:ListMultipartUploadParts",
}

// policyDocument is the part of the IAM policy grammar the broker emits. It
// is built from structs and marshalled by encoding/json, never by pasting
// strings, so no value can break out of its JSON string.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

// policyStatement is one Allow rule. Everything not allowed is denied.
type policyStatement struct {
	Sid       string           `json:"Sid"`
	Effect    string           `json:"Effect"`
	Action    []string         `json:"Action"`
	Resource  []string         `json:"Resource"`
	Condition *policyCondition `json:"Condition,omitempty"`
}

// policyCondition holds the condition operators the broker uses; a map keyed
// by condition key (s3:prefix) marshals in a stable, sorted order.
type policyCondition struct {
	StringLike map[string][]string `json:"StringLike,omitempty"`
}

// UserPrefix returns the folder a user owns in the photo bucket,
// "users/<sub>/", with the trailing slash that keeps users/<a>/ from also
// matching users/<a>x/. It refuses any sub that is not a canonical UUID.
func UserPrefix(sub string) (string, error) {
	if !subjectPattern.MatchString(sub) {
		return "", fmt.Errorf("%w: got %q", ErrInvalidSubject, sub)
	}
	return "users/" + sub + "/", nil
}

// SessionPolicy returns the inline IAM session policy that confines
// temporary credentials to one user's folder in bucket:
//
//   - object actions (see userObjectActions) on arn:aws:s3:::<bucket>/users/<sub>/*;
//   - s3:ListBucket on arn:aws:s3:::<bucket> only when the request's
//     s3:prefix is "users/<sub>/" or starts with it.
//
// LIST needs its own statement because ListObjects is an action on the
// bucket, not on objects, so the object statement's resource cannot cover
// it; the s3:prefix condition is what stops a LIST of "users/" or of the
// whole bucket. Both patterns end in "/", so the prefix "users/<sub>" (no
// slash), which would also match users/<sub>x..., is refused.
//
// It is a pure function: no I/O, the same input always gives the same bytes.
// It fails with ErrInvalidSubject for anything but a lower-case canonical
// UUID, and with an error for a bucket name that is not a strict S3 name
// (which also keeps wildcards out of the bucket ARN).
func SessionPolicy(bucket, sub string) ([]byte, error) {
	prefix, err := UserPrefix(sub)
	if err != nil {
		return nil, err
	}
	if err := s3utils.CheckValidBucketNameStrict(bucket); err != nil {
		return nil, fmt.Errorf("storage: session policy: bucket %q: %w", bucket, err)
	}
	bucketARN := "arn:aws:s3:::" + bucket
	doc := policyDocument{
		Version: policyVersion,
		Statement: []policyStatement{
			{
				Sid:      "OwnObjects",
				Effect:   "Allow",
				Action:   userObjectActions,
				Resource: []string{bucketARN + "/" + prefix + "*"},
			},
			{
				Sid:      "ListOwnPrefix",
				Effect:   "Allow",
				Action:   []string{"s3:ListBucket"},
				Resource: []string{bucketARN},
				Condition: &policyCondition{
					StringLike: map[string][]string{
						// The folder itself (what a gallery lists) and
						// anything below it. "*" also matches nothing, so
						// the first is implied by the second; it is spelled
						// out so a reader need not know that.
						"s3:prefix": {prefix, prefix + "*"},
					},
				},
			},
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		// Unreachable with these types; kept so a future field that can
		// fail to marshal is not silently ignored.
		return nil, fmt.Errorf("storage: session policy: %w", err)
	}
	return b, nil
}
