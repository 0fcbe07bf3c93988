package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// codeDigits is the length of the codes people type from an email.
const codeDigits = 6

// secretBytes is the entropy of link tokens and refresh tokens: 256 bits.
const secretBytes = 32

// newCode returns a uniformly random 6-digit code.
func newCode(r io.Reader) (string, error) {
	n, err := randInt(r, 1_000_000)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", codeDigits, n), nil
}

func randInt(r io.Reader, max int64) (int64, error) {
	// crypto/rand.Int rejects out-of-range draws, so there is no modulo bias.
	n, err := rand.Int(r, big.NewInt(max))
	if err != nil {
		return 0, fmt.Errorf("identity: random: %w", err)
	}
	return n.Int64(), nil
}

// newSecret returns a 256-bit random token, base64url without padding.
func newSecret(r io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("identity: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// wellFormedSecret reports whether s could be a token made by newSecret, so
// garbage is refused before any database lookup.
func wellFormedSecret(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// hashSecret hashes a high-entropy token for storage. A fast hash is right
// here: with 256 bits of entropy there is nothing to brute-force.
func hashSecret(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// hashCode hashes a 6-digit code bound to its user and purpose, so a hash
// cannot be replayed across users or flows. Codes are short, so the hash
// protects against casual disclosure (a log, a backup read by the wrong
// person), not against brute force of a stolen database: that is bounded by
// the code's short life and the attempt limit while it is live.
func hashCode(sub string, purpose CodePurpose, code string) []byte {
	sum := sha256.Sum256([]byte(string(purpose) + "\x00" + sub + "\x00" + code))
	return sum[:]
}

// validCodeFormat reports whether s is exactly six ASCII digits.
func validCodeFormat(s string) bool {
	if len(s) != codeDigits {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// issueCode creates a code and a link token for sub and purpose, replacing
// any live one, and returns both in plain text for the email.
func (s *Service) issueCode(ctx context.Context, st Store, sub string, purpose CodePurpose, ttl time.Duration) (code, linkToken string, err error) {
	if code, err = newCode(s.cfg.Rand); err != nil {
		return "", "", err
	}
	if linkToken, err = newSecret(s.cfg.Rand); err != nil {
		return "", "", err
	}
	now := s.now()
	err = st.PutCode(ctx, Code{
		Sub: sub, Purpose: purpose,
		CodeHash: hashCode(sub, purpose, code), LinkHash: hashSecret(linkToken),
		ExpiresAt: now.Add(ttl), CreatedAt: now,
	})
	if err != nil {
		return "", "", fmt.Errorf("identity: store %s code: %w", purpose, err)
	}
	return code, linkToken, nil
}

// liveCode reports whether sub has a code for purpose that could still be
// used: not expired and not out of attempts.
func (s *Service) liveCode(ctx context.Context, sub string, purpose CodePurpose) (bool, error) {
	c, err := s.store.CodeFor(ctx, sub, purpose)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return c.usable(s.now(), s.cfg.MaxCodeAttempts), nil
}

// usable reports whether the code may still be tried at now.
func (c *Code) usable(now time.Time, maxAttempts int) bool {
	return now.Before(c.ExpiresAt) && c.Attempts < maxAttempts
}

// proof is what the caller presents for a code check: the typed code, or the
// link token from the email.
type proof struct {
	code      string
	linkToken string
}

// consumeCode checks a code for sub and purpose and, if it matches, deletes
// it and runs apply, all in one transaction: a code works exactly once, even
// when two requests race. A wrong code counts an attempt; at the limit the
// code dies. Every failure is ErrInvalidCode, whatever the reason.
func (s *Service) consumeCode(ctx context.Context, sub string, purpose CodePurpose, p proof, apply func(tx Store) error) error {
	var outcome error
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := tx.CodeFor(ctx, sub, purpose)
		if errors.Is(err, ErrNotFound) {
			outcome = ErrInvalidCode
			return nil
		}
		if err != nil {
			return err
		}
		if !c.usable(s.now(), s.cfg.MaxCodeAttempts) {
			outcome = ErrInvalidCode
			return tx.DeleteCode(ctx, sub, purpose)
		}
		if !p.matches(c, sub, purpose) {
			outcome = ErrInvalidCode
			if p.linkToken != "" {
				return nil // link tokens are unguessable; no attempt to count
			}
			n, err := tx.AddCodeAttempt(ctx, sub, purpose)
			if err != nil {
				return err
			}
			if n >= s.cfg.MaxCodeAttempts {
				return tx.DeleteCode(ctx, sub, purpose)
			}
			return nil
		}
		// Deleting first means a concurrent request that read the same code
		// finds nothing to delete and fails.
		if err := tx.DeleteCode(ctx, sub, purpose); err != nil {
			if errors.Is(err, ErrNotFound) {
				outcome = ErrInvalidCode
				return nil
			}
			return err
		}
		return apply(tx)
	})
	if err != nil {
		return fmt.Errorf("identity: consume %s code: %w", purpose, err)
	}
	return outcome
}

// matches compares in constant time, so response timing does not reveal how
// much of a guess was right.
func (p proof) matches(c *Code, sub string, purpose CodePurpose) bool {
	if p.linkToken != "" {
		return subtle.ConstantTimeCompare(hashSecret(p.linkToken), c.LinkHash) == 1
	}
	return subtle.ConstantTimeCompare(hashCode(sub, purpose, p.code), c.CodeHash) == 1
}
