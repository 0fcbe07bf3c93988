package identity

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/pinhole/pinhole/identity/password"
)

// SignUpParams is what a new user sends to register.
type SignUpParams struct {
	Email       string            `json:"email"`
	Password    string            `json:"password"`
	PhoneNumber string            `json:"phone_number,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
}

// validate normalises p in place and reports every problem at once.
func (s *Service) validateSignUp(p *SignUpParams) error {
	p.Email = NormalizeEmail(p.Email)
	p.PhoneNumber = strings.TrimSpace(p.PhoneNumber)
	probs := problems{}
	if !validEmail(p.Email) {
		probs.add("email", msgEnterEmail)
	}
	pwErr := s.checkPassword("password", p.Password, p.Email)
	if p.PhoneNumber != "" && !validPhone(p.PhoneNumber) {
		probs.add("phone_number", msgEnterPhone)
	}
	for name, value := range p.Attributes {
		if msg := s.checkAttribute(name, value, true); msg != "" {
			probs.add(name, msg)
		}
	}
	var ve *ValidationError
	if errors.As(pwErr, &ve) {
		if len(probs) == 0 {
			return ve // the specific reason, e.g. password_too_common
		}
		probs.add("password", ve.Fields["password"])
	} else if pwErr != nil {
		return pwErr
	}
	return probs.err()
}

// checkPassword applies the password policy and explains a refusal, under
// the request's name for the field ("password" or "new_password").
func (s *Service) checkPassword(field, pw, email string) error {
	err := s.cfg.Policy.Check(pw, email)
	var pe *password.PolicyError
	if errors.As(err, &pe) {
		return &ValidationError{Code: string(pe.Reason), Fields: map[string]string{field: pe.Message}}
	}
	return err
}

// checkAttributeChange validates a profile update of one attribute: a nil
// value removes it, which only needs the attribute to be mutable.
func (s *Service) checkAttributeChange(name string, value *string) string {
	if value != nil {
		return s.checkAttribute(name, *value, false)
	}
	spec, ok := s.attrs[name]
	switch {
	case !ok:
		return "This attribute does not exist in this user pool."
	case !spec.Mutable:
		return "This attribute cannot be changed after sign-up."
	}
	return ""
}

// checkAttribute validates one custom attribute; an empty result means fine.
func (s *Service) checkAttribute(name, value string, creating bool) string {
	spec, ok := s.attrs[name]
	if !ok {
		return "This attribute does not exist in this user pool."
	}
	if !creating && !spec.Mutable {
		return "This attribute cannot be changed after sign-up."
	}
	switch spec.Type {
	case AttributeNumber:
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			return "Enter a number."
		}
	case AttributeBoolean:
		if value != "true" && value != "false" {
			return "Enter true or false."
		}
	}
	if len(value) > spec.MaxLength {
		return fmt.Sprintf("Use at most %d characters.", spec.MaxLength)
	}
	return ""
}

// SignUp registers a new, unconfirmed user and emails a confirmation code
// and link. Signing up with an address that is already registered succeeds
// in exactly the same way for the caller; only the mailbox differs (the owner
// is told someone tried). That is what keeps sign-up from revealing which
// addresses have accounts.
func (s *Service) SignUp(ctx context.Context, p SignUpParams, meta RequestMeta) error {
	if err := s.validateSignUp(&p); err != nil {
		return err
	}
	if err := s.limitIP(ctx, keySignUpIP, meta, s.cfg.Limits.SignUpPerIP); err != nil {
		return err
	}
	// Hash before looking anything up, so both paths cost the same.
	hash, err := s.hasher.Hash(ctx, p.Password)
	if err != nil {
		return fmt.Errorf("identity: hash password: %w", err)
	}
	now := s.now()
	u := &User{
		Sub:               uuid.NewString(),
		Email:             p.Email,
		PhoneNumber:       p.PhoneNumber,
		PasswordHash:      hash,
		Status:            StatusUnconfirmed,
		Attributes:        p.Attributes,
		PasswordChangedAt: now,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	var code, linkToken string
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		code, linkToken, err = s.issueCode(ctx, tx, u.Sub, PurposeConfirmSignUp, s.cfg.SignUpCodeTTL)
		return err
	})
	if errors.Is(err, ErrEmailTaken) {
		return s.signUpExisting(ctx, p.Email, meta)
	}
	if err != nil {
		return fmt.Errorf("identity: sign up: %w", err)
	}
	s.sendConfirmation(ctx, u.Email, code, linkToken)
	s.audit(ctx, Event{Sub: u.Sub, Kind: EventSignUp, Outcome: OutcomeSuccess}, meta)
	return nil
}

// signUpExisting handles a sign-up for a registered address. A confirmed
// owner is told someone tried; an unconfirmed one (who probably lost the
// first email) gets a fresh confirmation code for the original account.
func (s *Service) signUpExisting(ctx context.Context, email string, meta RequestMeta) error {
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("identity: sign up existing: %w", err)
	}
	s.audit(ctx, Event{Sub: u.Sub, Kind: EventSignUp, Outcome: OutcomeFailure, Detail: "email_registered"}, meta)
	if u.Status == StatusUnconfirmed {
		code, linkToken, err := s.issueCode(ctx, s.store, u.Sub, PurposeConfirmSignUp, s.cfg.SignUpCodeTTL)
		if err != nil {
			return err
		}
		s.sendConfirmation(ctx, u.Email, code, linkToken)
		return nil
	}
	s.send(ctx, Email{Kind: EmailAlreadyRegistered, To: u.Email, Link: s.link("/signin", url.Values{"email": {u.Email}})})
	return nil
}

func (s *Service) sendConfirmation(ctx context.Context, to, code, linkToken string) {
	s.send(ctx, Email{
		Kind: EmailConfirmSignUp, To: to, Code: code,
		Link:             s.link("/auth/confirm", url.Values{"token": {linkToken}}),
		ExpiresInMinutes: int(s.cfg.SignUpCodeTTL.Minutes()),
	})
}
