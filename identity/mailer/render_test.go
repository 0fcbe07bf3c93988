package mailer_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/mailer"
)

// kindCase is one message kind with an Email that should render, and what the
// rendered message must say. The same table drives the SMTP tests.
type kindCase struct {
	kind        identity.EmailKind
	email       identity.Email
	wantSubject string
	wantCode    bool     // the code must appear; when false it must not, even if set
	wantText    []string // phrases the plain-text body must contain
}

// kindCases has a row for every EmailKind constant in identity;
// TestKindCasesCoverIdentity fails when a kind is added there without one.
func kindCases(to string) []kindCase {
	return []kindCase{
		{
			kind:        identity.EmailConfirmSignUp,
			email:       identity.Email{Kind: identity.EmailConfirmSignUp, To: to, Code: "482913", Link: "https://pinhole.test/auth/confirm?token=abc123", ExpiresInMinutes: 24 * 60},
			wantSubject: "Confirm your Pinhole account",
			wantCode:    true,
			wantText:    []string{"work for 24 hours", "signed up for Pinhole with\n" + to},
		},
		{
			kind: identity.EmailAlreadyRegistered,
			// A code set by mistake must still never reach this message.
			email:       identity.Email{Kind: identity.EmailAlreadyRegistered, To: to, Code: "482913", Link: "https://pinhole.test/signin"},
			wantSubject: "You already have a Pinhole account",
			wantText:    []string{"already has one", "sign in, or reset", "ignore this email"},
		},
		{
			kind:        identity.EmailResetPassword,
			email:       identity.Email{Kind: identity.EmailResetPassword, To: to, Code: "771204", Link: "https://pinhole.test/password/reset?token=def456", ExpiresInMinutes: 60},
			wantSubject: "Reset your Pinhole password",
			wantCode:    true,
			wantText:    []string{"work for 1 hour.", "If you didn't ask", "password is unchanged"},
		},
		{
			kind:        identity.EmailPasswordChanged,
			email:       identity.Email{Kind: identity.EmailPasswordChanged, To: to, Link: "https://pinhole.test/password/forgot"},
			wantSubject: "Your Pinhole password was changed",
			wantText:    []string{"was changed", "If you didn't", "Reset your\npassword now"},
		},
		{
			kind:        identity.EmailConfirmNewAddress,
			email:       identity.Email{Kind: identity.EmailConfirmNewAddress, To: to, Code: "090807", ExpiresInMinutes: 24 * 60},
			wantSubject: "Confirm your new email address",
			wantCode:    true,
			wantText:    []string{"The code works for 24 hours", "keeps its current address"},
		},
		{
			kind:        identity.EmailAddressChanged,
			email:       identity.Email{Kind: identity.EmailAddressChanged, To: to, Link: "https://pinhole.test/forgot"},
			wantSubject: "Your Pinhole email address was changed",
			wantText:    []string{"no\nlonger uses " + to, "If you made this change", "If you didn't"},
		},
	}
}

func TestRenderEveryKind(t *testing.T) {
	t.Parallel()
	for _, tc := range kindCases("alice@example.com") {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			got, err := mailer.Render(tc.email)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got.Subject != tc.wantSubject {
				t.Errorf("Subject = %q, want %q", got.Subject, tc.wantSubject)
			}
			checkBody(t, "Text", got.Text, tc)
			checkBody(t, "HTML", got.HTML, tc)
			for _, want := range tc.wantText {
				if !strings.Contains(got.Text, want) {
					t.Errorf("Text does not contain %q:\n%s", want, got.Text)
				}
			}
			for _, want := range []string{"<title>" + tc.wantSubject + "</title>", "max-width:560px"} {
				if !strings.Contains(got.HTML, want) {
					t.Errorf("HTML does not contain %q", want)
				}
			}
			// No tracking of any kind: nothing loads when the message is
			// opened, and the only URL is the one the user needs.
			rest := got.HTML
			if tc.email.Link != "" {
				rest = strings.ReplaceAll(rest, tc.email.Link, "")
			}
			for _, bad := range []string{"<img", "src=", "url(", "http:", "https:", "//"} {
				if strings.Contains(rest, bad) {
					t.Errorf("HTML contains %q besides the link; want no remote content or other URLs", bad)
				}
			}
		})
	}
}

// checkBody checks what both bodies must show: the recipient (the reason the
// message came), the link, and the code exactly when the kind carries one.
func checkBody(t *testing.T, name, body string, tc kindCase) {
	t.Helper()
	if !strings.Contains(body, tc.email.To) {
		t.Errorf("%s does not name the recipient %q", name, tc.email.To)
	}
	if tc.email.Link != "" && !strings.Contains(body, tc.email.Link) {
		t.Errorf("%s does not contain the link %q", name, tc.email.Link)
	}
	if got := strings.Contains(body, tc.email.Code) && tc.email.Code != ""; got != tc.wantCode {
		t.Errorf("%s contains the code %q: %v, want %v", name, tc.email.Code, got, tc.wantCode)
	}
}

func TestRenderValidity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		minutes int
		want    string
	}{
		{24 * 60, "work for 24 hours."},
		{60, "work for 1 hour."},
		{90, "work for 90 minutes."},
		{15, "work for 15 minutes."},
		{1, "work for 1 minute."},
	}
	for _, tc := range tests {
		e := identity.Email{Kind: identity.EmailResetPassword, To: "alice@example.com", Code: "123456", Link: "https://pinhole.test/reset", ExpiresInMinutes: tc.minutes}
		got, err := mailer.Render(e)
		if err != nil {
			t.Fatalf("Render(%d minutes): %v", tc.minutes, err)
		}
		if !strings.Contains(got.Text, tc.want) || !strings.Contains(got.HTML, tc.want) {
			t.Errorf("Render(%d minutes): bodies do not say %q; text:\n%s", tc.minutes, tc.want, got.Text)
		}
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	t.Parallel()
	const (
		link = `https://pinhole.test/auth/confirm?token="><script>alert(1)</script>`
		code = `<b onmouseover="alert(2)">1</b>`
	)
	got, err := mailer.Render(identity.Email{Kind: identity.EmailConfirmSignUp, To: "o'hara&co@example.com", Code: code, Link: link, ExpiresInMinutes: 60})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	for _, bad := range []string{"<script", `"><script`, "<b ", "o'hara&co"} {
		if strings.Contains(got.HTML, bad) {
			t.Errorf("HTML contains unescaped %q:\n%s", bad, got.HTML)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",    // the link shown as text
		"%22%3e%3cscript%3ealert%281%29%3c/script", // the link in href
		"&lt;b onmouseover=&#34;alert(2)&#34;&gt;", // the code
		"o&#39;hara&amp;co@example.com",            // the recipient
	} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("HTML does not contain the escaped form %q:\n%s", want, got.HTML)
		}
	}
	// Plain text is not markup: it shows the data as it is.
	if !strings.Contains(got.Text, link) {
		t.Errorf("Text does not contain the link verbatim:\n%s", got.Text)
	}
}

func TestRenderRefuses(t *testing.T) {
	t.Parallel()
	valid := identity.Email{Kind: identity.EmailConfirmSignUp, To: "alice@example.com", Code: "123456", Link: "https://pinhole.test/confirm", ExpiresInMinutes: 60}
	tests := []struct {
		name    string
		change  func(e *identity.Email)
		wantErr error
	}{
		{"unknown kind", func(e *identity.Email) { e.Kind = "welcome_back" }, mailer.ErrUnknownKind},
		{"empty kind", func(e *identity.Email) { e.Kind = "" }, mailer.ErrUnknownKind},
		{"no recipient", func(e *identity.Email) { e.To = "" }, mailer.ErrInvalidEmail},
		{"header injection", func(e *identity.Email) { e.To = "alice@example.com\r\nBcc: x@y" }, mailer.ErrInvalidEmail},
		{"bare LF", func(e *identity.Email) { e.To = "alice@example.com\nBcc: x@y" }, mailer.ErrInvalidEmail},
		{"display name", func(e *identity.Email) { e.To = "Alice <alice@example.com>" }, mailer.ErrInvalidEmail},
		{"two recipients", func(e *identity.Email) { e.To = "alice@example.com, x@y" }, mailer.ErrInvalidEmail},
		{"not an address", func(e *identity.Email) { e.To = "alice" }, mailer.ErrInvalidEmail},
		{"no code", func(e *identity.Email) { e.Code = "" }, mailer.ErrInvalidEmail},
		{"no link", func(e *identity.Email) { e.Link = "" }, mailer.ErrInvalidEmail},
		{"relative link", func(e *identity.Email) { e.Link = "/auth/confirm?token=x" }, mailer.ErrInvalidEmail},
		{"javascript link", func(e *identity.Email) { e.Link = "javascript:alert(1)" }, mailer.ErrInvalidEmail},
		{"no validity", func(e *identity.Email) { e.ExpiresInMinutes = 0 }, mailer.ErrInvalidEmail},
		{"negative validity", func(e *identity.Email) { e.ExpiresInMinutes = -5 }, mailer.ErrInvalidEmail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := valid
			tc.change(&e)
			_, err := mailer.Render(e)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Render error = %v, want %v", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "x@y") {
				t.Errorf("error %q echoes the recipient", err)
			}
		})
	}
}

// TestKindCasesCoverIdentity reads package identity's source for its
// EmailKind constants: the compiler cannot tell this package that a kind was
// added, and a kind without templates would otherwise fail only in
// production, when its first email is refused.
func TestKindCasesCoverIdentity(t *testing.T) {
	t.Parallel()
	covered := make(map[identity.EmailKind]bool)
	for _, tc := range kindCases("alice@example.com") {
		covered[tc.kind] = true
	}
	declared := identityKinds(t)
	if len(declared) == 0 {
		t.Fatal("found no EmailKind constants in ../*.go; has package identity moved?")
	}
	for _, kind := range declared {
		if !covered[kind] {
			t.Errorf("identity declares EmailKind %q, but kindCases has no row for it (add templates/%s.{txt,html} and a row)", kind, kind)
		}
	}
}

// identityKinds returns the values of the EmailKind constants declared in
// package identity (the parent directory).
func identityKinds(t *testing.T) []identity.EmailKind {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("..", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []identity.EmailKind
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "EmailKind" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: EmailKind constant is not a string literal", fset.Position(v.Pos()))
					}
					value, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					kinds = append(kinds, identity.EmailKind(value))
				}
			}
		}
	}
	return kinds
}
