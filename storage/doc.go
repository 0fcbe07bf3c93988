// Package storage is Pinhole's identity pool and object store: the part of the
// Cognito picture that turns "who you are" into "what you may touch".
//
// The user pool (package identity) proves who a user is and issues tokens.
// The identity pool, here, exchanges a verified user id (the token's sub)
// for temporary MinIO credentials that reach only users/<sub>/ in the photo
// bucket, so the browser can upload straight to MinIO without the app ever
// carrying photo bytes. The package takes a user id string, never identity
// types: the Broker trusts its caller to have verified the token, and checks
// only that the id is a canonical UUID before it goes anywhere near a policy.
//
// # Why session policies
//
// Cognito hands each user credentials for an IAM role whose policy uses
// ${cognito-identity.amazonaws.com:sub}. MinIO has no per-user role to
// assume, so the Broker calls STS AssumeRole with its own identity and
// attaches an inline session policy written for that one user
// (SessionPolicy): object actions on arn:aws:s3:::<bucket>/users/<sub>/* and
// s3:ListBucket on the bucket only for an s3:prefix of users/<sub>/. One
// broker identity can thus vend credentials for any number of users without
// a MinIO user or policy per person.
//
// # Why the broker's own policy bounds everything
//
// A session policy can only take permissions away. MinIO grants a request
// made with vended credentials only if both the session policy and the
// policy of the identity that called AssumeRole allow it (the intersection).
// So even a bug in SessionPolicy cannot give a browser more than the broker
// identity has, and the broker identity should have as little as possible.
// (The root user is a special case: it has every permission, so with root as
// the broker the session policy is the only limit. That is acceptable for
// `make run` and the tests, never for production.)
//
// # Least-privilege production setup
//
// Create a dedicated MinIO user for the app (MINIO_ACCESS_KEY and
// MINIO_SECRET_KEY) and attach one policy that allows, on the photo bucket
// only: s3:ListBucket on arn:aws:s3:::<bucket> (for Ping and for users'
// listings); s3:GetObject, s3:PutObject, s3:DeleteObject,
// s3:AbortMultipartUpload and s3:ListMultipartUploadParts on
// arn:aws:s3:::<bucket>/users/*; and s3:CreateBucket only if the app should
// create the bucket on first start (otherwise create it once by hand and
// leave that out). No admin actions, no other buckets, no bucket policy or
// ACL changes. MinIO lets any long-term user call AssumeRole for itself, so
// no STS permission is needed, while temporary credentials may not call it
// at all, so a browser cannot trade its credentials for wider ones. Keep
// credentials short-lived (BrokerConfig.Duration): a vended credential
// cannot be recalled before it expires.
//
// # What MinIO enforces
//
// The tests in this package run vended credentials against a real MinIO and
// show that a user can PUT, GET, HEAD, LIST, DELETE and upload in parts in
// their own folder, and that everything else is refused with AccessDenied:
// other users' folders, users/ and the bucket root, users/<sub> without its
// slash, other buckets, ListBuckets, CopyObject out of another folder,
// bucket creation and bucket policies. "../" in a key is refused before
// policy evaluation; a tampered, stripped or borrowed session token is
// refused; vended credentials cannot call AssumeRole themselves. Expiry is
// enforced by MinIO on every request, from the session token's exp claim.
//
// The app's own identity is used for everything else: bucket bootstrap
// (Client.EnsureBucket), STS calls (Broker), presigned GETs for the gallery
// (Client.PresignGetAs, signed for MinIO's public host), and Stat and Delete.
package storage
