package identity

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ForgotPassword emails a reset code and link to the address, if it belongs
// to an enabled user. It answers the same for every address.
func (s *Service) ForgotPassword(ctx context.Context, email string, meta RequestMeta) error {
	email = NormalizeEmail(email)
	if !validEmail(email) {
		return fieldError("email", msgEnterEmail)
	}
	if err := s.limitIP(ctx, keyForgotIP, meta, s.cfg.Limits.ForgotPerIP); err != nil {
		return err
	}
	if err := s.limit(ctx, keyForgotAccount+email, s.cfg.Limits.ForgotPerAccount); err != nil {
		return err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		s.audit(ctx, Event{Kind: EventForgotPassword, Outcome: OutcomeFailure, Detail: "unknown_user"}, meta)
		return nil
	}
	if err != nil {
		return fmt.Errorf("identity: forgot password: %w", err)
	}
	if u.Status == StatusDisabled {
		s.audit(ctx, Event{Sub: u.Sub, Kind: EventForgotPassword, Outcome: OutcomeFailure, Detail: "disabled"}, meta)
		return nil
	}
	code, linkToken, err := s.issueCode(ctx, s.store, u.Sub, PurposeResetPassword, s.cfg.ResetCodeTTL)
	if err != nil {
		return err
	}
	s.send(ctx, Email{
		Kind: EmailResetPassword, To: u.Email, Code: code,
		Link:             s.link("/reset", url.Values{"token": {linkToken}}),
		ExpiresInMinutes: int(s.cfg.ResetCodeTTL.Minutes()),
	})
	s.audit(ctx, Event{Sub: u.Sub, Kind: EventForgotPassword, Outcome: OutcomeSuccess}, meta)
	return nil
}

// ResetParams completes a reset with either the emailed code (with the email)
// or the token from the emailed link.
type ResetParams struct {
	Email       string `json:"email"`
	Code        string `json:"code"`
	Token       string `json:"token,omitempty"`
	NewPassword string `json:"new_password"`
}

// ResetPassword sets a new password with a valid reset code and signs the
// user out everywhere: whoever knew the old password is locked out. Since the
// code proves the user reads that mailbox, it also confirms an unconfirmed
// account.
func (s *Service) ResetPassword(ctx context.Context, p ResetParams, meta RequestMeta) error {
	p.Email = NormalizeEmail(p.Email)
	p.Code = strings.TrimSpace(p.Code)
	if err := s.limitIP(ctx, keyResetIP, meta, s.cfg.Limits.ResetPerIP); err != nil {
		return err
	}
	// Find the user the proof is for: by the link's code row, or by the
	// email typed next to the code. Either way u is read once here; the
	// transaction below reads it again, under the code's protection.
	var (
		u   *User
		pr  proof
		err error
	)
	switch {
	case p.Token != "":
		if !wellFormedSecret(p.Token) {
			return ErrInvalidCode
		}
		c, err := s.store.CodeByLink(ctx, PurposeResetPassword, hashSecret(p.Token))
		if errors.Is(err, ErrNotFound) {
			return ErrInvalidCode
		}
		if err != nil {
			return fmt.Errorf("identity: reset password: %w", err)
		}
		if u, err = s.store.UserBySub(ctx, c.Sub); err != nil {
			return fmt.Errorf("identity: reset password: %w", err)
		}
		pr = proof{linkToken: p.Token}
	default:
		if !validCodeFormat(p.Code) {
			return fieldError("code", msgEnterCode)
		}
		u, err = s.store.UserByEmail(ctx, p.Email)
		if errors.Is(err, ErrNotFound) {
			return ErrInvalidCode
		}
		if err != nil {
			return fmt.Errorf("identity: reset password: %w", err)
		}
		pr = proof{code: p.Code}
	}
	sub := u.Sub
	if err := s.checkPassword("new_password", p.NewPassword, u.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, p.NewPassword)
	if err != nil {
		return fmt.Errorf("identity: hash password: %w", err)
	}
	err = s.consumeCode(ctx, sub, PurposeResetPassword, pr, func(tx Store) error {
		u, err := tx.UserBySub(ctx, sub)
		if err != nil {
			return err
		}
		now := s.now()
		u.PasswordHash = hash
		u.PasswordChangedAt = now
		u.UpdatedAt = now
		if u.Status == StatusUnconfirmed {
			u.Status = StatusConfirmed
		}
		u.EmailVerified = true
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if _, err := tx.RevokeSessions(ctx, sub, now, ""); err != nil {
			return err
		}
		// A reset is how an owner gets past the sign-in failure cap.
		return tx.ClearAttempts(ctx, keySignInAccount+u.Email)
	})
	if err != nil {
		s.audit(ctx, Event{Sub: sub, Kind: EventResetPassword, Outcome: OutcomeFailure, Detail: "invalid_code"}, meta)
		return err
	}
	s.audit(ctx, Event{Sub: sub, Kind: EventResetPassword, Outcome: OutcomeSuccess}, meta)
	s.send(ctx, Email{Kind: EmailPasswordChanged, To: u.Email, Link: s.link("/forgot", url.Values{"email": {u.Email}})})
	return nil
}

// ChangePasswordParams is a signed-in user's password change.
type ChangePasswordParams struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// ChangePassword replaces a signed-in user's password after checking the
// current one, and signs out every other session: a thief who had a session
// loses it, the device making the change stays signed in.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, params ChangePasswordParams, meta RequestMeta) error {
	u, err := s.store.UserBySub(ctx, p.Sub)
	if err != nil {
		return fmt.Errorf("identity: change password: %w", err)
	}
	if params.CurrentPassword == "" {
		return fieldError("current_password", "Enter your current password.")
	}
	if err := s.checkPassword("new_password", params.NewPassword, u.Email); err != nil {
		return err
	}
	// Re-authentication is a password guess like any other: same throttle.
	attempt, err := s.beginSignIn(ctx, u.Email)
	if err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, u.PasswordHash, params.CurrentPassword)
	if err != nil {
		return fmt.Errorf("identity: verify password: %w", err)
	}
	if !ok {
		s.failSignIn(ctx, u.Email, attempt.Failures)
		s.audit(ctx, Event{Sub: u.Sub, Kind: EventChangePassword, Outcome: OutcomeFailure, SessionID: p.SessionID, Detail: "wrong_password"}, meta)
		return ErrIncorrectPassword
	}
	if err := s.store.ClearAttempts(ctx, keySignInAccount+u.Email); err != nil {
		return fmt.Errorf("identity: clear attempts: %w", err)
	}
	hash, err := s.hasher.Hash(ctx, params.NewPassword)
	if err != nil {
		return fmt.Errorf("identity: hash password: %w", err)
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		now := s.now()
		u.PasswordHash = hash
		u.PasswordChangedAt = now
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		_, err := tx.RevokeSessions(ctx, u.Sub, now, p.SessionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("identity: change password: %w", err)
	}
	s.audit(ctx, Event{Sub: u.Sub, Kind: EventChangePassword, Outcome: OutcomeSuccess, SessionID: p.SessionID}, meta)
	s.send(ctx, Email{Kind: EmailPasswordChanged, To: u.Email, Link: s.link("/forgot", url.Values{"email": {u.Email}})})
	return nil
}
