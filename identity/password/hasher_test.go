package password

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

// cheapParams keep tests that need real argon2 fast; they are within the
// bounds, so Verify treats them like any stored hash.
var cheapParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// newTestHasher returns a hasher whose queue is long enough that parallel
// subtests sharing it never see ErrBusy.
func newTestHasher(p Params) *Hasher {
	return NewHasher(p, 0, 1000)
}

func mustHash(t *testing.T, h *Hasher, password string) string {
	t.Helper()
	encoded, err := h.Hash(t.Context(), password)
	if err != nil {
		t.Fatalf("Hash(%q): %v", password, err)
	}
	return encoded
}

func TestHashFormat(t *testing.T) {
	t.Parallel()
	h := newTestHasher(DefaultParams)
	encoded := mustHash(t, h, "correct horse battery staple")

	const wantPrefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(encoded, wantPrefix) {
		t.Fatalf("Hash = %q, want prefix %q", encoded, wantPrefix)
	}
	got, err := decodePHC(encoded)
	if err != nil {
		t.Fatalf("decodePHC(Hash(...)): %v", err)
	}
	if got.params != DefaultParams {
		t.Errorf("params = %+v, want %+v", got.params, DefaultParams)
	}
	if strings.Contains(encoded, "=$") || strings.HasSuffix(encoded, "=") {
		t.Errorf("Hash = %q, want unpadded base64 as the PHC format says", encoded)
	}
	if again := mustHash(t, h, "correct horse battery staple"); again == encoded {
		t.Errorf("two hashes of the same password are equal (%q): the salt is not random", encoded)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	cheap := newTestHasher(cheapParams)
	strong := newTestHasher(DefaultParams)
	const pw = "correct horse battery staple"
	cheapHash := mustHash(t, cheap, pw)
	strongHash := mustHash(t, strong, pw)

	// 300-character passwords that share their first 256 characters: no
	// truncation anywhere may make one verify as the other.
	long := strings.Repeat("x", 256)
	longA, longB := long+strings.Repeat("a", 44), long+strings.Repeat("b", 44)

	tests := []struct {
		name            string
		h               *Hasher
		encoded         string
		password        string
		wantOK          bool
		wantNeedsRehash bool
	}{
		{"round trip", strong, strongHash, pw, true, false},
		{"wrong password", strong, strongHash, "correct horse battery stapler", false, false},
		{"empty password", strong, strongHash, "", false, false},
		{"case matters", strong, strongHash, strings.ToUpper(pw), false, false},
		{"cheaper stored params need rehash", strong, cheapHash, pw, true, true},
		{"same params need no rehash", cheap, cheapHash, pw, true, false},
		{"no rehash reported for a wrong password", strong, cheapHash, "nope", false, false},
		{"long password round trip", cheap, mustHash(t, cheap, longA), longA, true, false},
		{"no truncation", cheap, mustHash(t, cheap, longA), longB, false, false},
		{"NFKC: decomposed input matches precomposed hash", cheap,
			mustHash(t, cheap, norm.NFC.String("crème brûlée à la carte")), norm.NFD.String("crème brûlée à la carte"), true, false},
		{"NFKC: full-width input matches ASCII hash", cheap,
			mustHash(t, cheap, "password for pinhole"), "ｐａｓｓｗｏｒｄ　ｆｏｒ　ｐｉｎｈｏｌｅ", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, needsRehash, err := tt.h.Verify(t.Context(), tt.encoded, tt.password)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tt.wantOK || needsRehash != tt.wantNeedsRehash {
				t.Errorf("Verify = (ok %v, needsRehash %v), want (%v, %v)", ok, needsRehash, tt.wantOK, tt.wantNeedsRehash)
			}
		})
	}
}

// TestVerifyReferenceVectors checks interoperability with the reference C
// implementation of argon2 (Debian package argon2, version 0~20171227), which
// made each hash with the command in its comment.
func TestVerifyReferenceVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		encoded  string
	}{
		// echo -n "correct horse battery staple" | argon2 "pinhole-salt-16b" -id -t 2 -m 10 -p 1 -l 32 -e
		{"m=1024", "correct horse battery staple",
			"$argon2id$v=19$m=1024,t=2,p=1$cGluaG9sZS1zYWx0LTE2Yg$OfYnIJLuaqf4DdzsJl5XWmwy6ABqjtoFR92qe0zvykE"},
		// echo -n "Ünïcödé pässwörd 🔒" | argon2 "another-salt-xyz" -id -t 3 -k 64 -p 2 -l 16 -e
		// (the shell passed the NFC bytes, which NFKC leaves as they are)
		{"two lanes, 16-byte hash, Unicode", "Ünïcödé pässwörd 🔒",
			"$argon2id$v=19$m=64,t=3,p=2$YW5vdGhlci1zYWx0LXh5eg$0lM5D/X/DMNYvtsdsrLcbg"},
		// echo -n "Tr0ub4dor&3 is not a passphrase" | argon2 "sixteen-byte-slt" -id -t 2 -k 19456 -p 1 -l 32 -e
		{"OWASP parameters", "Tr0ub4dor&3 is not a passphrase",
			"$argon2id$v=19$m=19456,t=2,p=1$c2l4dGVlbi1ieXRlLXNsdA$A6glJZR7ek2Gc9YCWCJtCORiweDT2F3tfVKWfewr+ew"},
	}
	h := newTestHasher(DefaultParams)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, _, err := h.Verify(t.Context(), tt.encoded, tt.password)
			if err != nil || !ok {
				t.Errorf("Verify(reference hash, right password) = (%v, %v), want (true, nil)", ok, err)
			}
			ok, _, err = h.Verify(t.Context(), tt.encoded, tt.password+" ")
			if err != nil || ok {
				t.Errorf("Verify(reference hash, wrong password) = (%v, %v), want (false, nil)", ok, err)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	const (
		salt = "c2l4dGVlbi1ieXRlLXNsdA"                      // 16 bytes
		key  = "A6glJZR7ek2Gc9YCWCJtCORiweDT2F3tfVKWfewr+ew" // 32 bytes
	)
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"not PHC", "hunter2"},
		{"only dollars", "$$$$$"},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"algorithm in upper case", "$ARGON2ID$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"version missing", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key},
		{"hash missing", "$argon2id$v=19$m=19456,t=2,p=1$" + salt},
		{"hash empty", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$"},
		{"salt empty", "$argon2id$v=19$m=19456,t=2,p=1$$" + key},
		{"extra field", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$"},
		{"no leading dollar", "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"params reordered", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key},
		{"param missing", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key},
		{"param extra", "$argon2id$v=19$m=19456,t=2,p=1,keyid=x$" + salt + "$" + key},
		{"param not a number", "$argon2id$v=19$m=lots,t=2,p=1$" + salt + "$" + key},
		{"negative param", "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key},
		{"signed param", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key},
		{"huge memory", "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key},
		{"memory just above 1 GiB", "$argon2id$v=19$m=1048577,t=2,p=1$" + salt + "$" + key},
		{"memory beyond uint32", "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key},
		{"memory below 8 KiB per lane", "$argon2id$v=19$m=8,t=2,p=2$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{"huge time", "$argon2id$v=19$m=19456,t=4294967295,p=1$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key},
		{"threads beyond uint8", "$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key},
		{"too many threads", "$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=19456,t=2,p=1$!!!!$" + key},
		{"hash not base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$*" + key[1:]},
		{"padded base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{"URL-safe base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.ReplaceAll(key, "+", "-")},
		{"newline inside base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:8] + "\n" + salt[8:] + "$" + key},
		{"non-canonical trailing bits", "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:len(salt)-1] + "B$" + key},
		{"salt too short", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key},
		{"hash too short", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$AAAAAAAAAAA"},
		{"absurdly long", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 10000) + "$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHasher(DefaultParams)
			h.key = func([]byte, []byte, Params) []byte {
				t.Error("Verify hashed a malformed stored string, want it refused before hashing")
				return nil
			}
			ok, needsRehash, err := h.Verify(t.Context(), tt.encoded, "password")
			if !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify(%q) error = %v, want ErrMalformedHash", tt.encoded, err)
			}
			if ok || needsRehash {
				t.Errorf("Verify(%q) = (%v, %v), want (false, false)", tt.encoded, ok, needsRehash)
			}
		})
	}
}

// FuzzDecodePHC checks that no stored string makes the parser panic, and
// that whatever it accepts is within bounds and encodes back to itself.
func FuzzDecodePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2l4dGVlbi1ieXRlLXNsdA$A6glJZR7ek2Gc9YCWCJtCORiweDT2F3tfVKWfewr+ew")
	f.Add("$argon2id$v=19$m=64,t=3,p=2$YW5vdGhlci1zYWx0LXh5eg$0lM5D/X/DMNYvtsdsrLcbg")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Fuzz(func(t *testing.T, encoded string) {
		got, err := decodePHC(encoded)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("decodePHC error %v does not wrap ErrMalformedHash", err)
			}
			return
		}
		if err := got.params.Validate(); err != nil {
			t.Fatalf("decodePHC accepted out-of-bounds params: %v", err)
		}
		if again := encodePHC(got.params, got.salt, got.key); again != encoded {
			t.Fatalf("encodePHC(decodePHC(%q)) = %q, want the input back", encoded, again)
		}
	})
}

func TestParamsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		p       Params
		wantErr bool
	}{
		{"default", DefaultParams, false},
		{"cheap test params", cheapParams, false},
		{"zero", Params{}, true},
		{"zero time", Params{Memory: 19456, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"over 1 GiB", Params{Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"short salt", Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 4, KeyLen: 32}, true},
		{"short key", Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 8}, true},
		{"RFC 9106 second recommendation", Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.p.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate(%+v) = %v, want error: %v", tt.p, err, tt.wantErr)
			}
		})
	}
}

func TestNewHasherDefaults(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheapParams, 0, -1)
	if got, want := cap(h.running), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("NewHasher(p, 0, -1) runs %d hashes at once, want GOMAXPROCS = %d", got, want)
	}
	if got, want := cap(h.admitted), cap(h.running); got != want {
		t.Errorf("NewHasher(p, 0, -1) admits %d callers, want %d (no queue)", got, want)
	}

	defer func() {
		if recover() == nil {
			t.Error("NewHasher(Params{}, ...) did not panic, want a panic for invalid params")
		}
	}()
	NewHasher(Params{}, 1, 0)
}

// fakeKey stands in for argon2id in tests: it records how it was called and,
// when gate is non-nil, blocks until gate is closed, so a test can hold
// hashes "in flight" for as long as it likes.
type fakeKey struct {
	gate    chan struct{}
	open    sync.Once
	entered chan struct{} // receives once per call, when it starts

	inFlight, maxInFlight atomic.Int32

	mu     sync.Mutex
	params []Params // of every call, in order
}

// newFakeKey returns a fake whose calls block until release when blocking
// is set; t's cleanup releases them in any case, so a failing test leaves
// no goroutine behind.
func newFakeKey(t *testing.T, blocking bool) *fakeKey {
	f := &fakeKey{entered: make(chan struct{}, 100)}
	if blocking {
		f.gate = make(chan struct{})
	}
	t.Cleanup(f.release)
	return f
}

// release lets every blocked and future call return.
func (f *fakeKey) release() {
	f.open.Do(func() {
		if f.gate != nil {
			close(f.gate)
		}
	})
}

func (f *fakeKey) key(password, salt []byte, p Params) []byte {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.params = append(f.params, p)
	f.mu.Unlock()
	f.entered <- struct{}{}
	if f.gate != nil {
		<-f.gate
	}
	return make([]byte, p.KeyLen)
}

// waitEntered waits until n more calls have started, failing the test
// instead of hanging if they never do.
func (f *fakeKey) waitEntered(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-f.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("timed out waiting for a hash to start")
		}
	}
}

func (f *fakeKey) calls() []Params {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Params(nil), f.params...)
}

// waitFor polls cond until it holds. It guards against the test hanging on
// a bug, not against slowness: the deadline is far beyond any normal run.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// within runs f and fails the test if it has not returned after a generous
// deadline, which would mean it blocked instead of returning at once.
func within[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s blocked, want it to return at once", what)
		panic("unreachable")
	}
}

// hasherOps are the three entry points that share the concurrency limit.
var hasherOps = []struct {
	name string
	do   func(ctx context.Context, h *Hasher, storedHash string) error
}{
	{"Hash", func(ctx context.Context, h *Hasher, _ string) error {
		_, err := h.Hash(ctx, "correct horse battery staple")
		return err
	}},
	{"Verify", func(ctx context.Context, h *Hasher, storedHash string) error {
		_, _, err := h.Verify(ctx, storedHash, "correct horse battery staple")
		return err
	}},
	{"VerifyDummy", func(ctx context.Context, h *Hasher, _ string) error {
		return h.VerifyDummy(ctx, "correct horse battery staple")
	}},
}

func TestHasherConcurrencyLimit(t *testing.T) {
	t.Parallel()
	storedHash := mustHash(t, newTestHasher(cheapParams), "correct horse battery staple")
	limits := []struct{ maxConcurrent, queueLen int }{{1, 0}, {2, 3}, {3, 1}}
	for _, op := range hasherOps {
		for _, lim := range limits {
			t.Run(fmt.Sprintf("%s/max=%d,queue=%d", op.name, lim.maxConcurrent, lim.queueLen), func(t *testing.T) {
				t.Parallel()
				h := NewHasher(cheapParams, lim.maxConcurrent, lim.queueLen)
				fake := newFakeKey(t, true)
				h.key = fake.key

				// Fill every slot and every queue place.
				admitted := lim.maxConcurrent + lim.queueLen
				results := make(chan error, admitted)
				for range admitted {
					go func() { results <- op.do(t.Context(), h, storedHash) }()
				}
				fake.waitEntered(t, lim.maxConcurrent)
				waitFor(t, "every caller is running or queued", func() bool { return len(h.admitted) == admitted })

				// One more caller is turned away at once, without hashing.
				err := within(t, "a caller beyond the queue", func() error { return op.do(t.Context(), h, storedHash) })
				if !errors.Is(err, ErrBusy) {
					t.Errorf("caller beyond cap+queue: error = %v, want ErrBusy", err)
				}

				fake.release()
				for range admitted {
					if err := <-results; err != nil {
						t.Errorf("admitted caller: error = %v, want nil", err)
					}
				}
				if got := fake.maxInFlight.Load(); got != int32(lim.maxConcurrent) {
					t.Errorf("at most %d hashes ran at once, want exactly maxConcurrent = %d", got, lim.maxConcurrent)
				}
				if got := len(fake.calls()); got != admitted {
					t.Errorf("%d hashes ran, want %d (every admitted caller, not the refused one)", got, admitted)
				}
				if len(h.admitted) != 0 || len(h.running) != 0 {
					t.Errorf("after all callers returned: %d admitted, %d running, want 0, 0", len(h.admitted), len(h.running))
				}
			})
		}
	}
}

func TestHasherContextEndsWhileQueued(t *testing.T) {
	t.Parallel()
	for _, op := range hasherOps {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			storedHash := mustHash(t, newTestHasher(cheapParams), "correct horse battery staple")
			h := NewHasher(cheapParams, 1, 1)
			fake := newFakeKey(t, true)
			h.key = fake.key

			// Occupy the only slot.
			first := make(chan error, 1)
			go func() { first <- op.do(t.Context(), h, storedHash) }()
			fake.waitEntered(t, 1)

			// Queue a caller, then cancel its context.
			ctx, cancel := context.WithCancel(t.Context())
			queued := make(chan error, 1)
			go func() { queued <- op.do(ctx, h, storedHash) }()
			waitFor(t, "the second caller is queued", func() bool { return len(h.admitted) == 2 })
			cancel()

			err := within(t, "a queued caller whose context ended", func() error { return <-queued })
			if !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
				t.Errorf("queued caller after cancel: error = %v, want ErrBusy wrapping context.Canceled", err)
			}
			if got := len(h.admitted); got != 1 {
				t.Errorf("after the queued caller left: %d admitted, want 1 (its queue place freed)", got)
			}

			// A context that has already ended never hashes, even with a free slot.
			fake.release()
			if err := <-first; err != nil {
				t.Errorf("first caller: error = %v, want nil", err)
			}
			if err := op.do(ctx, h, storedHash); !errors.Is(err, ErrBusy) {
				t.Errorf("caller with an ended context: error = %v, want ErrBusy", err)
			}
			if got := len(fake.calls()); got != 1 {
				t.Errorf("%d hashes ran, want 1 (only the first caller)", got)
			}
		})
	}
}

// TestVerifyDummyDoesRealWork checks that VerifyDummy goes through the same
// argon2id call as a Verify of a real hash with h's params. Timing itself is
// measured by the sign-in benchmarks, never asserted in tests.
func TestVerifyDummyDoesRealWork(t *testing.T) {
	t.Parallel()
	h := newTestHasher(DefaultParams)
	realHash := mustHash(t, h, "correct horse battery staple")
	fake := newFakeKey(t, false)
	h.key = fake.key

	if _, _, err := h.Verify(t.Context(), realHash, "wrong password"); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for _, pw := range []string{"wrong password", "correct horse battery staple", ""} {
		if err := h.VerifyDummy(t.Context(), pw); err != nil {
			t.Fatalf("VerifyDummy(%q): %v", pw, err)
		}
	}

	calls := fake.calls()
	if len(calls) != 4 {
		t.Fatalf("argon2id ran %d times, want 4 (one Verify, three VerifyDummy)", len(calls))
	}
	for i, p := range calls {
		if p != DefaultParams {
			t.Errorf("call %d used params %+v, want the hasher's %+v", i, p, DefaultParams)
		}
	}
}

// TestVerifyDummyNeverMatches runs the real argon2id: the dummy hash is a
// random digest that no password, not even an empty one, matches.
func TestVerifyDummyNeverMatches(t *testing.T) {
	t.Parallel()
	h := newTestHasher(cheapParams)
	for _, pw := range []string{"", "password", "correct horse battery staple"} {
		ok, _, err := h.Verify(t.Context(), h.dummy, pw)
		if err != nil || ok {
			t.Errorf("Verify(dummy, %q) = (%v, %v), want (false, nil)", pw, ok, err)
		}
	}
	if other := newTestHasher(cheapParams); other.dummy == h.dummy {
		t.Error("two hashers share a dummy hash, want a random one each")
	}
}

// BenchmarkHash measures Hash with DefaultParams on GOMAXPROCS goroutines
// and a hasher allowing GOMAXPROCS hashes at once: the pure argon2id bound
// that sign-in throughput is compared against. hashes/s is the figure to
// read.
func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, runtime.GOMAXPROCS(0), 4*runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkVerify is BenchmarkHash for Verify, the operation sign-in runs.
func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams, runtime.GOMAXPROCS(0), 4*runtime.GOMAXPROCS(0))
	encoded, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, _, err := h.Verify(context.Background(), encoded, "correct horse battery staple"); !ok || err != nil {
				b.Errorf("Verify = (%v, %v), want (true, nil)", ok, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

// BenchmarkIDKey calls argon2.IDKey directly, without Hasher, PHC encoding
// or normalisation, to show what those add to BenchmarkHash (nothing
// measurable).
func BenchmarkIDKey(b *testing.B) {
	p := DefaultParams
	salt := randomBytes(p.SaltLen)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			idKey([]byte("correct horse battery staple"), salt, p)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}
