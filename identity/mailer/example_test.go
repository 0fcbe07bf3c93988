package mailer_test

import (
	"context"
	"log/slog"
	"net/mail"
	"net/url"
	"os"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/mailer"
)

// The app picks its mailer from SMTP_URL: SMTP when it is set, the log when
// it is empty (development only: codes end up in the log).
func Example() {
	smtpURL := os.Getenv("SMTP_URL")
	from := &mail.Address{Name: "Pinhole", Address: "no-reply@localhost"}

	var m identity.Mailer
	if smtpURL == "" {
		m = mailer.NewLog(slog.Default(), from)
	} else {
		u, err := url.Parse(smtpURL)
		if err != nil {
			panic("SMTP_URL: " + err.Error()) // the app reports this at start-up instead
		}
		s, err := mailer.NewSMTP(u, from)
		if err != nil {
			panic(err)
		}
		m = s
	}
	_ = m // handed to identity, which calls m.Send(ctx, identity.Email{...})
}

func ExampleLog() {
	// A handler without timestamps, so the output below is stable.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	m := mailer.NewLog(log, &mail.Address{Name: "Pinhole", Address: "no-reply@localhost"})

	err := m.Send(context.Background(), identity.Email{
		Kind:             identity.EmailConfirmSignUp,
		To:               "alice@example.com",
		Code:             "482913",
		Link:             "http://localhost:8080/auth/confirm?token=abc",
		ExpiresInMinutes: 24 * 60,
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// level=INFO msg="email not sent (log mailer, development only)" kind=confirm_sign_up from="\"Pinhole\" <no-reply@localhost>" to=alice@example.com subject="Confirm your Pinhole account" code=482913 link="http://localhost:8080/auth/confirm?token=abc"
}
