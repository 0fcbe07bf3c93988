// Package mailer delivers the user pool's messages: Pinhole's self-hosted
// counterpart to Cognito's message templates and the Amazon SES integration
// that sends them.
//
// The identity package decides that a message goes out and what it carries
// (an identity.Email: kind, recipient, code, link, validity). This package
// owns the wording and the delivery:
//
//   - Render turns an Email into a subject, a plain-text body and an HTML
//     body, from templates embedded in the binary (templates/), one pair per
//     identity.EmailKind. It is also the gate for what the domain hands over:
//     an unknown kind, a missing code or link, or a recipient that is not one
//     bare address is refused before anything is sent.
//   - SMTP sends rendered messages through any SMTP server (SMTP_URL), using
//     github.com/wneessen/go-mail for the protocol: SMTP, STARTTLS and SASL
//     are fiddly and security-sensitive, so they are not written by hand.
//   - Log writes messages to a slog.Logger instead of sending them: the
//     `make run` default when SMTP_URL is empty. It puts one-time codes in the
//     log, so it is for development only.
//
// The messages are deliberately plain: no images, no tracking pixels, no
// redirecting links. A code or link in these emails is a credential, so it
// must travel only to the recipient. If a mail provider offers open or click
// tracking, turn it off for this sender: click tracking rewrites every link,
// one-time tokens included, to pass through the provider's servers.
package mailer
