package identity

import (
	"context"
	"errors"
	"fmt"
)

// Principal is who an access token speaks for, once verified.
type Principal struct {
	Sub       string
	SessionID string
	ClientID  string
	Scope     string
	Groups    []string
}

// Authenticate verifies an access token strictly (see identity/token) and
// checks that its session is still active, so sign-out, password changes and
// reuse detection take effect at once, not when the token expires.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	claims, err := s.tokens.VerifyAccess(ctx, accessToken)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	sess, err := s.store.SessionByID(ctx, claims.SessionID)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown session", ErrUnauthenticated)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: authenticate: %w", err)
	}
	if !sess.Active(s.now()) || sess.Sub != claims.Subject {
		return nil, fmt.Errorf("%w: session ended", ErrUnauthenticated)
	}
	return &Principal{
		Sub: claims.Subject, SessionID: claims.SessionID,
		ClientID: claims.ClientID, Scope: claims.Scope, Groups: claims.Groups,
	}, nil
}
