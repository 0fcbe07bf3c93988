package mailer

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"

	"github.com/pinhole/pinhole/identity"
)

// Log writes the user pool's messages to a logger instead of sending them,
// so that under `make run` a developer can copy the code or open the link
// from the terminal; the app uses it only when SMTP_URL is empty.
//
// Never use it in production: one-time codes and links are credentials, and
// in a log they reach everyone who can read the logs (and every system the
// logs are shipped to) and outlive their use.
type Log struct {
	log  *slog.Logger
	from string
}

var _ identity.Mailer = (*Log)(nil)

// NewLog returns a mailer that writes each message to log (slog.Default()
// if nil) at info level. from is only shown, as SMTP would send it.
func NewLog(log *slog.Logger, from *mail.Address) *Log {
	if log == nil {
		log = slog.Default()
	}
	l := &Log{log: log}
	if from != nil {
		l.from = from.String()
	}
	return l
}

// Send renders e, exactly as SMTP would, and logs its kind, sender,
// recipient, subject, and the code and link the message carries. It refuses
// what SMTP refuses, so a bad Email fails under `make run` too.
func (l *Log) Send(ctx context.Context, e identity.Email) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mailer: log %s: %w", e.Kind, err)
	}
	r, err := Render(e)
	if err != nil {
		return err
	}
	attrs := []slog.Attr{
		slog.String("kind", string(e.Kind)),
		slog.String("from", l.from),
		slog.String("to", e.To),
		slog.String("subject", r.Subject),
	}
	// Only what the message itself shows: a code the domain set on a kind
	// that never carries one stays out of the log as it stays out of the mail.
	if kinds[e.Kind].code {
		attrs = append(attrs, slog.String("code", e.Code))
	}
	if e.Link != "" {
		attrs = append(attrs, slog.String("link", e.Link))
	}
	l.log.LogAttrs(ctx, slog.LevelInfo, "email not sent (log mailer, development only)", attrs...)
	return nil
}
