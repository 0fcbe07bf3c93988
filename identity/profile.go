package identity

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
)

// Me returns the signed-in user's profile.
func (s *Service) Me(ctx context.Context, p *Principal) (*User, error) {
	u, err := s.store.UserBySub(ctx, p.Sub)
	if err != nil {
		return nil, fmt.Errorf("identity: me: %w", err)
	}
	if err := s.hideDeadPendingEmail(ctx, u); err != nil {
		return nil, fmt.Errorf("identity: me: %w", err)
	}
	return u, nil
}

// hideDeadPendingEmail clears u.PendingEmail (in u, not in the store) when
// the code sent to that address has expired or run out of attempts: the
// change can no longer be confirmed, so showing it as pending would only
// ask the user for a code that cannot work. Asking again starts afresh.
func (s *Service) hideDeadPendingEmail(ctx context.Context, u *User) error {
	if u.PendingEmail == "" {
		return nil
	}
	live, err := s.liveCode(ctx, u.Sub, PurposeConfirmNewEmail)
	if err != nil {
		return err
	}
	if !live {
		u.PendingEmail = ""
	}
	return nil
}

// UpdateProfileParams changes some of a user's attributes. A nil field is
// left alone; an attribute mapped to nil is removed.
type UpdateProfileParams struct {
	Email       *string            `json:"email,omitempty"`
	PhoneNumber *string            `json:"phone_number,omitempty"`
	Attributes  map[string]*string `json:"attributes,omitempty"`
}

// UpdateProfile applies a profile change. A new email does not take effect
// until the user confirms it with the code sent to the new address
// (ConfirmEmailChange); until then the old address stays in force, so a
// typo or a hijacked session cannot silently move the account.
func (s *Service) UpdateProfile(ctx context.Context, p *Principal, params UpdateProfileParams, meta RequestMeta) (*User, error) {
	probs := problems{}
	var newEmail, newPhone string
	if params.Email != nil {
		newEmail = NormalizeEmail(*params.Email)
		if !validEmail(newEmail) {
			probs.add("email", msgEnterEmail)
		}
	}
	if params.PhoneNumber != nil {
		newPhone = strings.TrimSpace(*params.PhoneNumber)
		if newPhone != "" && !validPhone(newPhone) {
			probs.add("phone_number", msgEnterPhone)
		}
	}
	for name, value := range params.Attributes {
		if msg := s.checkAttributeChange(name, value); msg != "" {
			probs.add(name, msg)
		}
	}
	if err := probs.err(); err != nil {
		return nil, err
	}

	var (
		u           *User
		code        string
		emailChange bool
	)
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if u, err = tx.UserBySub(ctx, p.Sub); err != nil {
			return err
		}
		if params.PhoneNumber != nil && newPhone != u.PhoneNumber {
			u.PhoneNumber = newPhone
			u.PhoneNumberVerified = false
		}
		if len(params.Attributes) > 0 {
			attrs := maps.Clone(u.Attributes)
			if attrs == nil {
				attrs = map[string]string{}
			}
			for name, value := range params.Attributes {
				if value == nil {
					delete(attrs, name)
				} else {
					attrs[name] = *value
				}
			}
			u.Attributes = attrs
		}
		if params.Email != nil && newEmail == u.Email && u.PendingEmail != "" {
			// Setting the email to the current one cancels a pending
			// change: the code sent to the other address stops working.
			u.PendingEmail = ""
			if err := tx.DeleteCode(ctx, u.Sub, PurposeConfirmNewEmail); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		if params.Email != nil && newEmail != u.Email {
			emailChange = true
			u.PendingEmail = newEmail
			if code, _, err = s.issueCode(ctx, tx, u.Sub, PurposeConfirmNewEmail, s.cfg.SignUpCodeTTL); err != nil {
				return err
			}
		}
		u.UpdatedAt = s.now()
		return tx.UpdateUser(ctx, u)
	})
	if err != nil {
		return nil, fmt.Errorf("identity: update profile: %w", err)
	}
	if emailChange {
		s.sendEmailChangeCode(ctx, u, code)
	} else if err := s.hideDeadPendingEmail(ctx, u); err != nil {
		return nil, fmt.Errorf("identity: update profile: %w", err)
	}
	s.audit(ctx, Event{Sub: u.Sub, Kind: EventUpdateProfile, Outcome: OutcomeSuccess, SessionID: p.SessionID}, meta)
	return u, nil
}

// sendEmailChangeCode sends the confirmation code to the new address, unless
// that address already has an account: then its owner is told someone tried,
// and the change can never be confirmed. The requester sees the same either
// way, so profile updates cannot be used to probe for accounts.
func (s *Service) sendEmailChangeCode(ctx context.Context, u *User, code string) {
	if _, err := s.store.UserByEmail(ctx, u.PendingEmail); err == nil {
		s.send(ctx, Email{Kind: EmailAlreadyRegistered, To: u.PendingEmail, Link: s.link("/signin", url.Values{"email": {u.PendingEmail}})})
		return
	}
	s.send(ctx, Email{Kind: EmailConfirmNewAddress, To: u.PendingEmail, Code: code,
		ExpiresInMinutes: int(s.cfg.SignUpCodeTTL.Minutes())})
}

// ConfirmEmailChange makes a pending email the user's address, given the
// code that was sent to it.
func (s *Service) ConfirmEmailChange(ctx context.Context, p *Principal, code string, meta RequestMeta) error {
	code = strings.TrimSpace(code)
	if !validCodeFormat(code) {
		return fieldError("code", msgEnterCode)
	}
	if err := s.limitIP(ctx, keyConfirmIP, meta, s.cfg.Limits.ConfirmPerIP); err != nil {
		return err
	}
	var oldEmail string
	err := s.consumeCode(ctx, p.Sub, PurposeConfirmNewEmail, proof{code: code}, func(tx Store) error {
		u, err := tx.UserBySub(ctx, p.Sub)
		if err != nil {
			return err
		}
		if u.PendingEmail == "" {
			return ErrInvalidCode
		}
		oldEmail = u.Email
		u.Email, u.PendingEmail = u.PendingEmail, ""
		u.EmailVerified = true
		u.UpdatedAt = s.now()
		return tx.UpdateUser(ctx, u)
	})
	if errors.Is(err, ErrEmailTaken) {
		err = ErrInvalidCode
	}
	if err != nil {
		s.audit(ctx, Event{Sub: p.Sub, Kind: EventConfirmNewEmail, Outcome: OutcomeFailure, SessionID: p.SessionID, Detail: "invalid_code"}, meta)
		return err
	}
	s.audit(ctx, Event{Sub: p.Sub, Kind: EventConfirmNewEmail, Outcome: OutcomeSuccess, SessionID: p.SessionID}, meta)
	// The old address hears about it, in case the change was not its owner's.
	s.send(ctx, Email{Kind: EmailAddressChanged, To: oldEmail, Link: s.link("/forgot", nil)})
	return nil
}
