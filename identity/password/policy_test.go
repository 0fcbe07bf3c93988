package password

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	def := DefaultPolicy()
	long := strings.Repeat("plover quartz tundra ", 15) // 315 characters
	longA, longB := long[:256]+strings.Repeat("a", 44), long[:256]+strings.Repeat("b", 44)

	tests := []struct {
		name     string
		policy   Policy
		password string
		email    string
		want     Reason // "" means accepted
	}{
		// Length, in code points after NFKC normalisation.
		{"empty", def, "", "", ReasonTooShort},
		{"11 characters", def, "plover-quar", "", ReasonTooShort},
		{"12 characters", def, "plover-quart", "", ""},
		{"64 characters", def, strings.Repeat("plover-q", 8), "", ""},
		{"256 characters", def, long[:256], "", ""},
		{"257 characters", def, long[:257], "", ReasonTooLong},
		{"no truncation: 300 characters rejected, not cut to 256", def, longA, "", ReasonTooLong},
		{"no truncation: its twin rejected too", def, longB, "", ReasonTooLong},
		{"300 characters under a 512 maximum", Policy{MaxLength: 512}, longA, "", ""},
		{"12 two-byte characters", def, strings.Repeat("é", 12), "", ""},
		{"11 two-byte characters (22 bytes)", def, strings.Repeat("é", 11), "", ReasonTooShort},
		{"12 emoji (48 bytes)", def, strings.Repeat("🔒", 12), "", ""},
		{"11 emoji (44 bytes)", def, strings.Repeat("🔒", 11), "", ReasonTooShort},
		{"12 decomposed é count as 12 after NFKC", def, norm.NFD.String(strings.Repeat("é", 12)), "", ""},
		{"11 decomposed é (22 code points) count as 11", def, norm.NFD.String(strings.Repeat("é", 11)), "", ReasonTooShort},
		{"twelve spaces count as one", def, strings.Repeat(" ", 12), "", ReasonTooShort},
		{"a double space counts once toward the minimum", def, "plover  quar", "", ReasonTooShort},
		{"single spaces count", def, "plover quart", "", ""},
		{"spaces count in full toward the maximum", def, strings.Repeat("ab  ", 64) + "c", "", ReasonTooLong},
		{"a ligature counts as the letters it stands for", def, "ﬁﬁﬁﬁﬁﬁ", "", ""},
		{"zero Policy uses the default minimum", Policy{}, "plover-quar", "", ReasonTooShort},
		{"configured minimum", Policy{MinLength: 16}, "plover-quartz-tu", "", ""},
		{"configured minimum, one short", Policy{MinLength: 16}, "plover-quartz-t", "", ReasonTooShort},
		{"minimum below NIST's floor counts as 8", Policy{MinLength: 4}, "plover7", "", ReasonTooShort},

		// Blocklist.
		{"common", def, "password1234", "", ReasonTooCommon},
		{"common, other case", def, "PassWord1234", "", ReasonTooCommon},
		{"common, surrounding spaces", def, "  qwertyuiop123 ", "", ReasonTooCommon},
		{"common, full-width (NFKC)", def, "ｐａｓｓｗｏｒｄ１２３４", "", ReasonTooCommon},
		{"common but too short says too short", def, "iloveyou", "", ReasonTooShort},
		{"common under an 8-character minimum", Policy{MinLength: 8, Blocklist: DefaultBlocklist()}, "iloveyou", "", ReasonTooCommon},
		{"no blocklist", Policy{}, "password1234", "", ""},

		// Email.
		{"contains the local part", def, "my-alice.smith-photos", "alice.smith@example.com", ReasonContainsEmail},
		{"contains the local part, other case", def, "my-ALICE.Smith-photos", "Alice.Smith@Example.com", ReasonContainsEmail},
		{"is the local part", def, "alice.smith.1", "alice.smith.1@example.com", ReasonContainsEmail},
		{"contains the base of a +tag", def, "alice-takes-photos", "alice+pinhole@example.com", ReasonContainsEmail},
		{"is the whole address", def, "al@example.com", "al@example.com", ReasonContainsEmail},
		{"contains the whole address", def, "mail me at al@example.com", "AL@example.com", ReasonContainsEmail},
		{"3-character local part is not checked", def, "plover-tom-quartz", "tom@example.com", ""},
		{"4-character local part is checked", def, "plover-anna-quartz", "anna@example.com", ReasonContainsEmail},
		{"domain alone is fine", def, "example.com-plover", "alice@example.com", ""},
		{"no email", def, "plover-quartz-tundra", "", ""},
		{"email check comes before the blocklist", def, "password1234", "password1234@example.com", ReasonContainsEmail},

		// Accepted.
		{"passphrase with spaces", def, "correct horse battery staple", "alice@example.com", ""},
		{"Unicode passphrase", def, "Ünïcödé pässwörd 🔒", "alice@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.policy.Check(tt.password, tt.email)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tt.password, err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check(%q) = %v, want a *PolicyError with reason %s", tt.password, err, tt.want)
			}
			if pe.Reason != tt.want {
				t.Errorf("Check(%q) reason = %s, want %s", tt.password, pe.Reason, tt.want)
			}
			if pe.Message == "" {
				t.Error("Message is empty, want a sentence for the user")
			}
			if strings.TrimSpace(tt.password) != "" &&
				(strings.Contains(pe.Message, strings.TrimSpace(tt.password)) || strings.Contains(pe.Error(), strings.TrimSpace(tt.password))) {
				t.Errorf("error %q / message %q contains the password", pe.Error(), pe.Message)
			}
		})
	}
}

func TestPolicyMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy   Policy
		password string
		want     string
	}{
		{DefaultPolicy(), "short", "Use at least 12 characters."},
		{Policy{MinLength: 4}, "short", "Use at least 8 characters."},
		{Policy{MaxLength: 64}, strings.Repeat("x", 65), "Use at most 64 characters."},
	}
	for _, tt := range tests {
		var pe *PolicyError
		if err := tt.policy.Check(tt.password, ""); !errors.As(err, &pe) || !strings.HasPrefix(pe.Message, tt.want) {
			t.Errorf("%+v.Check(%d characters) = %v, want a message starting %q", tt.policy, len(tt.password), err, tt.want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		policy  Policy
		wantErr bool
	}{
		{"default", DefaultPolicy(), false},
		{"zero", Policy{}, false},
		{"NIST minimum", Policy{MinLength: 8, MaxLength: 64}, false},
		{"minimum below 8", Policy{MinLength: 6}, true},
		{"maximum below 64", Policy{MaxLength: 32}, true},
		{"minimum above maximum", Policy{MinLength: 100, MaxLength: 80}, true},
		{"minimum above default maximum", Policy{MinLength: 300}, true},
		{"negative", Policy{MinLength: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.policy.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
