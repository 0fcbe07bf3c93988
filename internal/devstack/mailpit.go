package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// mailpitStartTimeout is short: Mailpit has no data to format and is up in
// well under a second.
const mailpitStartTimeout = 20 * time.Second

// MailpitConfig describes one Mailpit server.
type MailpitConfig struct {
	Binary   string    // path to the mailpit binary, usually MailpitTool.Path(BinDir())
	SMTPAddr string    // host:port for SMTP; empty = 127.0.0.1:<free port>
	HTTPAddr string    // host:port for the web UI and API; empty = 127.0.0.1:<free port>
	Log      io.Writer // process output; nil = discard (the tail still appears in start-up errors)
}

// Mailpit is a running Mailpit: an SMTP server that keeps every message
// instead of delivering it, with a web UI for humans and an API for tests.
type Mailpit struct {
	SMTPAddr string // host:port to dial
	SMTPURL  string // smtp://127.0.0.1:port, the form Pinhole's SMTP_URL takes
	WebURL   string // http://127.0.0.1:port, the web UI and /api/v1

	mu     sync.Mutex
	proc   *process
	tmp    string // holds the message database; removed by Close
	tail   *tailBuffer
	client *http.Client
	closed bool
}

// Message is the summary of one caught email.
type Message struct {
	ID      string    // Mailpit's id, for Text
	From    string    // sender address, without display name
	To      []string  // recipient addresses, without display names
	Subject string    // decoded subject
	Created time.Time // when Mailpit received it
}

// StartMailpit starts Mailpit and returns once both its API and its SMTP
// port answer. SMTP accepts any credentials, or none, without TLS, so the
// app can be pointed at it with or without user:pass in SMTP_URL.
func StartMailpit(ctx context.Context, cfg MailpitConfig) (*Mailpit, error) {
	if cfg.Binary == "" {
		return nil, errors.New("devstack: MailpitConfig.Binary is empty")
	}
	tmp, err := os.MkdirTemp("", "pinhole-mailpit-")
	if err != nil {
		return nil, fmt.Errorf("devstack: mailpit temp dir: %w", err)
	}
	m := &Mailpit{
		tmp:    tmp,
		tail:   newTailBuffer(32 << 10),
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
	err = startOnFreePorts(ctx, cfg.SMTPAddr == "" || cfg.HTTPAddr == "", func() error {
		try := cfg
		var err error
		if try.SMTPAddr == "" {
			if try.SMTPAddr, err = freeAddr(); err != nil {
				return err
			}
		}
		if try.HTTPAddr == "" {
			if try.HTTPAddr, err = freeAddr(); err != nil {
				return err
			}
		}
		return m.start(ctx, try)
	})
	if err != nil {
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	return m, nil
}

func (m *Mailpit) start(ctx context.Context, cfg MailpitConfig) error {
	cmd := exec.Command(cfg.Binary,
		"--smtp", cfg.SMTPAddr,
		"--listen", cfg.HTTPAddr,
		// Without --database Mailpit makes its own temp file and deletes it
		// only on a clean exit; ours goes away with Close even after SIGKILL.
		"--database", filepath.Join(m.tmp, "mailpit.db"),
		"--smtp-auth-accept-any",
		// Mailpit advertises AUTH only over TLS unless told otherwise, and
		// a client configured with credentials then fails outright.
		"--smtp-auth-allow-insecure",
		"--smtp-disable-rdns", // reverse DNS per connection is slow offline
		"--disable-version-check",
	)
	cmd.Dir = m.tmp
	cmd.Env = childEnv("MP_")
	proc, err := startProcess("mailpit", cmd, logWriter(cfg.Log, m.tail), nil)
	if err != nil {
		return err
	}
	webURL := "http://" + cfg.HTTPAddr
	err = waitReady(ctx, proc, mailpitStartTimeout, func(ctx context.Context) error {
		if err := m.get(ctx, webURL+"/readyz", nil); err != nil {
			return err
		}
		// /readyz covers the web server and database; SMTP starts on its
		// own goroutine and may still be binding.
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", cfg.SMTPAddr)
		if err != nil {
			return err
		}
		return conn.Close()
	})
	if err != nil {
		proc.stop(syscall.SIGTERM, 5*time.Second)
		return withTail(err, "mailpit", m.tail)
	}
	m.proc = proc
	m.SMTPAddr = cfg.SMTPAddr
	m.SMTPURL = "smtp://" + cfg.SMTPAddr
	m.WebURL = webURL
	return nil
}

// get fetches url and decodes a JSON body into v (nil = ignore the body).
func (m *Mailpit) get(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	if v == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", url, err)
	}
	return nil
}

// mailpitAddress is net/mail.Address as Mailpit's API encodes it.
type mailpitAddress struct {
	Name    string
	Address string
}

// Messages lists every caught message, newest first.
func (m *Mailpit) Messages(ctx context.Context) ([]Message, error) {
	const page = 200
	var all []Message
	for start := 0; ; start += page {
		var body struct {
			Messages []struct {
				ID      string
				From    *mailpitAddress
				To      []mailpitAddress
				Subject string
				Created time.Time
			} `json:"messages"`
		}
		u := fmt.Sprintf("%s/api/v1/messages?start=%d&limit=%d", m.WebURL, start, page)
		if err := m.get(ctx, u, &body); err != nil {
			return nil, fmt.Errorf("devstack: mailpit messages: %w", err)
		}
		for _, msg := range body.Messages {
			out := Message{ID: msg.ID, Subject: msg.Subject, Created: msg.Created}
			if msg.From != nil {
				out.From = msg.From.Address
			}
			for _, to := range msg.To {
				out.To = append(out.To, to.Address)
			}
			all = append(all, out)
		}
		if len(body.Messages) < page {
			return all, nil
		}
	}
}

// Text returns the plain-text body of message id, where tests find the
// codes and links the user pool sent.
func (m *Mailpit) Text(ctx context.Context, id string) (string, error) {
	var body struct{ Text string }
	if err := m.get(ctx, m.WebURL+"/api/v1/message/"+url.PathEscape(id), &body); err != nil {
		return "", fmt.Errorf("devstack: mailpit message %s: %w", id, err)
	}
	return body.Text, nil
}

// Logs returns the most recent output of the server, for a test to print
// when it fails.
func (m *Mailpit) Logs() string { return m.tail.String() }

// Close stops Mailpit and deletes every message it caught. It is safe to
// call more than once.
func (m *Mailpit) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if m.proc != nil {
		m.proc.stop(syscall.SIGTERM, 5*time.Second)
		m.proc = nil
	}
	m.client.CloseIdleConnections()
	if err := os.RemoveAll(m.tmp); err != nil {
		return fmt.Errorf("devstack: mailpit: remove temp dir: %w", err)
	}
	return nil
}
