package identity

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// Refresh exchanges a refresh token for new tokens and a new refresh token
// (rotation). Each session is one family of refresh tokens:
//
//   - a current token rotates: it is marked used and a successor is issued;
//   - a used token presented again within RefreshGrace (two tabs refreshing
//     at once) yields the same successor it already produced;
//   - a used token presented later means someone kept a copy: the whole
//     session is revoked and ErrRefreshTokenReused returned, so neither the
//     thief nor the victim can go on with it (the victim signs in again).
func (s *Service) Refresh(ctx context.Context, refreshToken string, meta RequestMeta) (*TokenSet, error) {
	if !wellFormedSecret(refreshToken) {
		return nil, ErrInvalidRefreshToken
	}
	now := s.now()
	var (
		user      *User
		sess      *Session
		successor string
		outcome   error
	)
	err := s.store.Tx(ctx, func(tx Store) error {
		t, err := tx.LockRefreshToken(ctx, hashSecret(refreshToken))
		if errors.Is(err, ErrNotFound) {
			outcome = ErrInvalidRefreshToken
			return nil
		}
		if err != nil {
			return err
		}
		if sess, err = tx.SessionByID(ctx, t.SessionID); err != nil {
			return err
		}
		if !sess.Active(now) {
			outcome = ErrInvalidRefreshToken
			return nil
		}
		if user, err = tx.UserBySub(ctx, sess.Sub); err != nil {
			return err
		}
		if user.Status != StatusConfirmed {
			outcome = ErrInvalidRefreshToken
			return tx.RevokeSession(ctx, sess.ID, now)
		}

		if t.RotatedAt != nil {
			if now.Sub(*t.RotatedAt) > s.cfg.RefreshGrace {
				outcome = ErrRefreshTokenReused
				return tx.RevokeSession(ctx, sess.ID, now)
			}
			successor, err = openSuccessor(refreshToken, t.SuccessorSealed)
			return err
		}

		if successor, err = newSecret(s.cfg.Rand); err != nil {
			return err
		}
		sealed, err := sealSuccessor(s.cfg.Rand, refreshToken, successor)
		if err != nil {
			return err
		}
		if err := tx.CreateRefreshToken(ctx, RefreshToken{Hash: hashSecret(successor), SessionID: sess.ID, CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.MarkRefreshTokenRotated(ctx, t.Hash, now, sealed); err != nil {
			return err
		}
		return tx.TouchSession(ctx, sess.ID, now, meta.IP, meta.userAgent())
	})
	if err != nil {
		return nil, fmt.Errorf("identity: refresh: %w", err)
	}
	switch {
	case errors.Is(outcome, ErrRefreshTokenReused):
		s.log.WarnContext(ctx, "refresh token reuse detected; session revoked", "sid", sess.ID, "sub", sess.Sub)
		s.audit(ctx, Event{Sub: sess.Sub, Kind: EventRefreshReuse, Outcome: OutcomeFailure, SessionID: sess.ID, Detail: "session_revoked"}, meta)
		return nil, outcome
	case outcome != nil:
		return nil, outcome
	}
	tokens, err := s.issueTokens(ctx, user, sess, successor)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, Event{Sub: sess.Sub, Kind: EventRefresh, Outcome: OutcomeSuccess, SessionID: sess.ID}, meta)
	return tokens, nil
}

// successorInfo separates this use of HKDF from any other.
const successorInfo = "pinhole refresh-token successor v1"

// sealSuccessor encrypts the successor under a key derived from the token it
// replaces. Only someone holding that token can open it again, so the stored
// value is no more useful to a database reader than the hash beside it.
func sealSuccessor(r io.Reader, refreshToken, successor string) ([]byte, error) {
	aead, err := successorAEAD(refreshToken)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(successor)+aead.Overhead())
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, fmt.Errorf("identity: random: %w", err)
	}
	return aead.Seal(nonce, nonce, []byte(successor), nil), nil
}

// openSuccessor reverses sealSuccessor.
func openSuccessor(refreshToken string, sealed []byte) (string, error) {
	aead, err := successorAEAD(refreshToken)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("identity: sealed successor too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("identity: open sealed successor: %w", err)
	}
	return string(plain), nil
}

func successorAEAD(refreshToken string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(refreshToken), nil, successorInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("identity: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
