package identity

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The user pool's errors. The web layer maps each to a status code, a stable
// error code and a message (app/errors.go); internals never reach a client.
// Several failures deliberately share one error so that responses do not tell
// an attacker which accounts exist.
var (
	// ErrInvalidCredentials is every failed sign-in: unknown email, wrong
	// password, disabled account.
	ErrInvalidCredentials = errors.New("identity: incorrect email or password")
	// ErrUserNotConfirmed is returned only after a correct password, so it
	// reveals nothing the caller did not already prove.
	ErrUserNotConfirmed = errors.New("identity: user is not confirmed")
	// ErrInvalidCode is every failed code check: wrong, expired, used, too many
	// tries, or no such user.
	ErrInvalidCode = errors.New("identity: invalid or expired code")
	// ErrInvalidRefreshToken means the refresh token is unknown, expired or its
	// session has ended.
	ErrInvalidRefreshToken = errors.New("identity: invalid refresh token")
	// ErrRefreshTokenReused means a rotated refresh token was presented after
	// the grace window: a sign of theft, so its whole session was revoked.
	ErrRefreshTokenReused = errors.New("identity: refresh token reused; session revoked")
	// ErrUnauthenticated means an access token is missing, invalid, or its
	// session has been revoked.
	ErrUnauthenticated = errors.New("identity: not authenticated")
	// ErrSessionNotFound means the session does not exist or is not the caller's.
	ErrSessionNotFound = errors.New("identity: session not found")
	// ErrIncorrectPassword is a failed re-authentication by a signed-in user
	// (change password): the user is known, so this leaks nothing.
	ErrIncorrectPassword = errors.New("identity: current password is incorrect")
	// ErrUserNotFound is internal: stores return it (alongside ErrNotFound)
	// when a user lookup or a write for a user finds no such user.
	ErrUserNotFound = errors.New("identity: user not found")
	// ErrEmailTaken is internal: a store returns it on a duplicate email.
	ErrEmailTaken = errors.New("identity: email already registered")
)

// ThrottledError says the caller must wait before trying again.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("identity: too many attempts; retry after %s", e.RetryAfter.Round(time.Second))
}

// ValidationError lists problems with a request, field by field, so the JSON
// API and the HTML forms can show each next to its field.
type ValidationError struct {
	// Code is a stable snake_case summary, e.g. "validation_failed" or
	// "password_too_common" when a single password problem is the cause.
	Code string
	// Fields maps a field name to a human-readable problem.
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, name := range e.fieldNames() {
		parts = append(parts, name+": "+e.Fields[name])
	}
	return "identity: " + e.Code + ": " + strings.Join(parts, "; ")
}

// Message is the first problem in field order, for a one-line summary.
func (e *ValidationError) Message() string {
	names := e.fieldNames()
	if len(names) == 0 {
		return "The request is not valid."
	}
	return e.Fields[names[0]]
}

// fieldNames lists the fields with a problem in name order, so that messages
// do not depend on map iteration order.
func (e *ValidationError) fieldNames() []string {
	return slices.Sorted(maps.Keys(e.Fields))
}

// Messages shared by several flows, so a field reads the same on every form.
const (
	msgEnterEmail = "Enter a valid email address, like name@example.com."
	msgEnterPhone = "Enter the phone number in international format, like +14155550123."
	msgEnterCode  = "Enter the 6-digit code from the email."
)

// problems collects field errors while a flow validates its params.
type problems map[string]string

func (p problems) add(field, msg string) {
	if _, ok := p[field]; !ok {
		p[field] = msg
	}
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Code: "validation_failed", Fields: p}
}

// fieldError is the validation error of a flow with a single field to check.
func fieldError(field, msg string) error {
	return problems{field: msg}.err()
}
