package storage_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinhole/pinhole/storage"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestSessionPolicyGolden(t *testing.T) {
	t.Parallel()
	got, err := storage.SessionPolicy(testBucket, alice)
	if err != nil {
		t.Fatalf("SessionPolicy() error = %v", err)
	}
	// The golden file is indented for reading; the policy itself is compact
	// because MinIO limits session policies to 2048 bytes.
	var indented bytes.Buffer
	if err := json.Indent(&indented, got, "", "  "); err != nil {
		t.Fatalf("SessionPolicy() returned invalid JSON: %v\n%s", err, got)
	}
	indented.WriteByte('\n')

	golden := filepath.Join("testdata", "session_policy.golden.json")
	if *update {
		if err := os.WriteFile(golden, indented.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run `go test ./storage -run Golden -update` to create it)", err)
	}
	if !bytes.Equal(indented.Bytes(), want) {
		t.Errorf("SessionPolicy(%q, %q) =\n%s\nwant (%s):\n%s", testBucket, alice, indented.Bytes(), golden, want)
	}
}

func TestSessionPolicyIsDeterministicAndSmall(t *testing.T) {
	t.Parallel()
	first, err := storage.SessionPolicy(testBucket, alice)
	if err != nil {
		t.Fatal(err)
	}
	again, err := storage.SessionPolicy(testBucket, alice)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Errorf("two calls gave different policies:\n%s\n%s", first, again)
	}
	// MinIO refuses a session policy above 2048 bytes (as re-marshalled on
	// its side); with the longest legal bucket name we must stay well under.
	long, err := storage.SessionPolicy(strings.Repeat("b", 63), alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(long) > 1500 {
		t.Errorf("policy with a 63-byte bucket is %d bytes, want <= 1500 to leave MinIO's 2048-byte limit room", len(long))
	}
}

// TestSessionPolicyWildcards checks the property that makes the policy
// safe whatever the input: the only wildcards are the ones we put there.
func TestSessionPolicyWildcards(t *testing.T) {
	t.Parallel()
	raw, err := storage.SessionPolicy(testBucket, bob)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Resource  []string
			Condition map[string]map[string][]string
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, st := range doc.Statement {
		patterns = append(patterns, st.Resource...)
		for _, values := range st.Condition {
			for _, v := range values {
				patterns = append(patterns, v...)
			}
		}
	}
	if len(patterns) != 4 {
		t.Fatalf("found %d resource/condition patterns, want 4: %q", len(patterns), patterns)
	}
	for _, p := range patterns {
		body := strings.TrimSuffix(p, "*")
		if strings.ContainsAny(body, "*?$") {
			t.Errorf("pattern %q has a wildcard or variable before its end", p)
		}
		if p != "arn:aws:s3:::"+testBucket && !strings.Contains(p, "users/"+bob+"/") {
			t.Errorf("pattern %q is neither the bucket nor inside users/%s/", p, bob)
		}
	}
}

func TestSessionPolicyRejectsBadSubjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sub  string
	}{
		{"empty", ""},
		{"star", "*"},
		{"question mark", "?"},
		{"star inside uuid", "3f0c2a9e-5b7d-4c1e-8a6f-0d9b2e4c7a1*"},
		{"question mark inside uuid", "3f0c2a9e-5b7d-4c1e-8a6f-0d9b2e4c7a1?"},
		{"parent directory", "../x"},
		{"traversal to another user", "../" + bob},
		{"slash", "3f0c2a9e-5b7d-4c1e-8a6f-0d9b2e4c7/11"},
		{"policy variable", "${aws:username}"},
		{"upper case", strings.ToUpper(alice)},
		{"35 characters", alice[:35]},
		{"37 characters", alice + "0"},
		{"trailing newline", alice + "\n"},
		{"leading space", " " + alice[1:]},
		{"dashes misplaced", "3f0c2a9e5-b7d-4c1e-8a6f-0d9b2e4c7a11"},
		{"36 dashes", strings.Repeat("-", 36)},
		{"braces", "{" + alice + "}"},
		{"urn form", "urn:uuid:" + alice},
		{"quote", `3f0c2a9e-5b7d-4c1e-8a6f-0d9b2e4c7a1"`},
		{"non-hex letter", "3f0c2a9e-5b7d-4c1e-8a6f-0d9b2e4c7a1g"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			policy, err := storage.SessionPolicy(testBucket, tt.sub)
			if !errors.Is(err, storage.ErrInvalidSubject) {
				t.Errorf("SessionPolicy(%q) error = %v, want ErrInvalidSubject", tt.sub, err)
			}
			if policy != nil {
				t.Errorf("SessionPolicy(%q) returned a policy alongside the error: %s", tt.sub, policy)
			}
			prefix, err := storage.UserPrefix(tt.sub)
			if !errors.Is(err, storage.ErrInvalidSubject) || prefix != "" {
				t.Errorf("UserPrefix(%q) = %q, %v; want \"\", ErrInvalidSubject", tt.sub, prefix, err)
			}
		})
	}
}

func TestSessionPolicyRejectsBadBuckets(t *testing.T) {
	t.Parallel()
	for _, bucket := range []string{"", "ph", "Photos", "photos*", "pho?tos", "photos/users", "photos..x", "192.168.1.1", strings.Repeat("b", 64)} {
		policy, err := storage.SessionPolicy(bucket, alice)
		if err == nil {
			t.Errorf("SessionPolicy(%q, alice) = %s, want an error", bucket, policy)
		}
		if errors.Is(err, storage.ErrInvalidSubject) {
			t.Errorf("SessionPolicy(%q, alice) error = %v, want a bucket error, not ErrInvalidSubject", bucket, err)
		}
	}
}

func TestUserPrefix(t *testing.T) {
	t.Parallel()
	got, err := storage.UserPrefix(alice)
	if want := "users/" + alice + "/"; got != want || err != nil {
		t.Errorf("UserPrefix(%q) = %q, %v; want %q, nil", alice, got, err, want)
	}
}

func BenchmarkSessionPolicy(b *testing.B) {
	for b.Loop() {
		if _, err := storage.SessionPolicy(testBucket, alice); err != nil {
			b.Fatal(err)
		}
	}
}
