package mailer_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/mailer"
	"github.com/pinhole/pinhole/internal/devstack"
	"github.com/pinhole/pinhole/internal/testenv"
)

var testFrom = &mail.Address{Name: "Pinhole", Address: "no-reply@pinhole.test"}

// TestSMTPSendEveryKind sends each kind through a real SMTP server and reads
// it back the way a user would receive it.
func TestSMTPSendEveryKind(t *testing.T) {
	t.Parallel()
	mp := testenv.Mailpit(t)
	s := mustNewSMTP(t, mp.SMTPURL)

	for _, tc := range kindCases("") {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			e := tc.email
			e.To = string(tc.kind) + "@example.com" // one mailbox per subtest
			if err := s.Send(context.Background(), e); err != nil {
				t.Fatalf("Send: %v", err)
			}

			msg := testenv.WaitForMessage(t, mp, e.To, 10*time.Second)
			got := getMessage(t, mp, msg.ID)
			if got.Subject != tc.wantSubject {
				t.Errorf("Subject = %q, want %q", got.Subject, tc.wantSubject)
			}
			if len(got.To) != 1 || got.To[0].Address != e.To {
				t.Errorf("To = %v, want just %s", got.To, e.To)
			}
			if got.From.Address != testFrom.Address || got.From.Name != testFrom.Name {
				t.Errorf("From = %+v, want %+v", got.From, testFrom)
			}
			if got.Username != "" {
				t.Errorf("Username = %q, want no SMTP AUTH without credentials", got.Username)
			}
			if tc.wantCode && !strings.Contains(got.Text, e.Code) {
				t.Errorf("text body does not contain the code %q:\n%s", e.Code, got.Text)
			}
			if !tc.wantCode && e.Code != "" && strings.Contains(got.Text+got.HTML, e.Code) {
				t.Errorf("message contains the code %q, want none for %s", e.Code, tc.kind)
			}
			if e.Link != "" && !strings.Contains(got.Text, e.Link) {
				t.Errorf("text body does not contain the link %q:\n%s", e.Link, got.Text)
			}
			if !strings.Contains(got.HTML, "<title>"+tc.wantSubject+"</title>") {
				t.Errorf("HTML body missing or wrong:\n%s", got.HTML)
			}
			if want := "@pinhole.test"; !strings.HasSuffix(got.MessageID, want) {
				t.Errorf("Message-ID = %q, want one ending in %q (the sender's domain)", got.MessageID, want)
			}

			headers := getHeaders(t, mp, msg.ID)
			if date, err := mail.ParseDate(first(headers["Date"])); err != nil || time.Since(date).Abs() > time.Minute {
				t.Errorf("Date = %q (%v), want about now", first(headers["Date"]), err)
			}
			if got := first(headers["Auto-Submitted"]); got != "auto-generated" {
				t.Errorf("Auto-Submitted = %q, want auto-generated", got)
			}
			for _, name := range []string{"User-Agent", "X-Mailer"} {
				if v, ok := headers[name]; ok {
					t.Errorf("%s = %q, want no such header", name, v)
				}
			}
		})
	}
}

// TestSMTPAuth checks credentials in the URL are used: Mailpit accepts any,
// and records the user name it was given.
func TestSMTPAuth(t *testing.T) {
	t.Parallel()
	mp := testenv.Mailpit(t)
	u := mustParseURL(t, mp.SMTPURL)
	u.User = url.UserPassword("pinhole", "s3cret:with@odd/chars")
	s, err := mailer.NewSMTP(u, testFrom)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}

	e := identity.Email{Kind: identity.EmailPasswordChanged, To: "auth@example.com", Link: "https://pinhole.test/password/forgot"}
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msg := testenv.WaitForMessage(t, mp, e.To, 10*time.Second)
	if got := getMessage(t, mp, msg.ID).Username; got != "pinhole" {
		t.Errorf("SMTP AUTH user = %q, want pinhole", got)
	}
}

// TestSMTPRefusesHeaderInjection checks a hostile recipient is refused before
// any connection: nothing reaches the server, neither to the recipient nor to
// the smuggled Bcc.
func TestSMTPRefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	mp := testenv.Mailpit(t)
	s := mustNewSMTP(t, mp.SMTPURL)

	for _, to := range []string{"victim@example.com\r\nBcc: x@y", "victim@example.com\nBcc: x@y", "victim@example.com, x@y"} {
		e := identity.Email{Kind: identity.EmailPasswordChanged, To: to, Link: "https://pinhole.test/password/forgot"}
		if err := s.Send(context.Background(), e); !errors.Is(err, mailer.ErrInvalidEmail) {
			t.Errorf("Send(To: %q) = %v, want %v", to, err, mailer.ErrInvalidEmail)
		}
	}
	// A control message sent afterwards proves the server was listening; by
	// the time it is there, anything sent before it would be too.
	control := identity.Email{Kind: identity.EmailPasswordChanged, To: "control@example.com", Link: "https://pinhole.test/password/forgot"}
	if err := s.Send(context.Background(), control); err != nil {
		t.Fatalf("Send(control): %v", err)
	}
	testenv.WaitForMessage(t, mp, control.To, 10*time.Second)
	msgs, err := mp.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Errorf("mailbox has %d messages, want only the control message: %+v", len(msgs), msgs)
	}
}

// TestSMTPFailsFast covers servers that are down or hung: a Send must fail
// within its timeout, or as soon as its context ends, never hang a request.
func TestSMTPFailsFast(t *testing.T) {
	t.Parallel()
	e := identity.Email{Kind: identity.EmailPasswordChanged, To: "down@example.com", Link: "https://pinhole.test/password/forgot"}
	tests := []struct {
		name     string
		addr     string        // server to send to
		timeout  time.Duration // mailer.WithTimeout
		ctxLimit time.Duration // deadline on Send's context; 0 = none
		wantErr  error         // in the chain, when not nil
		within   time.Duration
	}{
		{name: "closed port", addr: closedAddr(t), timeout: 2 * time.Second, within: 2 * time.Second},
		{name: "silent server, timeout", addr: silentServer(t), timeout: 300 * time.Millisecond, within: 2 * time.Second},
		{name: "silent server, context", addr: silentServer(t), timeout: time.Minute, ctxLimit: 300 * time.Millisecond, wantErr: context.DeadlineExceeded, within: 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustNewSMTP(t, "smtp://"+tc.addr, mailer.WithTimeout(tc.timeout))
			ctx := context.Background()
			if tc.ctxLimit > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxLimit)
				defer cancel()
			}

			start := time.Now()
			err := s.Send(ctx, e)
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Send error = %v, want %v in the chain", err, tc.wantErr)
			}
			if elapsed > tc.within {
				t.Errorf("Send took %s, want under %s (err: %v)", elapsed, tc.within, err)
			}
		})
	}
}

// TestSMTPTLS covers the encrypted paths a production relay uses, STARTTLS
// and smtps://, with credentials: the password must travel only inside TLS,
// and only to a server whose certificate checks out. The fake server listens
// on 127.0.0.2, loopback but not "localhost", so the mailer treats it as the
// remote server it stands for.
func TestSMTPTLS(t *testing.T) {
	t.Parallel()
	serverTLS, trusting := selfSignedTLS(t, "127.0.0.2")
	tests := []struct {
		name        string
		scheme      string
		fake        fakeConfig
		trust       bool   // give the mailer a TLS config that trusts the fake's certificate
		wantErr     string // in Send's error; "" = the message is sent
		wantAuthTLS bool   // AUTH arrived, over TLS
	}{
		{name: "STARTTLS", scheme: "smtp", fake: fakeConfig{startTLS: serverTLS}, trust: true, wantAuthTLS: true},
		{name: "implicit TLS", scheme: "smtps", fake: fakeConfig{implicitTLS: serverTLS}, trust: true, wantAuthTLS: true},
		{name: "STARTTLS, untrusted certificate", scheme: "smtp", fake: fakeConfig{startTLS: serverTLS}, wantErr: "certificate"},
		{name: "implicit TLS, untrusted certificate", scheme: "smtps", fake: fakeConfig{implicitTLS: serverTLS}, wantErr: "certificate"},
		// AUTH offered in clear text by a remote server: refused before the
		// password leaves, rather than sent or silently skipped.
		{name: "no TLS offered", scheme: "smtp", fake: fakeConfig{}, wantErr: "unencrypted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fake.listen, tc.fake.extensions = "127.0.0.2:0", "AUTH PLAIN LOGIN"
			fake := startFakeSMTP(t, tc.fake)
			var opts []mailer.Option
			if tc.trust {
				opts = append(opts, mailer.WithTLSConfig(trusting))
			}
			s := mustNewSMTP(t, tc.scheme+"://pinhole:secret@"+fake.addr, opts...)

			e := identity.Email{Kind: identity.EmailPasswordChanged, To: "tls@example.com", Link: "https://pinhole.test/password/forgot"}
			err := s.Send(context.Background(), e)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Send: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Send = %v, want an error about %q", err, tc.wantErr)
			}
			var authTLS bool
			for _, cmd := range fake.commands() {
				switch {
				case strings.HasPrefix(cmd, "AUTH"):
					t.Errorf("server received %q in clear text", cmd)
				case strings.HasPrefix(cmd, "[tls] AUTH PLAIN"):
					authTLS = true
				}
			}
			if authTLS != tc.wantAuthTLS {
				t.Errorf("AUTH over TLS: %v, want %v; commands: %q", authTLS, tc.wantAuthTLS, fake.commands())
			}
		})
	}
}

// TestSMTPIPv6 checks an IPv6 literal in SMTP_URL reaches the server.
func TestSMTPIPv6(t *testing.T) {
	t.Parallel()
	fake := startFakeSMTP(t, fakeConfig{listen: "[::1]:0", extensions: "8BITMIME"})
	s := mustNewSMTP(t, "smtp://"+fake.addr)

	e := identity.Email{Kind: identity.EmailPasswordChanged, To: "v6@example.com", Link: "https://pinhole.test/password/forgot"}
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatalf("Send via %s: %v", fake.addr, err)
	}
	if !slices.Contains(fake.commands(), "DATA") {
		t.Errorf("server received %q, want a message (DATA)", fake.commands())
	}
}

// TestSMTPCredentialsNeedAuth checks credentials are not silently dropped
// when the server offers no AUTH at all.
func TestSMTPCredentialsNeedAuth(t *testing.T) {
	t.Parallel()
	fake := startFakeSMTP(t, fakeConfig{listen: "127.0.0.1:0", extensions: "8BITMIME"})
	s := mustNewSMTP(t, "smtp://pinhole:secret@"+fake.addr)

	e := identity.Email{Kind: identity.EmailPasswordChanged, To: "noauth@example.com", Link: "https://pinhole.test/password/forgot"}
	err := s.Send(context.Background(), e)
	if err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Fatalf("Send = %v, want an error saying the server has no SMTP AUTH", err)
	}
}

func TestNewSMTPRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		from *mail.Address
		opts []mailer.Option
	}{
		{name: "http scheme", url: "http://mail.example.com:25"},
		{name: "no scheme", url: "mail.example.com:25"},
		{name: "no host", url: "smtp://:25"},
		{name: "port zero", url: "smtp://mail.example.com:0"},
		{name: "port too big", url: "smtp://mail.example.com:70000"},
		{name: "path", url: "smtp://mail.example.com:25/inbox"},
		{name: "query", url: "smtp://mail.example.com:25?tls=off"},
		{name: "password without user", url: "smtp://:secret@mail.example.com:25"},
		{name: "sender not an address", url: "smtp://mail.example.com:25", from: &mail.Address{Address: "no-reply"}},
		{name: "sender name injection", url: "smtp://mail.example.com:25", from: &mail.Address{Name: "Pinhole\r\nBcc: x@y", Address: "no-reply@pinhole.test"}},
		{name: "zero timeout", url: "smtp://mail.example.com:25", opts: []mailer.Option{mailer.WithTimeout(0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			from := testFrom
			if tc.from != nil {
				from = tc.from
			}
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatalf("url.Parse: %v", err)
			}
			if _, err := mailer.NewSMTP(u, from, tc.opts...); err == nil {
				t.Fatalf("NewSMTP(%q) succeeded, want an error", tc.url)
			} else if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
	if _, err := mailer.NewSMTP(nil, testFrom); err == nil {
		t.Error("NewSMTP(nil URL) succeeded, want an error")
	}
	if _, err := mailer.NewSMTP(mustParseURL(t, "smtp://mail.example.com"), nil); err == nil {
		t.Error("NewSMTP(nil sender) succeeded, want an error")
	}
}

func TestNewSMTPAccepts(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"smtp://127.0.0.1:1025",
		"smtp://mail.example.com",
		"smtp://user:pass@mail.example.com:587",
		"smtp://apikey@mail.example.com:587/",
		"smtps://user:p%40ss@mail.example.com",
		"smtp://[::1]:25",
	} {
		if _, err := mailer.NewSMTP(mustParseURL(t, raw), testFrom); err != nil {
			t.Errorf("NewSMTP(%q) = %v, want no error", raw, err)
		}
	}
}

func mustNewSMTP(t *testing.T, rawURL string, opts ...mailer.Option) *mailer.SMTP {
	t.Helper()
	s, err := mailer.NewSMTP(mustParseURL(t, rawURL), testFrom, opts...)
	if err != nil {
		t.Fatalf("NewSMTP(%q): %v", rawURL, err)
	}
	return s
}

func mustParseURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	return u
}

// caught is the part of Mailpit's message API (GET /api/v1/message/{id})
// these tests read; devstack.Mailpit only exposes the text body.
type caught struct {
	MessageID string
	From      mail.Address
	To        []mail.Address
	Subject   string
	Username  string // the SMTP AUTH user name, if any
	Text      string
	HTML      string
}

func getMessage(t *testing.T, mp *devstack.Mailpit, id string) caught {
	t.Helper()
	var msg caught
	getJSON(t, mp.WebURL+"/api/v1/message/"+url.PathEscape(id), &msg)
	return msg
}

// getHeaders returns the message's headers as Mailpit parsed them.
func getHeaders(t *testing.T, mp *devstack.Mailpit, id string) map[string][]string {
	t.Helper()
	var headers map[string][]string
	getJSON(t, mp.WebURL+"/api/v1/message/"+url.PathEscape(id)+"/headers", &headers)
	return headers
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decode: %v", u, err)
	}
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// closedAddr returns a loopback address nothing listens on, so connecting is
// refused at once.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// silentServer accepts connections and never says a word: the hung server a
// timeout exists for.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed by cleanup
			}
			wg.Go(func() {
				defer conn.Close()
				_, _ = conn.Read(make([]byte, 1)) // until the client gives up
			})
		}
	})
	return ln.Addr().String()
}

// fakeSMTP plays just enough SMTP to see what a client sends, and over what:
// it greets, offers STARTTLS or speaks TLS from the start if configured,
// advertises the configured EHLO extensions, accepts any AUTH and any message,
// and records every command, prefixed "[tls] " when it came encrypted.
// Mailpit cannot stand in here: devstack starts it without TLS, and it offers
// AUTH over plain text only to everyone or no one.
type fakeSMTP struct {
	addr string
	cfg  fakeConfig
	mu   sync.Mutex
	got  []string
}

// fakeConfig describes a fakeSMTP.
type fakeConfig struct {
	listen      string      // host:port to listen on
	extensions  string      // EHLO extensions, once TLS is up if STARTTLS is offered
	startTLS    *tls.Config // offer STARTTLS with this server config
	implicitTLS *tls.Config // speak TLS from the first byte, like smtps://
}

func startFakeSMTP(t *testing.T, cfg fakeConfig) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		// 127.0.0.2 is loopback only on Linux; [::1] needs IPv6.
		t.Skipf("cannot listen on %s: %v", cfg.listen, err)
	}
	f := &fakeSMTP{addr: ln.Addr().String(), cfg: cfg}
	if cfg.implicitTLS != nil {
		ln = tls.NewListener(ln, cfg.implicitTLS)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed by cleanup
			}
			wg.Go(func() { f.serve(conn) })
		}
	})
	return f
}

func (f *fakeSMTP) serve(conn net.Conn) {
	defer func() { _ = conn.Close() }() // conn changes at STARTTLS
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	secure := f.cfg.implicitTLS != nil
	fmt.Fprint(conn, "220 fake ESMTP\r\n")
	lines := bufio.NewScanner(conn)
	for lines.Scan() {
		cmd := lines.Text()
		f.mu.Lock()
		if secure {
			f.got = append(f.got, "[tls] "+cmd)
		} else {
			f.got = append(f.got, cmd)
		}
		f.mu.Unlock()

		switch verb, _, _ := strings.Cut(strings.ToUpper(cmd), " "); verb {
		case "EHLO":
			ext := f.cfg.extensions
			if f.cfg.startTLS != nil && !secure {
				ext = "STARTTLS"
			}
			fmt.Fprintf(conn, "250-fake\r\n250 %s\r\n", ext)
		case "STARTTLS":
			fmt.Fprint(conn, "220 ready\r\n")
			tlsConn := tls.Server(conn, f.cfg.startTLS)
			if err := tlsConn.Handshake(); err != nil {
				return // the client refused our certificate
			}
			conn, secure, lines = tlsConn, true, bufio.NewScanner(tlsConn)
		case "AUTH":
			fmt.Fprint(conn, "235 2.7.0 accepted\r\n")
		case "DATA":
			fmt.Fprint(conn, "354 go ahead\r\n")
			for lines.Scan() && lines.Text() != "." { // the message itself is not needed
			}
			fmt.Fprint(conn, "250 queued\r\n")
		case "QUIT":
			fmt.Fprint(conn, "221 bye\r\n")
			return
		default:
			fmt.Fprint(conn, "250 ok\r\n")
		}
	}
}

func (f *fakeSMTP) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// selfSignedTLS returns a server config with a fresh certificate for ip, and
// a client config that trusts that certificate and nothing else.
func selfSignedTLS(t *testing.T, ip string) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fake SMTP server"},
		IPAddresses:  []net.IP{net.ParseIP(ip)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	return server, &tls.Config{RootCAs: roots}
}
