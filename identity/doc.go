// Package identity is Pinhole's user pool: the part of the Cognito picture
// that answers "who are you?".
//
// It owns users and their attributes, sign-up and verification codes,
// password sign-in, sessions with rotating refresh tokens, the JWTs the pool
// issues, account recovery, throttling and the audit trail. It is pure domain
// code: no HTTP, no templates, no SQL. What it needs from the outside world it
// declares as small interfaces (Store, Mailer) that adapters implement:
// identity/gormstore for the database, identity/mailer for SMTP.
//
// Subpackages hold the fiddly, security-sensitive parts on their own so they
// can be read and tested in isolation: identity/password (argon2id hashing and
// the password policy) and identity/token (ES256 keys, JWKS, issuing and
// strictly verifying JWTs).
package identity
