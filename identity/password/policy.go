package password

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits, in Unicode code points after NFKC normalisation.
const (
	// DefaultMinLength is the minimum length of DefaultPolicy, ASVS's 12.
	DefaultMinLength = 12
	// DefaultMaxLength is the maximum length of DefaultPolicy: far above
	// any passphrase, low enough to keep hashing input small.
	DefaultMaxLength = 256

	// minLengthFloor is NIST SP 800-63B's minimum for a chosen password.
	// No Policy goes below it, which is also why the blocklist keeps no
	// shorter entries (see internal/genblocklist).
	minLengthFloor = 8
	// maxLengthFloor is the length NIST SP 800-63B says verifiers should
	// at least permit, so that passphrases fit.
	maxLengthFloor = 64

	// minEmailPartLen is the shortest email local part that a password may
	// not contain. Shorter ones ("al", "tom", "ann") occur inside ordinary
	// words and passphrases ("bottom", "planning"), so rejecting them would
	// turn away good passwords while adding little: a password made of a
	// three-letter name plus nine other characters still faces the length
	// rule and the blocklist. The whole address is always checked.
	minEmailPartLen = 4
)

// Reason is a stable, machine-readable code for why a password was
// rejected; the API sends it as the "error" field and clients may branch on
// it. The values never change.
type Reason string

// The reasons Policy.Check gives.
const (
	// ReasonTooShort: fewer characters than the policy's minimum.
	ReasonTooShort Reason = "password_too_short"
	// ReasonTooLong: more characters than the policy's maximum.
	ReasonTooLong Reason = "password_too_long"
	// ReasonTooCommon: on the blocklist of common and breached passwords.
	ReasonTooCommon Reason = "password_too_common"
	// ReasonContainsEmail: contains the account's email address or its
	// local part.
	ReasonContainsEmail Reason = "password_contains_email"
)

// PolicyError is the rejection of a new password: a stable Reason for
// programs and a Message for people. Neither ever contains the password.
type PolicyError struct {
	// Reason says which rule the password broke.
	Reason Reason
	// Message tells the user, in a sentence, what to do instead.
	Message string
}

// Error returns the reason code, which is what belongs in logs.
func (e *PolicyError) Error() string {
	return "password: rejected by policy: " + string(e.Reason)
}

// Policy decides which new passwords are acceptable (NIST SP 800-63B
// §5.1.1.2, OWASP ASVS V2.1). It applies to passwords being set (sign-up,
// reset, change), never to sign-in: a policy change must not lock anyone
// out. The zero value is the default lengths without a blocklist; use
// DefaultPolicy for the shipped configuration.
type Policy struct {
	// MinLength is the fewest characters a password may have, counted as
	// Unicode code points after normalisation. 0 means DefaultMinLength;
	// values below NIST's floor of 8 count as 8.
	MinLength int
	// MaxLength is the most characters a password may have; longer ones are
	// rejected, never truncated. 0 means DefaultMaxLength; values below 64
	// (NIST's "at least 64 must be allowed") count as 64.
	MaxLength int
	// Blocklist holds common and breached passwords to refuse; nil skips
	// the check.
	Blocklist *Blocklist
}

// DefaultPolicy returns Pinhole's policy: 12 to 256 characters and the
// embedded blocklist (see DefaultBlocklist for its one-off loading cost).
func DefaultPolicy() Policy {
	return Policy{MinLength: DefaultMinLength, MaxLength: DefaultMaxLength, Blocklist: DefaultBlocklist()}
}

// Validate reports settings that Check would silently raise to NIST's
// floors, or that contradict each other; call it on configuration.
func (p Policy) Validate() error {
	switch {
	case p.MinLength < 0 || p.MaxLength < 0:
		return errors.New("password: policy lengths must not be negative")
	case p.MinLength != 0 && p.MinLength < minLengthFloor:
		return fmt.Errorf("password: minimum length %d is below NIST's floor of %d", p.MinLength, minLengthFloor)
	case p.MaxLength != 0 && p.MaxLength < maxLengthFloor:
		return fmt.Errorf("password: maximum length %d is below the %d that must be allowed", p.MaxLength, maxLengthFloor)
	}
	if minLen, maxLen := p.limits(); minLen > maxLen {
		return fmt.Errorf("password: minimum length %d exceeds maximum length %d", minLen, maxLen)
	}
	return nil
}

// limits returns the length bounds Check enforces, with defaults and floors
// applied.
func (p Policy) limits() (minLen, maxLen int) {
	minLen, maxLen = p.MinLength, p.MaxLength
	if minLen == 0 {
		minLen = DefaultMinLength
	}
	if maxLen == 0 {
		maxLen = DefaultMaxLength
	}
	return max(minLen, minLengthFloor), max(maxLen, maxLengthFloor)
}

// Check returns nil if password is acceptable for the account with the given
// email, or a *PolicyError saying why not. The rules, checked in this order:
//
//   - length, in Unicode code points after NFKC normalisation, so "é" is
//     one character however it was typed and an emoji is one (or a few, for
//     emoji built from several code points). For the minimum, a run of
//     white space counts as one character, as ASVS V2.1.1 specifies, so
//     twelve spaces are not a 12-character password;
//   - the email: the password may not contain the whole address, nor its
//     local part (before the last '@') or the local part's base before a
//     '+' tag, when that part has at least 4 characters; case-insensitive;
//   - the blocklist, case-insensitive and ignoring surrounding white space.
//
// email may be empty (for example when the address is not known yet).
func (p Policy) Check(password, email string) error {
	minLen, maxLen := p.limits()
	password = normalize(password)

	switch {
	case lengthForMinimum(password) < minLen:
		return &PolicyError{
			Reason:  ReasonTooShort,
			Message: fmt.Sprintf("Use at least %d characters. A few unrelated words make a long password that is easy to remember.", minLen),
		}
	case utf8.RuneCountInString(password) > maxLen:
		return &PolicyError{
			Reason:  ReasonTooLong,
			Message: fmt.Sprintf("Use at most %d characters.", maxLen),
		}
	}
	if containsEmail(password, email) {
		return &PolicyError{
			Reason:  ReasonContainsEmail,
			Message: "Don't use your email address, or the part before the @, in your password.",
		}
	}
	if p.Blocklist != nil && p.Blocklist.Contains(password) {
		return &PolicyError{
			Reason:  ReasonTooCommon,
			Message: "This password appears in lists of common or leaked passwords, so attackers try it early. Choose a different one.",
		}
	}
	return nil
}

// lengthForMinimum counts the code points of s, counting each run of white
// space as one.
func lengthForMinimum(s string) int {
	n, inSpace := 0, false
	for _, r := range s {
		space := unicode.IsSpace(r)
		if !space || !inSpace {
			n++
		}
		inSpace = space
	}
	return n
}

// containsEmail reports whether the normalised password contains email, its
// local part, or the local part without a "+tag", ignoring case. Parts
// shorter than minEmailPartLen are not checked; the whole address is.
func containsEmail(password, email string) bool {
	email = strings.ToLower(strings.TrimSpace(normalize(email)))
	if email == "" {
		return false
	}
	password = strings.ToLower(password)
	if strings.Contains(password, email) {
		return true
	}
	local := email
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		local = email[:at]
	}
	base, _, _ := strings.Cut(local, "+")
	for _, part := range []string{local, base} {
		if utf8.RuneCountInString(part) >= minEmailPartLen && strings.Contains(password, part) {
			return true
		}
	}
	return false
}
