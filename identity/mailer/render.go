package mailer

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"net/url"
	"strings"
	texttemplate "text/template"
	"unicode"

	"github.com/pinhole/pinhole/identity"
)

// Errors Render (and so every Send) returns for an Email it refuses. Both
// mean a bug in the caller, not a delivery problem: retrying cannot help.
var (
	// ErrUnknownKind means there are no templates for the Email's Kind,
	// typically a kind added to identity without its templates here.
	ErrUnknownKind = errors.New("mailer: unknown email kind")
	// ErrInvalidEmail means the Email lacks something its kind needs (a code,
	// a link, a validity) or its recipient is not a single bare address.
	ErrInvalidEmail = errors.New("mailer: invalid email")
)

// Rendered is one message, ready for a transport.
type Rendered struct {
	Subject string
	Text    string // the plain-text body, for clients that do not show HTML
	HTML    string // the same message as a small, self-contained HTML page
}

// needs says what a kind of message must carry; Render refuses an Email
// without it rather than send a message the user cannot act on.
type needs struct {
	code   bool // a one-time code, shown in large type
	link   bool // a link; without this flag the link is optional
	expiry bool // ExpiresInMinutes, so the message can say how long the code works
}

// kinds lists every message Pinhole sends. Each kind has a pair of templates,
// templates/<kind>.txt (which also holds the subject) and
// templates/<kind>.html; a kind that is missing here is refused by Render.
var kinds = map[identity.EmailKind]needs{
	identity.EmailConfirmSignUp:     {code: true, link: true, expiry: true},
	identity.EmailAlreadyRegistered: {link: true},
	identity.EmailResetPassword:     {code: true, link: true, expiry: true},
	identity.EmailPasswordChanged:   {link: true},
	identity.EmailConfirmNewAddress: {code: true, expiry: true},
	identity.EmailAddressChanged:    {link: true},
}

//go:embed templates/*
var templateFS embed.FS

// compiled holds each kind's templates, parsed once at start-up. A template
// that does not parse is a bug in this package and panics at init, so it
// cannot reach a user; TestRenderEveryKind executes every one.
type compiled struct {
	text *texttemplate.Template // layout.txt + <kind>.txt: "subject" and the plain body
	html *htmltemplate.Template // layout.html + <kind>.html: the HTML body
}

var templates = func() map[identity.EmailKind]compiled {
	out := make(map[identity.EmailKind]compiled, len(kinds))
	for kind := range kinds {
		out[kind] = compiled{
			text: texttemplate.Must(texttemplate.New("layout.txt").
				ParseFS(templateFS, "templates/layout.txt", "templates/"+string(kind)+".txt")),
			html: htmltemplate.Must(htmltemplate.New("layout.html").
				ParseFS(templateFS, "templates/layout.html", "templates/"+string(kind)+".html")),
		}
	}
	return out
}()

// view is what the templates see. It holds only what a kind needs (see
// kinds), so a template cannot show, say, a code in a message that must
// never carry one.
type view struct {
	Subject  string // for the HTML <title>; the text templates define it
	To       string // the recipient, so the message can say why it was sent
	Code     string
	Link     string
	ValidFor string // e.g. "24 hours"
}

// Render turns e into a subject, a plain-text body and an HTML body. Data from
// e is escaped for HTML by html/template, so a hostile link or code cannot
// change the markup. Render checks e first and returns an error wrapping
// ErrUnknownKind or ErrInvalidEmail when it cannot be sent as is.
func Render(e identity.Email) (Rendered, error) {
	if err := Validate(e); err != nil {
		return Rendered{}, err
	}
	need := kinds[e.Kind]
	v := view{To: e.To, Link: e.Link}
	if need.code {
		v.Code = e.Code
	}
	if need.expiry {
		v.ValidFor = validFor(e.ExpiresInMinutes)
	}

	t := templates[e.Kind]
	var subject, text, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&subject, "subject", v); err != nil {
		return Rendered{}, fmt.Errorf("mailer: render %s subject: %w", e.Kind, err)
	}
	v.Subject = subject.String()
	if err := t.text.Execute(&text, v); err != nil {
		return Rendered{}, fmt.Errorf("mailer: render %s text: %w", e.Kind, err)
	}
	if err := t.html.Execute(&html, v); err != nil {
		return Rendered{}, fmt.Errorf("mailer: render %s html: %w", e.Kind, err)
	}
	return Rendered{Subject: v.Subject, Text: text.String(), HTML: html.String()}, nil
}

// Validate is Render's gate without the rendering: an error wrapping
// ErrUnknownKind or ErrInvalidEmail for a message that could never be sent,
// nil for one that can.
func Validate(e identity.Email) error {
	need, ok := kinds[e.Kind]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownKind, e.Kind)
	}
	if err := check(e, need); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidEmail, e.Kind, err)
	}
	return nil
}

// check reports the first thing that keeps e from being a message the user
// can act on, or that would be unsafe to put in a header.
func check(e identity.Email, need needs) error {
	if err := checkRecipient(e.To); err != nil {
		return err
	}
	if need.code && e.Code == "" {
		return errors.New("no code")
	}
	if need.link && e.Link == "" {
		return errors.New("no link")
	}
	if e.Link != "" {
		if err := checkLink(e.Link); err != nil {
			return err
		}
	}
	if need.expiry && e.ExpiresInMinutes <= 0 {
		return fmt.Errorf("validity must be positive, got %d minutes", e.ExpiresInMinutes)
	}
	return nil
}

// checkRecipient accepts exactly one bare address (user@example.com). Anything
// else, in particular a CR or LF that would start a new header such as
// "Bcc:", is refused here, before any transport sees it. The address itself
// stays out of the error: it is personal data, and may be hostile.
func checkRecipient(to string) error {
	if to == "" {
		return errors.New("no recipient")
	}
	if strings.ContainsFunc(to, unicode.IsControl) {
		return errors.New("recipient contains a control character such as CR or LF")
	}
	addr, err := mail.ParseAddress(to)
	if err != nil {
		// Not err itself: net/mail quotes the input back.
		return errors.New("recipient is not a single email address")
	}
	// ParseAddress also accepts "Name <user@example.com>" and lists' worth of
	// syntax; the domain promises a normalised bare address, so insist on it.
	if addr.Name != "" || addr.Address != to {
		return errors.New("recipient must be a bare address such as user@example.com")
	}
	return nil
}

// checkLink insists on an absolute http(s) URL: a relative link is useless in
// an email (usually a misconfigured PINHOLE_BASE_URL), and any other scheme
// (javascript:, data:) has no business in a security message.
func checkLink(link string) error {
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("link must be an absolute http or https URL")
	}
	return nil
}

// validFor says how long a code works the way a reader would: "24 hours",
// "1 hour", "15 minutes".
func validFor(minutes int) string {
	switch {
	case minutes == 60:
		return "1 hour"
	case minutes%60 == 0:
		return fmt.Sprintf("%d hours", minutes/60)
	case minutes == 1:
		return "1 minute"
	default:
		return fmt.Sprintf("%d minutes", minutes)
	}
}
