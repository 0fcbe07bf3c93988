package identity

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Status is where a user is in their lifecycle, named as Cognito names it.
type Status string

// The user statuses.
const (
	// StatusUnconfirmed users signed up but have not proved they own the email.
	StatusUnconfirmed Status = "UNCONFIRMED"
	// StatusConfirmed users may sign in.
	StatusConfirmed Status = "CONFIRMED"
	// StatusDisabled users are kept but may not sign in.
	StatusDisabled Status = "DISABLED"
)

// User is one member of the user pool.
type User struct {
	// Sub is the immutable UUID that identifies the user everywhere: in tokens,
	// in storage paths, in the audit trail. Emails change; sub never does.
	Sub string
	// Email is normalised (see NormalizeEmail) and unique in the pool.
	Email         string
	EmailVerified bool
	// PendingEmail is a requested new address that has not been confirmed yet;
	// Email stays in force until it is.
	PendingEmail string
	// PhoneNumber is E.164 (+14155550123), or empty.
	PhoneNumber         string
	PhoneNumberVerified bool
	// PasswordHash is a PHC string (argon2id); never leaves the domain.
	PasswordHash string
	Status       Status
	// Attributes holds custom attributes by full name ("custom:team").
	Attributes map[string]string
	// Groups the user belongs to; they travel in tokens.
	Groups            []string
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// NormalizeEmail returns the form of an address used for storage and every
// lookup: trimmed, Unicode NFC and lower-cased. Lower-casing the local part is
// stricter than RFC 5321, but no real mailbox provider distinguishes case, and
// two accounts for Bob@ and bob@ would be a security bug.
func NormalizeEmail(s string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
}

// maxEmailLength is the longest address RFC 5321 allows in a path.
const maxEmailLength = 254

// validEmail reports whether a normalised address is a plain addr-spec
// (no display name, no comments) with a dotted domain.
func validEmail(email string) bool {
	if email == "" || len(email) > maxEmailLength || strings.ContainsAny(email, " \t\r\n<>") {
		return false
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return false
	}
	local, domain, ok := strings.Cut(email, "@")
	return ok && local != "" && len(local) <= 64 && strings.Contains(domain, ".") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// e164 is the international phone number format: + and up to 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// validPhone reports whether s is an E.164 number.
func validPhone(s string) bool { return e164.MatchString(s) }

// AttributeType is the type of a custom attribute's value.
type AttributeType string

// The custom attribute types, as in Cognito.
const (
	AttributeString  AttributeType = "string"
	AttributeNumber  AttributeType = "number"
	AttributeBoolean AttributeType = "boolean"
)

// AttributeSpec declares one custom attribute of the pool.
type AttributeSpec struct {
	// Name without the "custom:" prefix, e.g. "team".
	Name string
	Type AttributeType
	// Mutable attributes may be changed after sign-up; immutable ones only set
	// at sign-up.
	Mutable bool
	// MaxLength bounds string values (default 256).
	MaxLength int
}

// CustomPrefix starts the name of every custom attribute, as in Cognito.
const CustomPrefix = "custom:"

// attributeName is what a custom attribute may be called.
var attributeName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ParseAttributeSpecs reads a declaration such as
// "team:string:mutable,employee_id:string:immutable,age:number:mutable".
func ParseAttributeSpecs(s string) ([]AttributeSpec, error) {
	var specs []AttributeSpec
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Split(part, ":")
		if len(fields) != 3 {
			return nil, fmt.Errorf("attribute %q: want name:type:mutable|immutable", part)
		}
		spec := AttributeSpec{Name: fields[0], Type: AttributeType(fields[1]), MaxLength: 256}
		if !attributeName.MatchString(spec.Name) {
			return nil, fmt.Errorf("attribute %q: name must be lower-case letters, digits and _ (at most 32)", spec.Name)
		}
		if seen[spec.Name] {
			return nil, fmt.Errorf("attribute %q declared twice", spec.Name)
		}
		seen[spec.Name] = true
		switch spec.Type {
		case AttributeString, AttributeNumber, AttributeBoolean:
		default:
			return nil, fmt.Errorf("attribute %q: type must be string, number or boolean", spec.Name)
		}
		switch fields[2] {
		case "mutable":
			spec.Mutable = true
		case "immutable":
		default:
			return nil, fmt.Errorf("attribute %q: want mutable or immutable, got %q", spec.Name, fields[2])
		}
		specs = append(specs, spec)
	}
	return specs, nil
}
