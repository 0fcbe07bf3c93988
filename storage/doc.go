// Package storage is Pinhole's identity pool and object store: the part of the
// Cognito picture that turns "who you are" into "what you may touch".
//
// A signed-in user's tokens are exchanged for temporary MinIO STS credentials
// whose session policy reaches only users/<sub>/ in the photo bucket, so the
// browser can upload straight to MinIO without the app ever carrying photo
// bytes. The app's own MinIO identity is used only for bootstrap (the bucket),
// STS calls, presigned GETs, stat and delete.
//
// The package takes a user id string, never identity types: the credential
// broker trusts the caller to have verified the token.
package storage
