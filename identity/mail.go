package identity

import "context"

// EmailKind names a message the user pool sends. The mailer adapter owns the
// wording (subject, text and HTML bodies); the pool only says what happened.
type EmailKind string

// The messages the user pool sends.
const (
	// EmailConfirmSignUp carries the 6-digit code and the confirmation link.
	EmailConfirmSignUp EmailKind = "confirm_sign_up"
	// EmailAlreadyRegistered goes to the owner of an address someone tried to
	// sign up with again: the enumeration-safe counterpart of a 409.
	EmailAlreadyRegistered EmailKind = "already_registered"
	// EmailResetPassword carries the reset code and link.
	EmailResetPassword EmailKind = "reset_password"
	// EmailPasswordChanged tells the owner their password changed, so an
	// attacker's change does not go unnoticed.
	EmailPasswordChanged EmailKind = "password_changed"
	// EmailConfirmNewAddress carries the code that confirms an email change; it
	// goes to the new address.
	EmailConfirmNewAddress EmailKind = "confirm_new_address"
	// EmailAddressChanged tells the old address that the account moved to a
	// new one, so a hijack does not go unnoticed.
	EmailAddressChanged EmailKind = "address_changed"
)

// Email is one message to one recipient, with everything a template may show.
type Email struct {
	Kind EmailKind
	// To is the recipient's normalised address.
	To string
	// Code is the one-time code, when the message carries one.
	Code string
	// Link is an absolute URL that does the same as typing the code, or (for
	// notices) where the user can act, e.g. the sign-in or reset page.
	Link string
	// ExpiresInMinutes says how long Code and Link stay valid.
	ExpiresInMinutes int
}

// Mailer delivers the user pool's messages. Implementations live outside the
// domain (identity/mailer: SMTP, or the log under `make run`).
//
// The pool calls Send while the request waits, and some flows send mail
// only for registered addresses. So Send must return quickly and in about
// the same time whatever happens next; a mailer that talks to a server
// should queue (identity/mailer.Queue does), or response times become an
// oracle for which addresses have accounts.
type Mailer interface {
	Send(ctx context.Context, e Email) error
}
