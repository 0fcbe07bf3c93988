package identity

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pinhole/pinhole/identity/password"
)

// Unit tests for the pure helpers of the user pool. The flows themselves are
// tested end to end, against real databases and SMTP, in package app.

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"  Ada@Example.COM ", "ada@example.com"},
		{"ADA@EXAMPLE.COM", "ada@example.com"},
		// NFC: "e" + combining acute becomes the single code point é.
		{"re\u0301my@example.com", "r\u00e9my@example.com"},
	}
	for _, tt := range tests {
		if got := NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidEmail(t *testing.T) {
	t.Parallel()
	valid := []string{"ada@example.com", "a.b+tag@sub.example.co", "x@y.io"}
	invalid := []string{"", "ada", "ada@", "@example.com", "ada@localhost", "Ada <ada@example.com>",
		"ada@example.com\r\nBcc: x@y.z", "a b@example.com", "ada@.example.com", "ada@example.com.",
		strings.Repeat("a", 65) + "@example.com", "a@" + strings.Repeat("b", 250) + ".com"}
	for _, e := range valid {
		if !validEmail(e) {
			t.Errorf("validEmail(%q) = false, want true", e)
		}
	}
	for _, e := range invalid {
		if validEmail(e) {
			t.Errorf("validEmail(%q) = true, want false", e)
		}
	}
}

func TestValidPhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"+14155550123": true, "+447911123456": true,
		"14155550123": false, "+0123456789": false, "+1 415 555 0123": false, "+1234567890123456": false,
	} {
		if got := validPhone(in); got != want {
			t.Errorf("validPhone(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseAttributeSpecs(t *testing.T) {
	t.Parallel()
	specs, err := ParseAttributeSpecs("display_name:string:mutable, employee_id:string:immutable,age:number:mutable")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 3 || !specs[0].Mutable || specs[1].Mutable || specs[2].Type != AttributeNumber {
		t.Errorf("specs = %+v", specs)
	}
	for _, bad := range []string{"name:string", "Name:string:mutable", "x:date:mutable", "x:string:sometimes", "a:string:mutable,a:number:mutable"} {
		if _, err := ParseAttributeSpecs(bad); err == nil {
			t.Errorf("ParseAttributeSpecs(%q) accepted a bad declaration", bad)
		}
	}
	if specs, err := ParseAttributeSpecs(""); err != nil || len(specs) != 0 {
		t.Errorf("empty declaration = %v, %v; want none", specs, err)
	}
}

func TestCodes(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c, err := newCode(rand.Reader)
		if err != nil || !validCodeFormat(c) {
			t.Fatalf("newCode = %q, %v; want six digits", c, err)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Errorf("200 codes had only %d distinct values", len(seen))
	}
	for _, bad := range []string{"12345", "1234567", "12345a", "١٢٣٤٥٦", " 12345"} {
		if validCodeFormat(bad) {
			t.Errorf("validCodeFormat(%q) = true", bad)
		}
	}
	// A code's hash is bound to its user and purpose.
	if bytes.Equal(hashCode("a", PurposeConfirmSignUp, "123456"), hashCode("b", PurposeConfirmSignUp, "123456")) ||
		bytes.Equal(hashCode("a", PurposeConfirmSignUp, "123456"), hashCode("a", PurposeResetPassword, "123456")) {
		t.Error("code hashes are not bound to user and purpose")
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	s, err := newSecret(rand.Reader)
	if err != nil || !wellFormedSecret(s) {
		t.Fatalf("newSecret = %q, %v", s, err)
	}
	for _, bad := range []string{"", s[:42], s + "A", strings.Repeat("*", 43)} {
		if wellFormedSecret(bad) {
			t.Errorf("wellFormedSecret(%q) = true", bad)
		}
	}
}

// TestSealedSuccessor: only the holder of the rotated token can open its
// successor; the sealed bytes alone (a database reader) reveal nothing.
func TestSealedSuccessor(t *testing.T) {
	t.Parallel()
	old, _ := newSecret(rand.Reader)
	next, _ := newSecret(rand.Reader)
	sealed, err := sealSuccessor(rand.Reader, old, next)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(next)) {
		t.Fatal("sealed successor contains the plain token")
	}
	got, err := openSuccessor(old, sealed)
	if err != nil || got != next {
		t.Fatalf("openSuccessor = %q, %v; want %q", got, err, next)
	}
	other, _ := newSecret(rand.Reader)
	if _, err := openSuccessor(other, sealed); err == nil {
		t.Error("another token opened the sealed successor")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := openSuccessor(old, sealed); err == nil {
		t.Error("a tampered sealed successor opened")
	}
	if _, err := openSuccessor(old, sealed[:3]); err == nil {
		t.Error("a truncated sealed successor opened")
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	ceiling := 15 * time.Minute
	for n, want := range map[int]time.Duration{0: time.Second, 1: 2 * time.Second, 4: 16 * time.Second, 10: ceiling, 40: ceiling} {
		if got := backoff(n, ceiling); got != want {
			t.Errorf("backoff(%d) = %s, want %s", n, got, want)
		}
	}
	for d, want := range map[time.Duration]time.Duration{0: time.Second, 1500 * time.Millisecond: 2 * time.Second, 3 * time.Second: 3 * time.Second} {
		if got := retryAfter(d); got != want {
			t.Errorf("retryAfter(%s) = %s, want %s", d, got, want)
		}
	}
}

func TestConfigDefaultsAndLimits(t *testing.T) {
	t.Parallel()
	c := Config{Issuer: "http://localhost:8080"}
	if err := c.setDefaults(); err != nil {
		t.Fatal(err)
	}
	if c.AccessTTL != 15*time.Minute || c.RefreshTTL != 30*24*time.Hour || c.RefreshGrace != 10*time.Second ||
		c.SignUpCodeTTL != 24*time.Hour || c.ResetCodeTTL != time.Hour || c.MaxCodeAttempts != 5 ||
		c.Retention != DefaultRetention() {
		t.Errorf("defaults = %+v", c)
	}
	for _, bad := range []Config{
		{Issuer: "not a url"},
		{Issuer: "http://x", Limits: &Limits{SignInMaxFailures: 101}},
		{Issuer: "http://x", RefreshTTL: time.Minute},
		{Issuer: "http://x", Retention: Retention{Events: time.Hour}},
	} {
		if err := bad.setDefaults(); err == nil {
			t.Errorf("setDefaults(%+v) accepted a bad config", bad)
		}
	}
}

func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()
	e := &ValidationError{Code: "validation_failed", Fields: map[string]string{"b": "second", "a": "first"}}
	if e.Message() != "first" || !strings.Contains(e.Error(), "a: first; b: second") {
		t.Errorf("Message = %q, Error = %q", e.Message(), e.Error())
	}
}

func TestRequestMetaUserAgent(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", maxUserAgent-1) + "é" // "é" straddles the limit
	tests := []struct{ in, want string }{
		{"Mozilla/5.0", "Mozilla/5.0"},
		{strings.Repeat("a", maxUserAgent+10), strings.Repeat("a", maxUserAgent)},
		{long, strings.Repeat("a", maxUserAgent-1)},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		got := RequestMeta{UserAgent: tt.in}.userAgent()
		if got != tt.want {
			t.Errorf("userAgent(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) || len(got) > maxUserAgent {
			t.Errorf("userAgent(%q) = %q: invalid UTF-8 or longer than %d bytes", tt.in, got, maxUserAgent)
		}
	}
}

func TestMaxSignInPasswordBytes(t *testing.T) {
	t.Parallel()
	def := 4 * password.DefaultMaxLength
	tests := []struct {
		policy password.Policy
		want   int
	}{
		{password.Policy{}, def}, // zero means the default, not "nothing"
		{password.Policy{MaxLength: 64}, def},
		{password.Policy{MaxLength: 1000}, 4000},
	}
	for _, tt := range tests {
		if got := maxSignInPasswordBytes(&tt.policy); got != tt.want {
			t.Errorf("maxSignInPasswordBytes(%+v) = %d, want %d", tt.policy, got, tt.want)
		}
	}
}
