package mailer

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"

	"github.com/pinhole/pinhole/identity"
)

// DefaultTimeout bounds each step of an SMTP delivery (connecting, and then
// every command) unless WithTimeout says otherwise. A sign-up request waits
// for its email, so a dead server must fail it in seconds, not minutes.
const DefaultTimeout = 10 * time.Second

// SMTP sends the user pool's messages through an SMTP server, the way
// Cognito sends through SES. It is safe for concurrent use: every Send opens
// its own connection, which costs a round trip or two but leaves no pooled
// connection to go stale between the rare messages an identity service sends.
type SMTP struct {
	host        string // for TLS certificate checks and SASL
	addr        string // host:port to dial
	implicitTLS bool   // smtps://: TLS from the first byte (RFC 8314); else STARTTLS when offered
	username    string // empty = no SMTP AUTH
	password    string
	from        *mail.Address
	timeout     time.Duration
	tlsConfig   *tls.Config
}

var _ identity.Mailer = (*SMTP)(nil)

// Option adjusts an SMTP mailer; pass options to NewSMTP.
type Option func(*SMTP)

// WithTimeout replaces DefaultTimeout. The context given to Send still bounds
// the whole delivery.
func WithTimeout(d time.Duration) Option {
	return func(s *SMTP) { s.timeout = d }
}

// WithTLSConfig sets the TLS configuration for smtps:// and STARTTLS, for
// example to trust a relay whose certificate comes from a private CA. An
// empty ServerName is set to the URL's host, so certificates are always
// checked against the server they are meant for.
func WithTLSConfig(c *tls.Config) Option {
	return func(s *SMTP) { s.tlsConfig = c }
}

// NewSMTP returns a mailer for the server at u, which has the form of the
// SMTP_URL setting:
//
//	smtp://[user:pass@]host[:port]   port 587 by default; STARTTLS when the server offers it
//	smtps://[user:pass@]host[:port]  port 465 by default; TLS from the start
//
// With credentials the mailer authenticates with PLAIN or LOGIN, whichever the
// server offers (other mechanisms only if it offers neither). Credentials are
// never sent in clear text except to localhost: a server that offers no TLS
// fails the Send instead, so use smtps:// or a server with STARTTLS. Messages
// come from `from`, typically MAIL_FROM.
func NewSMTP(u *url.URL, from *mail.Address, opts ...Option) (*SMTP, error) {
	if u == nil {
		return nil, errors.New("mailer: no SMTP URL")
	}
	s := &SMTP{timeout: DefaultTimeout}
	port := 0
	// u.Redacted, not u.String: an error must not carry the password.
	bad := func(problem string) error {
		return fmt.Errorf("mailer: SMTP URL %q: %s", u.Redacted(), problem)
	}
	switch u.Scheme {
	case "smtp":
		port = 587 // message submission (RFC 6409): what an application speaks
	case "smtps":
		port, s.implicitTLS = 465, true
	default:
		return nil, bad("scheme must be smtp or smtps")
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, bad("want only smtp[s]://[user:pass@]host[:port]")
	}
	if s.host = u.Hostname(); s.host == "" {
		return nil, bad("no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad("port must be 1-65535")
		}
		port = n
	}
	s.addr = net.JoinHostPort(s.host, strconv.Itoa(port))
	if u.User != nil {
		s.username = u.User.Username()
		s.password, _ = u.User.Password()
		if s.username == "" {
			return nil, bad("credentials without a user name")
		}
	}
	if err := checkSender(from); err != nil {
		return nil, fmt.Errorf("mailer: sender: %w", err)
	}
	s.from = &mail.Address{Name: from.Name, Address: from.Address}

	for _, opt := range opts {
		opt(s)
	}
	if s.timeout <= 0 {
		return nil, fmt.Errorf("mailer: timeout must be positive, got %s", s.timeout)
	}
	if s.tlsConfig == nil {
		s.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		s.tlsConfig = s.tlsConfig.Clone() // the caller may keep changing theirs
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = s.host
	}
	return s, nil
}

// checkSender accepts an address such as Pinhole <no-reply@example.com>: a
// valid bare address, and a display name without control characters (a CR
// or LF there would be a header injection in From).
func checkSender(from *mail.Address) error {
	if from == nil {
		return errors.New("no address")
	}
	if strings.ContainsFunc(from.Name, unicode.IsControl) {
		return errors.New("name contains a control character")
	}
	if err := checkRecipient(from.Address); err != nil {
		return errors.New("not a bare address such as no-reply@example.com")
	}
	return nil
}

// Send renders e and delivers it over a new connection. It returns an error
// wrapping ErrUnknownKind or ErrInvalidEmail, without connecting, when e
// cannot be sent; a cancelled ctx aborts the delivery at any step and its
// error is in the chain (errors.Is(err, context.Canceled)).
func (s *SMTP) Send(ctx context.Context, e identity.Email) error {
	r, err := Render(e)
	if err != nil {
		return err
	}
	msg, err := s.message(e.To, r)
	if err != nil {
		return fmt.Errorf("mailer: compose %s: %w", e.Kind, err)
	}

	// go-mail consults ctx only while connecting (afterwards each command
	// is bounded by the timeout alone), and it leaves the connection open
	// when the session fails before MAIL, e.g. on a refused AUTH. So Send
	// keeps hold of what it dials: closing the connection when ctx ends is
	// what makes a cancelled Send return at once, and closing it on return
	// is what keeps a failed Send from leaking a socket.
	var cleanups []func()
	defer func() {
		for _, cleanup := range cleanups {
			cleanup()
		}
	}()
	// The address go-mail passes is host and port joined by a bare colon,
	// wrong for an IPv6 literal such as [::1]:25; s.addr is joined properly.
	dial := func(dialCtx context.Context, network, _ string) (net.Conn, error) {
		conn, err := s.dial(dialCtx, network, s.addr)
		if err != nil {
			return nil, err
		}
		stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
		cleanups = append(cleanups, func() {
			stop()
			_ = conn.Close() // after QUIT this is a no-op that fails; nothing to report
		})
		return conn, nil
	}

	// A client per Send: go-mail's Client records choices made during a
	// session (such as the AUTH mechanism) on itself, so one shared by
	// concurrent Sends would race. Making one costs a few allocations.
	client, err := gomail.NewClient(s.host, s.clientOptions(dial)...)
	if err != nil {
		return fmt.Errorf("mailer: smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		// The recipient stays out of the error (it is personal data); the
		// kind and the server say where to look.
		if ctx.Err() != nil {
			// go-mail then reports a closed connection; the reason the
			// caller can act on is the context's, so it comes first.
			return fmt.Errorf("mailer: send %s via %s: %w (%w)", e.Kind, s.addr, context.Cause(ctx), err)
		}
		return fmt.Errorf("mailer: send %s via %s: %w", e.Kind, s.addr, err)
	}
	return nil
}

// dial connects to the server, with TLS from the first byte for smtps://.
// go-mail does the TLS dial itself only when it also does the dialling, and
// Send needs to see the connection.
func (s *SMTP) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	if s.implicitTLS {
		// The *tls.Conn goes to go-mail unwrapped: that is how its SMTP
		// client knows the connection is encrypted and may carry a password.
		td := &tls.Dialer{NetDialer: d, Config: s.tlsConfig}
		return td.DialContext(ctx, network, addr)
	}
	return d.DialContext(ctx, network, addr)
}

// clientOptions configures go-mail for one Send through dial.
func (s *SMTP) clientOptions(dial gomail.DialContextFunc) []gomail.Option {
	opts := []gomail.Option{
		// No WithPort: dial connects to s.addr whatever go-mail asks for.
		gomail.WithTimeout(s.timeout),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(s.tlsConfig),
	}
	if s.implicitTLS {
		opts = append(opts, gomail.WithSSL()) // already TLS: never STARTTLS inside it
	} else {
		// Opportunistic, as SMTP_URL promises: encrypt when the server
		// offers STARTTLS, which every real provider does. Credentials
		// still never go out in clear text (see NewSMTP).
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.username != "" {
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.username),
			gomail.WithPassword(s.password),
		)
	}
	return opts
}

// message builds the MIME message: a plain-text body with the HTML as its
// alternative, and the headers every automated message should carry.
func (s *SMTP) message(to string, r Rendered) (*gomail.Msg, error) {
	// No User-Agent/X-Mailer: naming the library and its version helps
	// nobody but someone looking for a vulnerable one.
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(to); err != nil { // to was checked by Render; go-mail checks again
		return nil, err
	}
	msg.Subject(r.Subject)
	msg.SetDateWithValue(time.Now())
	msg.SetMessageIDWithValue(s.messageID())
	// RFC 3834: a machine sent this, so vacation responders and the like
	// must not answer it.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	return msg, nil
}

// messageID returns a new Message-ID (without the angle brackets) in the
// sender's domain. go-mail would use the machine's host name, which in a
// container is meaningless and reveals an internal name.
func (s *SMTP) messageID() string {
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	return rand.Text() + "@" + domain
}
