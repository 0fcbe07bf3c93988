package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ConfirmSignUp confirms a user's email with the 6-digit code from the
// confirmation email. Unknown emails, wrong, expired and used codes all fail
// alike with ErrInvalidCode.
func (s *Service) ConfirmSignUp(ctx context.Context, email, code string, meta RequestMeta) error {
	email = NormalizeEmail(email)
	code = strings.TrimSpace(code)
	if !validCodeFormat(code) {
		return fieldError("code", msgEnterCode)
	}
	if err := s.limitIP(ctx, keyConfirmIP, meta, s.cfg.Limits.ConfirmPerIP); err != nil {
		return err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return ErrInvalidCode
	}
	if err != nil {
		return fmt.Errorf("identity: confirm sign-up: %w", err)
	}
	return s.confirm(ctx, u.Sub, proof{code: code}, meta)
}

// ConfirmSignUpLink confirms a user's email with the token from the link in
// the confirmation email.
func (s *Service) ConfirmSignUpLink(ctx context.Context, linkToken string, meta RequestMeta) error {
	if !wellFormedSecret(linkToken) {
		return ErrInvalidCode
	}
	if err := s.limitIP(ctx, keyConfirmIP, meta, s.cfg.Limits.ConfirmPerIP); err != nil {
		return err
	}
	c, err := s.store.CodeByLink(ctx, PurposeConfirmSignUp, hashSecret(linkToken))
	if errors.Is(err, ErrNotFound) {
		return ErrInvalidCode
	}
	if err != nil {
		return fmt.Errorf("identity: confirm sign-up link: %w", err)
	}
	return s.confirm(ctx, c.Sub, proof{linkToken: linkToken}, meta)
}

func (s *Service) confirm(ctx context.Context, sub string, p proof, meta RequestMeta) error {
	err := s.consumeCode(ctx, sub, PurposeConfirmSignUp, p, func(tx Store) error {
		u, err := tx.UserBySub(ctx, sub)
		if err != nil {
			return err
		}
		if u.Status == StatusUnconfirmed {
			u.Status = StatusConfirmed
		}
		u.EmailVerified = true
		u.UpdatedAt = s.now()
		return tx.UpdateUser(ctx, u)
	})
	outcome, detail := OutcomeSuccess, ""
	if err != nil {
		outcome, detail = OutcomeFailure, "invalid_code"
	}
	kind := EventConfirmSignUp
	if p.linkToken != "" {
		kind = EventConfirmLinkUsed
	}
	s.audit(ctx, Event{Sub: sub, Kind: kind, Outcome: outcome, Detail: detail}, meta)
	return err
}

// ResendConfirmation emails a fresh confirmation code to an unconfirmed
// user. It answers the same for every address; only the mailbox differs.
func (s *Service) ResendConfirmation(ctx context.Context, email string, meta RequestMeta) error {
	email = NormalizeEmail(email)
	if !validEmail(email) {
		return fieldError("email", msgEnterEmail)
	}
	if err := s.limitIP(ctx, keyResendIP, meta, s.cfg.Limits.ResendPerIP); err != nil {
		return err
	}
	if err := s.limit(ctx, keyResendAccount+email, s.cfg.Limits.ResendPerAccount); err != nil {
		return err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("identity: resend confirmation: %w", err)
	}
	if u.Status != StatusUnconfirmed {
		return nil
	}
	code, linkToken, err := s.issueCode(ctx, s.store, u.Sub, PurposeConfirmSignUp, s.cfg.SignUpCodeTTL)
	if err != nil {
		return err
	}
	s.sendConfirmation(ctx, u.Email, code, linkToken)
	s.audit(ctx, Event{Sub: u.Sub, Kind: EventResendConfirm, Outcome: OutcomeSuccess}, meta)
	return nil
}
