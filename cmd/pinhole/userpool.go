package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/identity/mailer"
	"github.com/pinhole/pinhole/identity/password"
	"github.com/pinhole/pinhole/internal/database"
)

// newUserPool assembles the user pool from the configuration: its schema,
// its store, how it sends mail and how it hashes passwords. The caller must
// Close the returned mail queue when it is done, so that queued messages
// are delivered before the process exits.
func newUserPool(ctx context.Context, cfg app.Config, db *database.DB, log *slog.Logger) (*identity.Service, *mailer.Queue, error) {
	if err := gormstore.Migrate(ctx, db); err != nil {
		return nil, nil, fmt.Errorf("user pool schema: %w", err)
	}
	var delivery identity.Mailer
	if cfg.SMTPURL != nil {
		smtp, err := mailer.NewSMTP(cfg.SMTPURL, cfg.MailFrom)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", app.EnvSMTPURL, err)
		}
		delivery = smtp
	} else {
		delivery = mailer.NewLog(log, cfg.MailFrom)
	}
	// Mail goes out in the background, so no response waits for the mail
	// server: a flow that mails only registered addresses must not take
	// longer for them (see mailer.Queue).
	mail := mailer.NewQueue(delivery, log, mailer.QueueConfig{})
	policy := password.DefaultPolicy()
	policy.MinLength = cfg.PasswordMinLength
	// The cap (0 = one hash per core) bounds memory under a sign-in flood:
	// excess requests wait briefly in a short queue, then get 429.
	cores := runtime.GOMAXPROCS(0)
	hasher := password.NewHasher(password.DefaultParams, cores, 4*cores)
	ids, err := identity.New(ctx, identity.Config{
		Issuer:     cfg.BaseURL.String(),
		AccessTTL:  cfg.TokenTTL,
		IDTTL:      cfg.TokenTTL,
		RefreshTTL: cfg.RefreshTTL,
		Policy:     &policy,
		Attributes: cfg.CustomAttributes,
		Retention:  identity.Retention{Events: cfg.AuditRetention},
	}, gormstore.New(db), mail, hasher, log)
	if err != nil {
		_ = mail.Close(ctx)
		return nil, nil, fmt.Errorf("user pool: %w", err)
	}
	return ids, mail, nil
}

// closeMail delivers what is still queued, waiting at most grace.
func closeMail(mail *mailer.Queue, log *slog.Logger, grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := mail.Close(ctx); err != nil {
		log.Error("mail queue", "err", err)
	}
}
