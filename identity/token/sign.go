package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SignAccess returns a signed access token for c. The caller sets Subject,
// SessionID, Scope and Groups; SignAccess sets the issuer, client, token id
// and times.
func (i *Issuer) SignAccess(ctx context.Context, c AccessClaims) (token string, err error) {
	if c.Subject == "" || c.SessionID == "" {
		return "", errors.New("token: sign access token: subject and session id are required")
	}
	if c.ID, err = i.randomID(); err != nil {
		return "", fmt.Errorf("token: sign access token: %w", err)
	}
	c.Issuer, c.ClientID = i.cfg.Issuer, i.cfg.ClientID
	c.IssuedAt, c.ExpiresAt = i.lifetime(i.cfg.AccessTTL)

	if token, err = i.sign(ctx, c.payload()); err != nil {
		return "", fmt.Errorf("token: sign access token: %w", err)
	}
	return token, nil
}

// SignID returns a signed ID token for c. The caller sets everything from
// Subject to AuthTime; SignID sets the issuer, audience, token id and times.
func (i *Issuer) SignID(ctx context.Context, c IDClaims) (string, error) {
	now := i.cfg.Now()
	switch {
	case c.Subject == "" || c.SessionID == "":
		return "", errors.New("token: sign ID token: subject and session id are required")
	case c.AuthTime.IsZero() || c.AuthTime.After(now.Add(leeway)):
		// A refresh must carry the original sign-in time forward rather
		// than claim a fresh authentication, so it cannot be left zero.
		// The leeway allows for a session started on a replica whose
		// clock runs a little ahead.
		return "", fmt.Errorf("token: sign ID token: auth time %v is not a past time", c.AuthTime)
	}
	var err error
	if c.ID, err = i.randomID(); err != nil {
		return "", fmt.Errorf("token: sign ID token: %w", err)
	}
	c.Issuer, c.Audience = i.cfg.Issuer, i.cfg.ClientID
	c.IssuedAt, c.ExpiresAt = i.lifetime(i.cfg.IDTTL)

	token, err := i.sign(ctx, c.payload())
	if err != nil {
		return "", fmt.Errorf("token: sign ID token: %w", err)
	}
	return token, nil
}

// lifetime returns the iat and exp of a token signed now that lives for ttl.
// JWT times are whole seconds, so now is truncated first and exp - iat is
// exactly ttl.
func (i *Issuer) lifetime(ttl time.Duration) (issuedAt, expiresAt time.Time) {
	issuedAt = i.cfg.Now().Truncate(time.Second)
	return issuedAt, issuedAt.Add(ttl)
}

// sign signs claims with the current signing key, naming it in the kid header.
func (i *Issuer) sign(ctx context.Context, claims jwt.Claims) (string, error) {
	keys, err := i.currentKeys(ctx)
	if err != nil {
		return "", err
	}
	if keys.signing == nil {
		return "", errors.New("no signing key; call EnsureKey at start-up")
	}

	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = keys.signing.id
	token, err := t.SignedString(keys.signing.private)
	if err != nil {
		return "", err
	}
	if len(token) > maxTokenSize {
		// Verification would refuse it; better to fail here, where the
		// cause (usually too many or too long custom attributes) is known.
		return "", fmt.Errorf("token is %d bytes, more than the %d accepted", len(token), maxTokenSize)
	}
	return token, nil
}
