package mailer_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/mailer"
)

func TestLogSend(t *testing.T) {
	t.Parallel()
	for _, tc := range kindCases("dev@example.com") {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			m := mailer.NewLog(slog.New(slog.NewTextHandler(&buf, nil)), testFrom)
			if err := m.Send(context.Background(), tc.email); err != nil {
				t.Fatalf("Send: %v", err)
			}

			got := buf.String()
			for _, want := range []string{
				"level=INFO",
				"kind=" + string(tc.kind),
				"to=dev@example.com",
				`from="\"Pinhole\" <no-reply@pinhole.test>"`,
				`subject="` + tc.wantSubject + `"`,
			} {
				if !strings.Contains(got, want) {
					t.Errorf("log does not contain %s:\n%s", want, got)
				}
			}
			if tc.email.Link != "" && !logged(got, "link", tc.email.Link) {
				t.Errorf("log does not contain the link %s:\n%s", tc.email.Link, got)
			}
			if hasCode := tc.email.Code != "" && logged(got, "code", tc.email.Code); hasCode != tc.wantCode {
				t.Errorf("log contains code=%s: %v, want %v:\n%s", tc.email.Code, hasCode, tc.wantCode, got)
			}
		})
	}
}

// logged reports whether a text-handler log line has key=value, quoted as
// slog quotes values that contain spaces, quotes or '='.
func logged(log, key, value string) bool {
	return strings.Contains(log, key+"="+value+" ") || strings.Contains(log, key+"="+value+"\n") ||
		strings.Contains(log, key+"="+strconv.Quote(value))
}

// TestLogRefuses checks the log mailer refuses what SMTP refuses, so a bad
// Email fails under `make run` too, and logs nothing.
func TestLogRefuses(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := mailer.NewLog(slog.New(slog.NewTextHandler(&buf, nil)), testFrom)

	tests := []struct {
		name    string
		ctx     func() context.Context
		email   identity.Email
		wantErr error
	}{
		{
			name:    "header injection",
			email:   identity.Email{Kind: identity.EmailPasswordChanged, To: "dev@example.com\r\nBcc: x@y", Link: "https://pinhole.test/password/forgot"},
			wantErr: mailer.ErrInvalidEmail,
		},
		{
			name:    "unknown kind",
			email:   identity.Email{Kind: "newsletter", To: "dev@example.com"},
			wantErr: mailer.ErrUnknownKind,
		},
		{
			name: "cancelled context",
			ctx: func() context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
			email:   identity.Email{Kind: identity.EmailPasswordChanged, To: "dev@example.com", Link: "https://pinhole.test/password/forgot"},
			wantErr: context.Canceled,
		},
	}
	for _, tc := range tests {
		ctx := context.Background()
		if tc.ctx != nil {
			ctx = tc.ctx()
		}
		if err := m.Send(ctx, tc.email); !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: Send = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("log = %q, want nothing logged for refused messages", buf.String())
	}
}
