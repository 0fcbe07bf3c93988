package token

import (
	"context"
	"testing"
)

// The target (SPEC §5) is under 0.3 ms median for JWT verification plus the
// session check done elsewhere; run with
//
//	go test -run '^$' -bench . -benchmem ./identity/token/

func BenchmarkSignAccess(b *testing.B) {
	env := newTestEnv(b)
	ctx := context.Background()
	claims := sampleAccess()
	for b.Loop() {
		if _, err := env.iss.SignAccess(ctx, claims); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAccess is a full verification: parse, ECDSA signature,
// claims. The verified-token cache is emptied before every call so that
// each one does the whole job, as for a token seen for the first time.
func BenchmarkVerifyAccess(b *testing.B) {
	env := newTestEnv(b)
	ctx := context.Background()
	raw := env.mustSignAccess(b, sampleAccess())
	for b.Loop() {
		env.iss.verified = verifiedCache{}
		if _, err := env.iss.VerifyAccess(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAccessCached is the same token presented again, the usual
// case for a client making several requests with one access token.
func BenchmarkVerifyAccessCached(b *testing.B) {
	env := newTestEnv(b)
	ctx := context.Background()
	raw := env.mustSignAccess(b, sampleAccess())
	for b.Loop() {
		if _, err := env.iss.VerifyAccess(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAccessParallel shows that concurrent requests do not
// contend (mostly cache hits after the first call).
func BenchmarkVerifyAccessParallel(b *testing.B) {
	env := newTestEnv(b)
	ctx := context.Background()
	raw := env.mustSignAccess(b, sampleAccess())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := env.iss.VerifyAccess(ctx, raw); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyUnknownKID is the cost of refusing a token with a made-up
// kid: it must stay far below a real verification, and never reach the store.
func BenchmarkVerifyUnknownKID(b *testing.B) {
	env := newTestEnv(b)
	ctx := context.Background()
	_, private := env.signingKey(b)
	raw := signES256(b, private, map[string]any{"alg": "ES256", "kid": "made-up"}, accessPayloadMap(env.clock.Now()))
	for b.Loop() {
		if _, err := env.iss.VerifyAccess(ctx, raw); err == nil {
			b.Fatal("accepted a made-up kid")
		}
	}
}
