package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/pinhole/pinhole/identity/password"
	"github.com/pinhole/pinhole/identity/token"
)

// TokenSet is what a successful sign-in or refresh returns, shaped like an
// OAuth 2.0 token response.
type TokenSet struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int `json:"expires_in"`
}

// Challenge is a further step sign-in requires (MFA, once it exists). When a
// SignInResult carries one, it carries no tokens.
type Challenge struct {
	Name    string `json:"challenge_name"`
	Session string `json:"session"`
}

// SignInResult is either tokens or a challenge.
type SignInResult struct {
	Tokens    *TokenSet
	Challenge *Challenge
	// SessionID is the new session's id (the sid claim), for the caller's
	// bookkeeping; it is not a secret.
	SessionID string
}

// SignIn checks an email and password and starts a session. Every failure a
// stranger could cause (unknown email, wrong password, disabled account)
// returns ErrInvalidCredentials after the same amount of work.
func (s *Service) SignIn(ctx context.Context, email, pw string, meta RequestMeta) (*SignInResult, error) {
	email = NormalizeEmail(email)
	probs := problems{}
	if email == "" {
		probs.add("email", "Enter your email address.")
	}
	if pw == "" {
		probs.add("password", "Enter your password.")
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	if len(pw) > maxSignInPasswordBytes(s.cfg.Policy) {
		// Nobody's real password; don't spend a hash on it.
		return nil, ErrInvalidCredentials
	}
	if err := s.limitIP(ctx, keySignInIP, meta, s.cfg.Limits.SignInPerIP); err != nil {
		s.audit(ctx, Event{Kind: EventSignIn, Outcome: OutcomeFailure, Detail: "throttled_ip"}, meta)
		return nil, err
	}
	attempt, err := s.beginSignIn(ctx, email)
	if err != nil {
		s.audit(ctx, Event{Kind: EventSignIn, Outcome: OutcomeFailure, Detail: "throttled_account"}, meta)
		return nil, err
	}

	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("identity: sign in: %w", err)
	}
	if u == nil {
		// Same work as a wrong password, so timing does not reveal the miss.
		if err := s.hasher.VerifyDummy(ctx, pw); err != nil {
			s.releaseSignIn(ctx, email)
			return nil, fmt.Errorf("identity: verify password: %w", err)
		}
		s.signInFailed(ctx, email, attempt, "", "unknown_user", meta)
		return nil, ErrInvalidCredentials
	}
	ok, rehash, err := s.hasher.Verify(ctx, u.PasswordHash, pw)
	if err != nil {
		s.releaseSignIn(ctx, email)
		return nil, fmt.Errorf("identity: verify password: %w", err)
	}
	if !ok {
		s.signInFailed(ctx, email, attempt, u.Sub, "wrong_password", meta)
		return nil, ErrInvalidCredentials
	}
	if u.Status == StatusDisabled {
		s.signInFailed(ctx, email, attempt, u.Sub, "disabled", meta)
		return nil, ErrInvalidCredentials
	}
	if err := s.store.ClearAttempts(ctx, keySignInAccount+email); err != nil {
		return nil, fmt.Errorf("identity: clear sign-in attempts: %w", err)
	}
	if u.Status == StatusUnconfirmed {
		// The password was right, so saying this reveals nothing new.
		s.audit(ctx, Event{Sub: u.Sub, Kind: EventSignIn, Outcome: OutcomeFailure, Detail: "not_confirmed"}, meta)
		return nil, ErrUserNotConfirmed
	}
	if rehash {
		s.rehash(ctx, u, pw, meta)
	}
	tokens, sess, err := s.startSession(ctx, u, meta)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, Event{Sub: u.Sub, Kind: EventSignIn, Outcome: OutcomeSuccess, SessionID: sess.ID}, meta)
	return &SignInResult{Tokens: tokens, SessionID: sess.ID}, nil
}

// maxSignInPasswordBytes is the longest password SignIn will hash: four
// bytes (the most UTF-8 spends on a character) for each character a new
// password may have. A zero MaxLength means the default, as in Policy
// itself, and a policy lowered below the default must not lock out the
// passwords it used to allow.
func maxSignInPasswordBytes(p *password.Policy) int {
	return 4 * max(p.MaxLength, password.DefaultMaxLength)
}

// releaseSignIn gives back a reserved attempt whose password was never
// checked (the hasher was at capacity): a busy server must not push a real
// user towards backoff or the failure cap.
func (s *Service) releaseSignIn(ctx context.Context, email string) {
	if err := s.store.ReleaseAttempt(ctx, keySignInAccount+email); err != nil {
		s.log.ErrorContext(ctx, "sign-in attempt not released", "err", err)
	}
}

// signInFailed settles a failed attempt. beginSignIn already counted it as a
// failure, so only the backoff and the audit line are left.
func (s *Service) signInFailed(ctx context.Context, email string, attempt Attempts, sub, detail string, meta RequestMeta) {
	s.failSignIn(ctx, email, attempt.Failures)
	s.audit(ctx, Event{Sub: sub, Kind: EventSignIn, Outcome: OutcomeFailure, Detail: detail}, meta)
}

// rehash upgrades a stored hash made with older parameters. It runs after a
// successful sign-in, the only moment the plain password is at hand.
func (s *Service) rehash(ctx context.Context, u *User, pw string, meta RequestMeta) {
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		s.log.WarnContext(ctx, "password rehash skipped", "err", err)
		return
	}
	u.PasswordHash = hash
	u.UpdatedAt = s.now()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		s.log.WarnContext(ctx, "password rehash not saved", "err", err)
		return
	}
	s.audit(ctx, Event{Sub: u.Sub, Kind: EventPasswordRehashed, Outcome: OutcomeSuccess}, meta)
}

// startSession creates a session with its first refresh token and signs the
// first ID and access tokens.
func (s *Service) startSession(ctx context.Context, u *User, meta RequestMeta) (*TokenSet, *Session, error) {
	refresh, err := newSecret(s.cfg.Rand)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	sess := &Session{
		ID: uuid.NewString(), Sub: u.Sub,
		AuthTime: now, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL),
		IP: meta.IP, UserAgent: meta.userAgent(),
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.CreateSession(ctx, *sess); err != nil {
			return err
		}
		return tx.CreateRefreshToken(ctx, RefreshToken{Hash: hashSecret(refresh), SessionID: sess.ID, CreatedAt: now})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("identity: start session: %w", err)
	}
	tokens, err := s.issueTokens(ctx, u, sess, refresh)
	return tokens, sess, err
}

// Scopes granted to Pinhole's own client.
const defaultScope = "openid email profile pinhole/photos"

// issueTokens signs a fresh ID and access token for a session.
func (s *Service) issueTokens(ctx context.Context, u *User, sess *Session, refresh string) (*TokenSet, error) {
	access, err := s.tokens.SignAccess(ctx, token.AccessClaims{
		Subject: u.Sub, SessionID: sess.ID, Scope: defaultScope, Groups: u.Groups,
	})
	if err != nil {
		return nil, fmt.Errorf("identity: sign access token: %w", err)
	}
	custom := make(map[string]any, len(u.Attributes))
	for k, v := range u.Attributes {
		custom[k] = v
	}
	id, err := s.tokens.SignID(ctx, token.IDClaims{
		Subject: u.Sub, SessionID: sess.ID,
		Email: u.Email, EmailVerified: u.EmailVerified,
		PhoneNumber: u.PhoneNumber, PhoneNumberVerified: u.PhoneNumberVerified,
		Groups: u.Groups, Custom: custom, AuthTime: sess.AuthTime,
	})
	if err != nil {
		return nil, fmt.Errorf("identity: sign id token: %w", err)
	}
	return &TokenSet{
		IDToken: id, AccessToken: access, RefreshToken: refresh,
		TokenType: "Bearer", ExpiresIn: int(s.cfg.AccessTTL.Seconds()),
	}, nil
}
