package password

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// shippedEntries is the entry count recorded in BLOCKLIST_SOURCES.md.
// Regenerating the list means updating both.
const shippedEntries = 479_603

func TestDefaultBlocklist(t *testing.T) {
	t.Parallel()
	b := DefaultBlocklist()
	if got := b.Len(); got != shippedEntries {
		t.Errorf("Len() = %d, want %d as recorded in BLOCKLIST_SOURCES.md", got, shippedEntries)
	}
	if DefaultBlocklist() != b {
		t.Error("DefaultBlocklist returned a new list on the second call, want the shared one")
	}
	for i := range b.Len() {
		if n := utf8.RuneCountInString(b.entry(i)); n < minLengthFloor {
			t.Fatalf("entry %d has %d characters, want at least %d (shorter ones can never matter)", i, n, minLengthFloor)
		}
	}
}

func TestBlocklistContains(t *testing.T) {
	t.Parallel()
	b := DefaultBlocklist()
	tests := []struct {
		password string
		want     bool
	}{
		{"password", true},
		{"iloveyou", true},
		{"trustno1", true},
		{"123456789012", true},
		{"password1234", true},
		{"qwertyuiop123", true},
		{"PASSWORD", true},
		{"ILoveYou", true},
		{" password\t", true},
		{"ｐａｓｓｗｏｒｄ", true}, // full-width letters, NFKC-normalised
		{"123456", false},  // on every list, but shorter than any policy allows
		{"plover-quartz-tundra-87", false},
		{"correct horse battery staple", false},
		{"", false},
		{"passwor", false},
		{"password\n", true},
		{"\xff\xfe", false},
		{strings.Repeat("z", 1000), false},
	}
	for _, tt := range tests {
		if got := b.Contains(tt.password); got != tt.want {
			t.Errorf("Contains(%q) = %v, want %v", tt.password, got, tt.want)
		}
	}

	// The first and last entries are found: no off-by-one at the ends.
	for _, i := range []int{0, b.Len() - 1} {
		if e := b.entry(i); !b.Contains(e) {
			t.Errorf("Contains(entry %d = %q) = false, want true", i, e)
		}
	}
}

func TestReadBlocklist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		wantLen int
		wantErr string
	}{
		{"valid", "abc12345\npassword\nqwerty12\n", 3, ""},
		{"empty file", "", 0, ""},
		{"unsorted", "password\nabc12345\n", 0, "not sorted"},
		{"duplicate", "password\npassword\n", 0, "not sorted"},
		{"upper case", "Password\n", 0, "not normalised"},
		{"surrounding space", " password\n", 0, "not normalised"},
		{"not NFKC", "ｐａｓｓｗｏｒｄ\n", 0, "not normalised"},
		{"empty line", "abc12345\n\npassword\n", 0, "empty"},
		{"no final newline", "abc12345\npassword", 0, "missing final newline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := readBlocklist(strings.NewReader(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readBlocklist(%q) error = %v, want one containing %q", tt.data, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readBlocklist(%q): %v", tt.data, err)
			}
			if b.Len() != tt.wantLen {
				t.Errorf("Len() = %d, want %d", b.Len(), tt.wantLen)
			}
			for _, line := range strings.Split(strings.TrimSuffix(tt.data, "\n"), "\n") {
				if line != "" && !b.Contains(line) {
					t.Errorf("Contains(%q) = false, want true", line)
				}
			}
			if b.Contains("zzzzzzzzz") || b.Contains("aaaaaaaaa") {
				t.Error("Contains reports an entry that is not in the list")
			}
		})
	}
}

func TestZeroBlocklist(t *testing.T) {
	t.Parallel()
	var b Blocklist
	if b.Len() != 0 || b.Contains("password") {
		t.Errorf("zero Blocklist: Len() = %d, Contains(password) = %v, want 0, false", b.Len(), b.Contains("password"))
	}
}

// BenchmarkBlocklistContains looks up a mix of listed and unlisted
// passwords in the shipped list.
func BenchmarkBlocklistContains(b *testing.B) {
	list := DefaultBlocklist()
	passwords := []string{"password1234", "Plover-Quartz-Tundra-87", "qwertyuiop123", "correct horse battery staple"}
	i := 0
	for b.Loop() {
		list.Contains(passwords[i%len(passwords)])
		i++
	}
	b.ReportMetric(float64(len(list.data)+4*len(list.starts))/1e6, "MB/list")
}

// BenchmarkLoadBlocklist is the one-off cost DefaultBlocklist pays on first
// use: decompressing and checking the embedded list.
func BenchmarkLoadBlocklist(b *testing.B) {
	for b.Loop() {
		if _, err := LoadBlocklist(); err != nil {
			b.Fatal(err)
		}
	}
}
