package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/identity/mailer"
	"github.com/pinhole/pinhole/identity/password"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/devstack"
	"github.com/pinhole/pinhole/internal/fakeclock"
	"github.com/pinhole/pinhole/internal/testenv"
)

// apiEnv is the whole user pool behind a real HTTP server: a real database
// (SQLite file or PostgreSQL), real SMTP delivery into Mailpit, the real
// router. Only the clock is fake.
type apiEnv struct {
	t     testing.TB
	URL   string
	ids   *identity.Service
	store *gormstore.Store
	mail  *devstack.Mailpit
	clock *fakeclock.Clock

	readMu sync.Mutex
	read   map[string]bool // ids of the messages mailTo has returned
}

// testParams make hashing cheap in tests; the real parameters are covered by
// identity/password's own tests and benchmarks.
var testParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newAPIEnv(t testing.TB, dbURL string, tweak ...func(*identity.Config)) *apiEnv {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, dbURL, database.Options{})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := gormstore.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	mp := testenv.Mailpit(t)
	// Listen first, so the issuer (and every link and jwks_uri) is the URL
	// the test server really answers on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg, err := LoadConfig(env(map[string]string{EnvSMTPURL: mp.SMTPURL, EnvBaseURL: base}))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	smtp, err := mailer.NewSMTP(cfg.SMTPURL, cfg.MailFrom)
	if err != nil {
		t.Fatalf("smtp: %v", err)
	}
	// As in production: mail leaves through a queue, so no response waits
	// for the SMTP server.
	mail := mailer.NewQueue(smtp, nil, mailer.QueueConfig{})
	t.Cleanup(func() {
		if err := mail.Close(context.Background()); err != nil {
			t.Errorf("mail queue: %v", err)
		}
	})
	// The user pool's clock: code expiry, token lifetimes and the refresh
	// grace window are tested by moving it, never by sleeping.
	clock := fakeclock.New(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	idCfg := identity.Config{Issuer: cfg.BaseURL.String(), Now: clock.Now, Attributes: cfg.CustomAttributes}
	for _, f := range tweak {
		f(&idCfg)
	}
	store := gormstore.New(db)
	hasher := password.NewHasher(testParams, 4, 512)
	if _, ok := t.(*testing.B); ok {
		// Benchmarks measure the real cost: OWASP parameters, one hash per core.
		hasher = password.NewHasher(password.DefaultParams, 0, 1024)
	}
	ids, err := identity.New(ctx, idCfg, store, mail, hasher, nil)
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	srv := httptest.NewUnstartedServer(NewServer(Deps{Config: cfg, DB: db, Identity: ids}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &apiEnv{t: t, URL: srv.URL, ids: ids, store: store, mail: mp, clock: clock, read: map[string]bool{}}
}

// response is an HTTP answer with its JSON body decoded loosely.
type response struct {
	Status int
	Header http.Header
	Raw    string
	JSON   map[string]any
}

// str returns a string field of the JSON body.
func (r response) str(key string) string {
	s, _ := r.JSON[key].(string)
	return s
}

func (e *apiEnv) do(method, path string, body any, bearer string) response {
	e.t.Helper()
	return doJSON(e.t, e.URL, method, path, body, bearer)
}

// doJSON calls the JSON API at baseURL: body (if any) is sent as JSON, and
// bearer (if any) as the access token.
func doJSON(t testing.TB, baseURL, method, path string, body any, bearer string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, baseURL+path, rd)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.JSON)
	return r
}

func (e *apiEnv) post(path string, body any) response {
	e.t.Helper()
	return e.do("POST", path, body, "")
}

// want fails the test unless r has the status (and error code, if given).
func want(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.str("error") != code) {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, status, code)
	}
}

var (
	codePattern        = regexp.MustCompile(`\b(\d{6})\b`)
	confirmLinkPattern = regexp.MustCompile(`https?://[^\s"<>]+/auth/confirm\?token=[A-Za-z0-9_-]+`)
)

// Subjects of the messages tests read (identity/mailer/templates).
const (
	subjectConfirm           = "Confirm your Pinhole account"
	subjectAlreadyRegistered = "You already have a Pinhole account"
	subjectReset             = "Reset your Pinhole password"
	subjectNewAddress        = "Confirm your new email address"
)

// mailTo waits for a message to `to` with the given subject that this test
// has not read yet, and returns its plain text. Mail leaves through a queue,
// so it arrives after the response that caused it, and not necessarily in
// the order it was sent: matching on the subject, rather than taking the
// newest message, is what finds the right one.
func (e *apiEnv) mailTo(to, subject string) (id, text string) {
	e.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs, err := e.mail.Messages(ctx)
		if err != nil {
			e.t.Fatalf("list mail: %v", err)
		}
		for _, msg := range msgs {
			if msg.Subject != subject || !slices.ContainsFunc(msg.To, func(r string) bool { return strings.EqualFold(r, to) }) {
				continue
			}
			e.readMu.Lock()
			read := e.read[msg.ID]
			e.read[msg.ID] = true
			e.readMu.Unlock()
			if read {
				continue
			}
			body, err := e.mail.Text(ctx, msg.ID)
			if err != nil {
				e.t.Fatalf("read mail: %v", err)
			}
			return msg.ID, body
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no unread message %q to %s within 10s", subject, to)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// codeFrom extracts the 6-digit code from an email body.
func codeFrom(t testing.TB, text string) string {
	t.Helper()
	m := codePattern.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no 6-digit code in mail:\n%s", text)
	}
	return m[1]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const testPassword = "correct horse battery staple"

// signUpConfirmed registers and confirms a user and signs them in.
func (e *apiEnv) signUpConfirmed(email string) response {
	e.t.Helper()
	want(e.t, e.post("/api/auth/signup", map[string]any{"email": email, "password": testPassword}), http.StatusCreated, "")
	_, text := e.mailTo(email, subjectConfirm)
	want(e.t, e.post("/api/auth/confirm", map[string]any{"email": email, "code": codeFrom(e.t, text)}), http.StatusOK, "")
	r := e.post("/api/auth/signin", map[string]any{"email": email, "password": testPassword})
	want(e.t, r, http.StatusOK, "")
	return r
}

var emailSeq atomic.Int64

// uniqueEmail keeps tests that share a mailbox apart.
func uniqueEmail(local string) string {
	return fmt.Sprintf("%s%d@example.com", local, emailSeq.Add(1))
}
