package identity

import (
	"context"
	"errors"
	"fmt"
)

// SignOut ends the caller's own session: its refresh tokens stop working and
// its access tokens are refused from now on.
func (s *Service) SignOut(ctx context.Context, p *Principal, meta RequestMeta) error {
	if err := s.store.RevokeSession(ctx, p.SessionID, s.now()); err != nil {
		return fmt.Errorf("identity: sign out: %w", err)
	}
	s.audit(ctx, Event{Sub: p.Sub, Kind: EventSignOut, Outcome: OutcomeSuccess, SessionID: p.SessionID}, meta)
	return nil
}

// SignOutRefreshToken ends the session a refresh token belongs to. It lets a
// client without a valid access token (say, after it expired) still sign out.
// Unknown tokens are ignored: the outcome the caller wants already holds.
func (s *Service) SignOutRefreshToken(ctx context.Context, refreshToken string, meta RequestMeta) error {
	if !wellFormedSecret(refreshToken) {
		return nil
	}
	var sess *Session
	err := s.store.Tx(ctx, func(tx Store) error {
		t, err := tx.LockRefreshToken(ctx, hashSecret(refreshToken))
		if err != nil {
			return err
		}
		if sess, err = tx.SessionByID(ctx, t.SessionID); err != nil {
			return err
		}
		return tx.RevokeSession(ctx, sess.ID, s.now())
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("identity: sign out: %w", err)
	}
	s.audit(ctx, Event{Sub: sess.Sub, Kind: EventSignOut, Outcome: OutcomeSuccess, SessionID: sess.ID}, meta)
	return nil
}

// GlobalSignOut ends every session of the caller, on every device.
func (s *Service) GlobalSignOut(ctx context.Context, p *Principal, meta RequestMeta) error {
	n, err := s.store.RevokeSessions(ctx, p.Sub, s.now(), "")
	if err != nil {
		return fmt.Errorf("identity: global sign out: %w", err)
	}
	s.audit(ctx, Event{Sub: p.Sub, Kind: EventGlobalSignOut, Outcome: OutcomeSuccess, SessionID: p.SessionID, Detail: fmt.Sprintf("%d_sessions", n)}, meta)
	return nil
}

// Sessions lists the caller's active sessions, newest first.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]Session, error) {
	list, err := s.store.ActiveSessions(ctx, p.Sub, s.now())
	if err != nil {
		return nil, fmt.Errorf("identity: list sessions: %w", err)
	}
	return list, nil
}

// RevokeSession ends one of the caller's sessions (for "sign out that
// device"). Another user's session id is reported as not found.
func (s *Service) RevokeSession(ctx context.Context, p *Principal, sessionID string, meta RequestMeta) error {
	sess, err := s.store.SessionByID(ctx, sessionID)
	if errors.Is(err, ErrNotFound) || (err == nil && sess.Sub != p.Sub) {
		return ErrSessionNotFound
	}
	if err != nil {
		return fmt.Errorf("identity: revoke session: %w", err)
	}
	if err := s.store.RevokeSession(ctx, sessionID, s.now()); err != nil {
		return fmt.Errorf("identity: revoke session: %w", err)
	}
	s.audit(ctx, Event{Sub: p.Sub, Kind: EventSessionRevoked, Outcome: OutcomeSuccess, SessionID: sessionID}, meta)
	return nil
}

// Activity returns the caller's most recent audit events, newest first.
func (s *Service) Activity(ctx context.Context, p *Principal, limit int) ([]Event, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	events, err := s.store.Events(ctx, p.Sub, limit)
	if err != nil {
		return nil, fmt.Errorf("identity: activity: %w", err)
	}
	return events, nil
}

// RecordEvent lets other parts of the app (the credential broker) write to
// the same audit trail.
func (s *Service) RecordEvent(ctx context.Context, p *Principal, kind EventKind, outcome, detail string, meta RequestMeta) {
	s.audit(ctx, Event{Sub: p.Sub, Kind: kind, Outcome: outcome, SessionID: p.SessionID, Detail: detail}, meta)
}
