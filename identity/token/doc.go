// Package token issues and verifies the user pool's JSON Web Tokens, and
// publishes the keys that check them.
//
// In the Cognito picture this is the user pool's token machinery and its
// /.well-known/jwks.json. Sign-in and refresh hand out two tokens: an ID token,
// which tells the app client who the user is (email, phone, custom
// attributes), and an access token, which the client presents to Pinhole's
// API (scope, groups). Both name the session they belong to (sid), and an
// Issuer is the one type that signs them, verifies them and publishes the
// JWKS.
//
// # Why ES256
//
// Tokens are signed with ECDSA over P-256 and SHA-256. It is asymmetric: only
// the pool, holding the private key, can mint a token, while anyone can check
// one with the public key from the JWKS, so a service that only verifies never
// holds a secret that could mint tokens (with HS256 it would). Cognito uses
// RS256 for the same reason; ES256 gives the same guarantee with far smaller
// keys and signatures (64 bytes instead of 256), and every JWT library
// supports it.
//
// # Why the keys live in the database
//
// Every replica must sign with the same key and accept the others' tokens, and
// a rotation made on one must reach all of them. So the keys are rows behind
// the small KeyStore interface, implemented by the database adapter. Each
// Issuer keeps them parsed in memory, so verification costs one map lookup and
// one signature check, and rereads the store once a minute, or sooner when a
// token names a key it has not seen (at most once every five seconds, so
// made-up kids cannot turn into database load).
//
// Rotate adds a key that signs from then on and retires the previous one. A
// retired key stays in the JWKS and keeps verifying until every token it can
// have signed has expired: for the longest token lifetime, plus the clock
// leeway, plus the one minute a replica that has not reread the store may
// still sign with it. A later Rotate deletes it.
//
// # Why verification is strict
//
// A JWT names its own algorithm and key, so a lax verifier lets the attacker
// choose them: "alg":"none", or HS256 keyed with our public key, which anyone
// can download. Verification therefore:
//
//   - refuses anything longer than 8 KiB before decoding it;
//   - accepts the ES256 algorithm only;
//   - requires a kid header and looks it up only among the pool's own live
//     keys, never following jku, x5u or an embedded jwk;
//   - requires iss to be the configured issuer, and the app client in aud (ID
//     tokens) or client_id (access tokens);
//   - requires exp and iat, and checks them and any nbf against the injected
//     clock with 30 seconds of leeway for clock skew between machines;
//   - requires token_use to match, so an ID token is never accepted as an
//     access token or the other way round;
//   - requires sub, sid and jti.
//
// Every failure wraps ErrInvalidToken, with the reason in the message for the
// logs.
//
// What is not checked here is whether the session named by sid is still
// active: that needs the database, and belongs to the identity service, which
// calls VerifyAccess and then looks the session up, so that signing out takes
// effect at once rather than when the token expires.
package token
