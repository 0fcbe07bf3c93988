package token

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"fmt"
)

// JWKS is a JSON Web Key Set (RFC 7517 §5): the document served at
// /.well-known/jwks.json, from which anyone can check the pool's tokens.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is the public half of one signing key, as RFC 7517 and RFC 7518 §6.2
// spell an elliptic-curve key.
type JWK struct {
	KeyType   string `json:"kty"` // "EC"
	Curve     string `json:"crv"` // "P-256"
	X         string `json:"x"`   // x coordinate: 32 bytes, big-endian, base64url
	Y         string `json:"y"`   // y coordinate: 32 bytes, big-endian, base64url
	KeyID     string `json:"kid"` // matches the kid header of the tokens it signed
	Algorithm string `json:"alg"` // "ES256"
	Use       string `json:"use"` // "sig"
}

// JWKS returns the public keys that verify the pool's tokens: the signing key
// first, then retired keys whose tokens may still be valid. Other replicas'
// rotations show up within a minute, when the key cache is next refreshed.
func (i *Issuer) JWKS(ctx context.Context) (JWKS, error) {
	keys, err := i.currentKeys(ctx)
	if err != nil {
		return JWKS{}, fmt.Errorf("token: jwks: %w", err)
	}
	set := JWKS{Keys: []JWK{}} // "keys": [] rather than null, even when there are none
	for _, k := range keys.liveKeys(i.cfg.Now(), i.retiredKeyLifetime) {
		set.Keys = append(set.Keys, k.jwk)
	}
	return set, nil
}

// newJWK describes a P-256 public key as a JWK.
func newJWK(kid string, public *ecdsa.PublicKey) (JWK, error) {
	// Bytes returns the uncompressed point 0x04 || X || Y with each
	// coordinate left-padded to 32 bytes, exactly the fixed width RFC 7518
	// §6.2.1.2 asks for (a big.Int would drop leading zero bytes).
	point, err := public.Bytes()
	if err != nil {
		return JWK{}, fmt.Errorf("encode public key: %w", err)
	}
	const size = 32
	if len(point) != 1+2*size {
		return JWK{}, fmt.Errorf("encode public key: %d bytes, not a P-256 point", len(point))
	}
	return JWK{
		KeyType:   "EC",
		Curve:     "P-256",
		X:         base64.RawURLEncoding.EncodeToString(point[1 : 1+size]),
		Y:         base64.RawURLEncoding.EncodeToString(point[1+size:]),
		KeyID:     kid,
		Algorithm: "ES256",
		Use:       "sig",
	}, nil
}
