package identity

import (
	"context"
	"errors"
	"time"

	"github.com/pinhole/pinhole/identity/token"
)

// CodePurpose says what a one-time code (and its link) is for. A user has at
// most one live code per purpose; issuing a new one replaces the old.
type CodePurpose string

// The code purposes.
const (
	PurposeConfirmSignUp   CodePurpose = "confirm_sign_up"
	PurposeResetPassword   CodePurpose = "reset_password"
	PurposeConfirmNewEmail CodePurpose = "confirm_new_email"
)

// Code is a one-time code as stored: only hashes, never the code or link token.
type Code struct {
	Sub     string
	Purpose CodePurpose
	// CodeHash is the hash of the 6-digit code a person types.
	CodeHash []byte
	// LinkHash is the hash of the 256-bit token in the emailed link.
	LinkHash []byte
	// Attempts counts wrong codes typed; at the pool's limit the code dies.
	Attempts  int
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Session is one signed-in device: a refresh-token family and the sid claim
// of every token issued in it.
type Session struct {
	ID  string
	Sub string
	// AuthTime is when the user last proved who they are (sign-in), carried in
	// ID tokens as auth_time; refreshes do not move it.
	AuthTime   time.Time
	CreatedAt  time.Time
	LastUsedAt time.Time
	// ExpiresAt is the absolute end of the session (refresh token lifetime).
	ExpiresAt time.Time
	// RevokedAt is set by sign-out, password changes and reuse detection.
	RevokedAt *time.Time
	IP        string
	UserAgent string
}

// Active reports whether the session may still be used at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}

// RefreshToken is one member of a session's refresh-token family, stored as
// a hash. When it is rotated, its successor is kept sealed with a key derived
// from this token, so that a concurrent request presenting the same token
// within the grace window can be given the same successor without the
// database ever holding a usable refresh token.
type RefreshToken struct {
	Hash            []byte
	SessionID       string
	CreatedAt       time.Time
	RotatedAt       *time.Time
	SuccessorSealed []byte
}

// Attempts is the consecutive-failure state behind one throttle key.
type Attempts struct {
	// Failures counts consecutive failures, including attempts in flight.
	Failures int
	// LockedUntil is when the next attempt is allowed (zero = now).
	LockedUntil time.Time
}

// EventKind names an audit event.
type EventKind string

// The audit events the user pool (and the credential broker, through the
// app) records.
const (
	EventSignUp           EventKind = "sign_up"
	EventConfirmSignUp    EventKind = "confirm_sign_up"
	EventSignIn           EventKind = "sign_in"
	EventRefresh          EventKind = "refresh"
	EventRefreshReuse     EventKind = "refresh_token_reuse"
	EventSignOut          EventKind = "sign_out"
	EventGlobalSignOut    EventKind = "global_sign_out"
	EventSessionRevoked   EventKind = "session_revoked"
	EventForgotPassword   EventKind = "forgot_password"
	EventResetPassword    EventKind = "reset_password"
	EventChangePassword   EventKind = "change_password"
	EventUpdateProfile    EventKind = "update_profile"
	EventConfirmNewEmail  EventKind = "confirm_new_email"
	EventCredentialsVend  EventKind = "credentials_vended"
	EventThrottled        EventKind = "throttled"
	EventConfirmLinkUsed  EventKind = "confirm_sign_up_link"
	EventResendConfirm    EventKind = "resend_confirmation"
	EventPasswordRehashed EventKind = "password_rehashed"
)

// Event outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Event is one line of the audit trail.
type Event struct {
	ID        int64
	At        time.Time
	Sub       string // empty when no user is known (e.g. sign-in for an unknown email)
	Kind      EventKind
	Outcome   string
	SessionID string
	IP        string
	UserAgent string
	// Detail is a short machine-readable reason, e.g. "wrong_password"; never
	// a secret, never a password, never a code.
	Detail string
}

// ErrNotFound is returned by Store lookups that find nothing, and by writes
// to rows that do not exist.
var ErrNotFound = errors.New("identity: not found")

// Store is the user pool's persistence, declared here by its consumer and
// implemented by identity/gormstore. Every method honours ctx. Lookups return
// ErrNotFound (wrapped or not) when nothing matches.
type Store interface {
	// Tx runs fn with a Store bound to one database transaction: all of fn's
	// writes commit together, or none do when fn returns an error. After a
	// failed statement (a duplicate key, say) PostgreSQL refuses further
	// statements in the same transaction, so fn must return such errors
	// rather than carry on.
	Tx(ctx context.Context, fn func(tx Store) error) error

	// CreateUser inserts u; a duplicate email returns ErrEmailTaken.
	CreateUser(ctx context.Context, u *User) error
	// UserByEmail finds a user by normalised email.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// UserBySub finds a user by sub.
	UserBySub(ctx context.Context, sub string) (*User, error)
	// UpdateUser writes every mutable field of u (matched by Sub); a
	// duplicate email returns ErrEmailTaken.
	UpdateUser(ctx context.Context, u *User) error

	// PutCode stores c, replacing the user's live code for the same purpose.
	PutCode(ctx context.Context, c Code) error
	// CodeFor returns the user's live code for purpose.
	CodeFor(ctx context.Context, sub string, purpose CodePurpose) (*Code, error)
	// CodeByLink finds the code whose link token hashes to linkHash.
	CodeByLink(ctx context.Context, purpose CodePurpose, linkHash []byte) (*Code, error)
	// AddCodeAttempt atomically counts one wrong try and returns the new count.
	AddCodeAttempt(ctx context.Context, sub string, purpose CodePurpose) (int, error)
	// DeleteCode removes the user's code for purpose (used, or dead). It
	// returns ErrNotFound when there was nothing to delete: that is how a
	// code spent by a concurrent request is told apart.
	DeleteCode(ctx context.Context, sub string, purpose CodePurpose) error

	// CreateSession inserts s.
	CreateSession(ctx context.Context, s Session) error
	// SessionByID returns a session, active or not.
	SessionByID(ctx context.Context, id string) (*Session, error)
	// TouchSession records use of a session by a refresh.
	TouchSession(ctx context.Context, id string, at time.Time, ip, userAgent string) error
	// RevokeSession ends one session (no-op if already revoked).
	RevokeSession(ctx context.Context, id string, at time.Time) error
	// RevokeSessions ends every active session of sub except exceptID (may be empty).
	RevokeSessions(ctx context.Context, sub string, at time.Time, exceptID string) (int, error)
	// ActiveSessions lists sub's sessions that are active at now, newest first.
	ActiveSessions(ctx context.Context, sub string, now time.Time) ([]Session, error)

	// CreateRefreshToken inserts t.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// LockRefreshToken finds a refresh token by hash and, inside Tx, locks it
	// until the transaction ends, so two concurrent refreshes of the same
	// token are serialised.
	LockRefreshToken(ctx context.Context, hash []byte) (*RefreshToken, error)
	// MarkRefreshTokenRotated records that the token was exchanged at `at` for
	// a successor, sealed for replays within the grace window.
	MarkRefreshTokenRotated(ctx context.Context, hash []byte, at time.Time, successorSealed []byte) error

	// HitWindow counts one event under key in a fixed window of length window
	// starting at the key's first hit, and returns the count so far and when
	// the window resets. Atomic under concurrency.
	HitWindow(ctx context.Context, key string, now time.Time, window time.Duration) (count int, resetAt time.Time, err error)
	// BeginAttempt atomically reserves one attempt under key by counting it as
	// a failure in advance, unless the key is locked at now or already holds
	// maxFailures failures; then allowed is false. It returns the state after
	// the call. Counting in advance is what keeps parallel attempts honest.
	BeginAttempt(ctx context.Context, key string, now time.Time, maxFailures int) (a Attempts, allowed bool, err error)
	// LockAttempts sets when the next attempt under key is allowed.
	LockAttempts(ctx context.Context, key string, until time.Time) error
	// ReleaseAttempt gives back an attempt reserved by BeginAttempt that
	// never ran (the server was too busy to check the password), so load
	// does not count against the account.
	ReleaseAttempt(ctx context.Context, key string) error
	// ClearAttempts forgets key's failures (after a success).
	ClearAttempts(ctx context.Context, key string) error

	// Purge deletes what the cutoffs say is no longer needed, each table in
	// one statement, and counts what went.
	Purge(ctx context.Context, c PurgeCutoffs) (PurgeReport, error)

	// AddEvent appends to the audit trail.
	AddEvent(ctx context.Context, e Event) error
	// Events returns sub's most recent events, newest first.
	Events(ctx context.Context, sub string, limit int) ([]Event, error)

	// The signing keys of the pool's JWTs.
	token.KeyStore
}
