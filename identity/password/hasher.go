package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/crypto/argon2"
)

// ErrBusy reports that a hash was refused because the hasher was at its
// concurrency limit and its wait queue was full, or because the caller's
// context ended while it waited. Callers answer it with 429 Too Many
// Requests; it may wrap the context's error, so test for it with errors.Is.
var ErrBusy = errors.New("password: too many password hashes in progress")

// Hasher hashes and verifies passwords with argon2id, running at most a
// fixed number of hashes at once. It is safe for concurrent use; create it
// with NewHasher, as the zero value is not usable.
type Hasher struct {
	params Params

	// Admission control, as two counting semaphores built from buffered
	// channels. A caller first takes a token from admitted, whose capacity is
	// maxConcurrent+queueLen, without waiting: if none is left it gets
	// ErrBusy at once. It then waits, for as long as its context allows, for
	// a token from running, whose capacity is maxConcurrent, and hashes while
	// holding both. So at most maxConcurrent hashes run, at most queueLen
	// callers wait, and everyone else is turned away before using any memory.
	admitted chan struct{}
	running  chan struct{}

	// dummy is a well-formed hash with h's params that no password matches;
	// VerifyDummy verifies against it.
	dummy string

	// key derives the hash. It is argon2id (idKey) except in tests, which swap
	// in fakes that count calls or block, to watch the concurrency limit at
	// work without burning real CPU time.
	key func(password, salt []byte, p Params) []byte
}

// NewHasher returns a Hasher that hashes with p, runs at most maxConcurrent
// hashes at once (0 means runtime.GOMAXPROCS(0), one per usable core) and
// lets at most queueLen further callers wait for a turn (4*maxConcurrent is
// a sensible choice). Callers beyond that get ErrBusy at once, so the memory
// spent on hashing stays near maxConcurrent*p.Memory KiB however many
// sign-ins arrive (a stored hash made with more memory costs its own
// Memory, at most 1 GiB, while it is verified). NewHasher panics if p fails Params.Validate: parameters
// are a programming decision, and configuration should validate them first.
func NewHasher(p Params, maxConcurrent, queueLen int) *Hasher {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	queueLen = max(queueLen, 0)
	return &Hasher{
		params:   p,
		admitted: make(chan struct{}, maxConcurrent+queueLen),
		running:  make(chan struct{}, maxConcurrent),
		dummy:    encodePHC(p, randomBytes(p.SaltLen), randomBytes(p.KeyLen)),
		key:      idKey,
	}
}

// Hash returns the PHC string of password's argon2id hash with a fresh
// random salt, for example
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". It returns ErrBusy when
// the hasher is saturated or ctx ends while waiting for a turn; once started,
// a hash runs to completion (argon2 cannot be interrupted).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()

	salt := randomBytes(h.params.SaltLen)
	return encodePHC(h.params, salt, h.key([]byte(normalize(password)), salt, h.params)), nil
}

// Verify reports whether password matches the stored PHC string encoded.
// When it does, needsRehash reports whether encoded was made with parameters
// other than h's, so the caller should store a fresh Hash while it has the
// plaintext at hand. A stored string that cannot be verified gives an error
// wrapping ErrMalformedHash (checked before any hashing, so a corrupt or
// hostile record cannot make Verify allocate more than the bounds allow);
// a saturated hasher gives ErrBusy. The comparison takes constant time.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	stored, err := decodePHC(encoded)
	if err != nil {
		return false, false, err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()

	key := h.key([]byte(normalize(password)), stored.salt, stored.params)
	if subtle.ConstantTimeCompare(key, stored.key) != 1 {
		return false, false, nil
	}
	return true, stored.params != h.params, nil
}

// VerifyDummy does the work of a Verify that fails, against a hash made with
// h's params, and returns only Verify's ErrBusy. The sign-in flow calls it
// for an email that matches no user, so that an unknown account costs as
// much time (and as much of the concurrency budget) as a wrong password and
// response times do not reveal which emails are registered. Its error
// matters for the same reason: a saturated hasher must answer unknown and
// known users alike with 429.
//
// The dummy hash is made once, in NewHasher, from random bytes rather than
// from a hashed password: verifying against it takes exactly the steps of
// verifying against a real hash (parse, argon2id with the same parameters,
// constant-time compare), and no password can match a random digest, so
// there is nothing to gain from spending an argon2 run on building it.
// Users whose stored hashes still use older parameters cost what those
// parameters cost until their next sign-in rehashes them.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, h.dummy, password)
	return err
}

// acquire waits for a turn to hash and returns the function that gives it
// back. See the comment on Hasher.admitted for the scheme.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBusy, context.Cause(ctx))
	}
	select {
	case h.admitted <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	select {
	case h.running <- struct{}{}:
		return func() {
			<-h.running
			<-h.admitted
		}, nil
	case <-ctx.Done():
		<-h.admitted
		return nil, fmt.Errorf("%w: %w", ErrBusy, context.Cause(ctx))
	}
}

// idKey is argon2id from golang.org/x/crypto, the Go project's own
// implementation, rather than anything hand-written.
func idKey(password, salt []byte, p Params) []byte {
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// randomBytes returns n bytes from the operating system's CSPRNG. Since Go
// 1.24 crypto/rand.Read never returns an error: if the kernel cannot supply
// randomness the program crashes rather than continue with a weak salt.
func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
