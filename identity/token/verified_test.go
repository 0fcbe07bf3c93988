package token

import (
	"errors"
	"testing"
	"time"
)

// TestVerifiedCacheChangesNothingAccepted: a cached token is refused once it
// expires, altered tokens never hit the cache, and callers cannot corrupt
// the cached claims through the copy they get.
func TestVerifiedCacheChangesNothingAccepted(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := t.Context()
	claims := sampleAccess()
	claims.Groups = []string{"editors"}
	raw := e.mustSignAccess(t, claims)

	first, err := e.iss.VerifyAccess(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	first.Groups[0] = "admins" // a careless caller
	second, err := e.iss.VerifyAccess(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if second.Groups[0] != "editors" {
		t.Errorf("cached groups = %v, want [editors]: a caller's change leaked into the cache", second.Groups)
	}

	// A token differing in one byte of its signature is not the cached one.
	tampered := raw[:len(raw)-2] + flip(raw[len(raw)-2])
	if _, err := e.iss.VerifyAccess(ctx, tampered); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("tampered token: err = %v, want ErrInvalidToken", err)
	}

	// Past exp plus leeway the cached token is refused like any other.
	e.clock.Advance(DefaultTTL + leeway + time.Second)
	if _, err := e.iss.VerifyAccess(ctx, raw); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("expired cached token: err = %v, want ErrInvalidToken", err)
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}
