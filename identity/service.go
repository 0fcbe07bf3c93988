package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pinhole/pinhole/identity/password"
	"github.com/pinhole/pinhole/identity/token"
)

// Config is the user pool's settings. Zero values take the defaults below.
type Config struct {
	// Issuer is the pool's public base URL: the iss of every token and the
	// origin of every link in mail.
	Issuer string
	// ClientID is the app client the pool issues tokens to (aud / client_id).
	ClientID string
	// AccessTTL and IDTTL are the lifetimes of access and ID tokens
	// (default 15 minutes; 5 minutes to 24 hours).
	AccessTTL, IDTTL time.Duration
	// RefreshTTL is the absolute lifetime of a session (default 30 days).
	RefreshTTL time.Duration
	// RefreshGrace is how long a rotated refresh token still yields its
	// successor, for concurrent tabs (default 10 seconds).
	RefreshGrace time.Duration
	// SignUpCodeTTL bounds confirmation codes and links (default 24 hours);
	// ResetCodeTTL bounds password reset codes (default 1 hour).
	SignUpCodeTTL, ResetCodeTTL time.Duration
	// MaxCodeAttempts wrong tries invalidate a code (default 5).
	MaxCodeAttempts int
	// Policy is the password policy (default password.DefaultPolicy()).
	Policy *password.Policy
	// Attributes declares the pool's custom attributes.
	Attributes []AttributeSpec
	// Limits are the throttles (default DefaultLimits()).
	Limits *Limits
	// Retention is how long Purge keeps the audit trail and idle throttle
	// counters (zero fields take DefaultRetention()).
	Retention Retention
	// Now and Rand make time and randomness injectable for tests.
	Now  func() time.Time
	Rand io.Reader
}

// Service is the user pool. Its methods are the flows of SPEC §2; the JSON
// API and the HTML pages both call them.
type Service struct {
	cfg    Config
	store  Store
	mailer Mailer
	hasher *password.Hasher
	tokens *token.Issuer
	log    *slog.Logger
	attrs  map[string]AttributeSpec
}

// New assembles the user pool and makes sure a signing key exists.
func New(ctx context.Context, cfg Config, store Store, mailer Mailer, hasher *password.Hasher, log *slog.Logger) (*Service, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tokens, err := token.New(store, token.Config{
		Issuer:    cfg.Issuer,
		ClientID:  cfg.ClientID,
		AccessTTL: cfg.AccessTTL,
		IDTTL:     cfg.IDTTL,
		Now:       cfg.Now,
		Rand:      cfg.Rand,
	})
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if err := tokens.EnsureKey(ctx); err != nil {
		return nil, fmt.Errorf("identity: ensure signing key: %w", err)
	}
	s := &Service{cfg: cfg, store: store, mailer: mailer, hasher: hasher, tokens: tokens, log: log,
		attrs: make(map[string]AttributeSpec, len(cfg.Attributes))}
	for _, a := range cfg.Attributes {
		s.attrs[CustomPrefix+a.Name] = a
	}
	return s, nil
}

// DefaultClientID is the app client of Pinhole's own pages and API.
const DefaultClientID = "pinhole-web"

func (c *Config) setDefaults() error {
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("identity: issuer must be an absolute URL, got %q", c.Issuer)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	def(&c.AccessTTL, 15*time.Minute)
	def(&c.IDTTL, 15*time.Minute)
	def(&c.RefreshTTL, 30*24*time.Hour)
	def(&c.RefreshGrace, 10*time.Second)
	def(&c.SignUpCodeTTL, 24*time.Hour)
	def(&c.ResetCodeTTL, time.Hour)
	if c.MaxCodeAttempts == 0 {
		c.MaxCodeAttempts = 5
	}
	if c.Policy == nil {
		p := password.DefaultPolicy()
		c.Policy = &p
	}
	if c.Limits == nil {
		l := DefaultLimits()
		c.Limits = &l
	}
	def(&c.Retention.Events, DefaultRetention().Events)
	def(&c.Retention.IdleThrottles, DefaultRetention().IdleThrottles)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.RefreshTTL < time.Hour {
		return errors.New("identity: refresh token lifetime must be at least an hour")
	}
	if c.Retention.Events < 24*time.Hour || c.Retention.IdleThrottles < 24*time.Hour {
		// Shorter would let the account page's "recent activity" and the
		// throttles forget within a day, which is never what anyone means.
		return errors.New("identity: retention must be at least 24 hours")
	}
	if m := c.Limits.SignInMaxFailures; m < 1 || m > 100 {
		// NIST SP 800-63B §5.2.2: no more than 100 consecutive failures.
		return fmt.Errorf("identity: SignInMaxFailures must be 1 to 100, got %d", m)
	}
	return nil
}

// Tokens exposes the token issuer for discovery (JWKS) and key rotation.
func (s *Service) Tokens() *token.Issuer { return s.tokens }

// ClientID is the app client id tokens are issued to.
func (s *Service) ClientID() string { return s.cfg.ClientID }

// now is the pool's clock, truncated to microseconds so that what is
// stored and read back from either database compares equal.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// RequestMeta describes where a request came from, for throttling and the
// audit trail.
type RequestMeta struct {
	IP        string
	UserAgent string
}

// maxUserAgent bounds the User-Agent kept with sessions and audit events:
// the client chooses it, so it must not choose how much we store.
const maxUserAgent = 512

// userAgent is the User-Agent as stored: valid UTF-8 (PostgreSQL refuses
// anything else in a text column, and HTTP allows raw bytes in headers),
// cut to maxUserAgent bytes without splitting a character.
func (m RequestMeta) userAgent() string {
	ua := strings.ToValidUTF8(m.UserAgent, "\uFFFD")
	if len(ua) <= maxUserAgent {
		return ua
	}
	cut := maxUserAgent
	for cut > 0 && !utf8.RuneStart(ua[cut]) {
		cut--
	}
	return ua[:cut]
}

// audit records an event. Failing to audit must not fail the user's request
// (the action already happened), so errors are logged, not returned.
func (s *Service) audit(ctx context.Context, e Event, meta RequestMeta) {
	e.At = s.now()
	e.IP = meta.IP
	e.UserAgent = meta.userAgent()
	if err := s.store.AddEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit event not recorded", "kind", e.Kind, "err", err)
	}
}

// send hands a message to the mailer. Mail failures are logged and not shown
// to the caller: a response must not differ by whether an email went out
// (that would reveal which addresses are registered).
func (s *Service) send(ctx context.Context, e Email) {
	if err := s.mailer.Send(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "email not sent", "kind", e.Kind, "err", err)
	}
}

// link builds an absolute URL on the pool's public origin.
func (s *Service) link(path string, query url.Values) string {
	return s.cfg.Issuer + path + "?" + query.Encode()
}
