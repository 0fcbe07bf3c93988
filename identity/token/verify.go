package token

import (
	"context"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// VerifyAccess checks an access token and returns its claims. Any failure
// wraps ErrInvalidToken. It does not check that the session (sid) is still
// active: the caller must, so that signing out takes effect at once.
func (i *Issuer) VerifyAccess(ctx context.Context, raw string) (*AccessClaims, error) {
	if len(raw) <= maxTokenSize {
		if c, ok := i.verified.get(raw, i.cfg.Now()); ok {
			return c, nil
		}
	}
	var p accessPayload
	if err := i.verify(ctx, i.accessParser, raw, &p); err != nil {
		return nil, err
	}
	// Access tokens name their client in client_id rather than aud, so the
	// parser cannot check it.
	if p.ClientID != i.cfg.ClientID {
		return nil, fmt.Errorf("%w: client_id %q, want %q", ErrInvalidToken, p.ClientID, i.cfg.ClientID)
	}
	claims := p.claims()
	i.verified.put(raw, claims, i.cfg.Now())
	return claims, nil
}

// VerifyID checks an ID token and returns its claims. Any failure wraps
// ErrInvalidToken. Like VerifyAccess, it leaves the session check to the
// caller.
func (i *Issuer) VerifyID(ctx context.Context, raw string) (*IDClaims, error) {
	var p idPayload
	if err := i.verify(ctx, i.idParser, raw, &p); err != nil {
		return nil, err
	}
	return p.claims(), nil
}

// verify checks raw's size, algorithm, key, signature and claims with parser,
// decoding the payload into claims.
func (i *Issuer) verify(ctx context.Context, parser *jwt.Parser, raw string, claims jwt.Claims) error {
	if len(raw) > maxTokenSize {
		return fmt.Errorf("%w: %d bytes, more than the %d accepted", ErrInvalidToken, len(raw), maxTokenSize)
	}
	if _, err := parser.ParseWithClaims(raw, claims, i.keyFunc(ctx)); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return nil
}

// keyFunc returns the function golang-jwt calls, after the algorithm check,
// to find the key that should have signed a token: the live key of the pool
// named by the kid header, and nothing else. Headers that point elsewhere
// (jku, x5u, an embedded jwk) are never looked at.
func (i *Issuer) keyFunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("kid header is missing")
		}
		key, err := i.verificationKey(ctx, kid)
		if err != nil {
			return nil, err
		}
		return &key.private.PublicKey, nil
	}
}

// verificationKey returns the live key with this kid. If the cache does not
// have it, another replica may just have created it, so the store is read
// again, but no more often than unknownKIDReloadInterval, whatever the
// number of made-up kids thrown at us.
func (i *Issuer) verificationKey(ctx context.Context, kid string) (*parsedKey, error) {
	keys, err := i.currentKeys(ctx)
	if err != nil {
		return nil, err
	}
	if k := keys.lookup(kid, i.cfg.Now(), i.retiredKeyLifetime); k != nil {
		return k, nil
	}

	keys, err = i.reload(ctx, unknownKIDReloadInterval)
	if err != nil {
		return nil, fmt.Errorf("unknown kid %q: %w", kid, err)
	}
	if k := keys.lookup(kid, i.cfg.Now(), i.retiredKeyLifetime); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}
