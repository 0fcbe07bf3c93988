package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash reports a stored hash that is not an argon2id PHC string
// this package can verify: another algorithm, another argon2 version, a
// missing or garbled field, or parameters outside the sane bounds (which
// could otherwise make a single verification allocate gigabytes). It points
// at corrupt data, not at a wrong password, so callers treat it as an
// internal error.
var ErrMalformedHash = errors.New("password: malformed password hash")

// Bounds on argon2id parameters, for our own and for stored hashes alike.
// Argon2 itself accepts far larger values; these keep one verification of a
// corrupt or hostile stored hash from exhausting the server.
const (
	maxMemory  = 1 << 20 // KiB, that is 1 GiB
	maxTime    = 32      // passes; OWASP's and RFC 9106's settings use 1 to 5
	maxThreads = 16      // lanes; each pass runs one goroutine per lane
	minSaltLen = 8       // bytes; the PHC format's minimum (16 recommended)
	maxSaltLen = 64      // bytes
	minKeyLen  = 16      // bytes; shorter digests would make collisions plausible
	maxKeyLen  = 64      // bytes

	// maxEncodedLen bounds the stored strings we parse at all. A hash at the
	// largest bounds above is about 200 bytes.
	maxEncodedLen = 256
)

// Params are argon2id's cost parameters. Every hash records the ones it was
// made with, so changing them affects only new hashes; [Hasher.Verify]
// reports needsRehash for the old ones.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism (argon2's lanes).
	Threads uint8
	// SaltLen is the length in bytes of the random salt made for each hash.
	SaltLen uint32
	// KeyLen is the length in bytes of the derived hash.
	KeyLen uint32
}

// DefaultParams are the OWASP Password Storage Cheat Sheet's recommended
// minimum for argon2id: 19 MiB of memory, 2 passes, 1 lane, with a 16-byte
// salt and a 32-byte hash.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Validate reports whether p is within the bounds this package hashes and
// verifies with; call it on parameters read from configuration.
func (p Params) Validate() error {
	if problem := p.problem(); problem != "" {
		return errors.New("password: invalid argon2id parameters: " + problem)
	}
	return nil
}

// problem describes the first parameter out of bounds, or returns "".
func (p Params) problem() string {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Sprintf("threads %d outside [1, %d]", p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		// Argon2 needs at least 8 KiB per lane (RFC 9106 §3.1).
		return fmt.Sprintf("memory %d KiB outside [%d, %d]", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Sprintf("time %d outside [1, %d]", p.Time, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Sprintf("salt length %d outside [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Sprintf("key length %d outside [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return ""
}

// phcHash is a parsed PHC string. Its params carry the salt and key lengths
// found in the string, so comparing them with a Hasher's params also notices
// a change of SaltLen or KeyLen.
type phcHash struct {
	params Params
	salt   []byte
	key    []byte
}

// b64 is the PHC format's base64: the standard alphabet without padding.
var b64 = base64.RawStdEncoding

// encodePHC formats a hash as
// $argon2id$v=19$m=<memory>,t=<time>,p=<threads>$<salt>$<key>.
func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC parses what encodePHC writes, and the identical strings written
// by the reference implementation and by other libraries. It is strict: it
// accepts only the canonical form of each field, so that a stored hash has
// exactly one spelling, and it checks the parameters before anything sizes
// an allocation by them. Errors wrap ErrMalformedHash and never quote the
// salt or the hash.
func decodePHC(encoded string) (phcHash, error) {
	if len(encoded) > maxEncodedLen {
		return phcHash{}, malformed("longer than %d bytes", maxEncodedLen)
	}
	// "$argon2id$v=19$m=19456,t=2,p=1$salt$key" splits into
	// "", "argon2id", "v=19", "m=19456,t=2,p=1", "salt", "key".
	fields := strings.Split(encoded, "$")
	if len(fields) != 6 || fields[0] != "" {
		return phcHash{}, malformed("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if fields[1] != "argon2id" {
		return phcHash{}, malformed("algorithm %q, want argon2id", fields[1])
	}
	if want := fmt.Sprintf("v=%d", argon2.Version); fields[2] != want {
		return phcHash{}, malformed("version %q, want %q", fields[2], want)
	}

	var p Params
	m, t, threads, err := parseCosts(fields[3])
	if err != nil {
		return phcHash{}, malformed("%v", err)
	}
	p.Memory, p.Time, p.Threads = m, t, threads

	salt, err := decodeB64(fields[4])
	if err != nil {
		return phcHash{}, malformed("salt: %v", err)
	}
	key, err := decodeB64(fields[5])
	if err != nil {
		return phcHash{}, malformed("hash: %v", err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))

	if problem := p.problem(); problem != "" {
		return phcHash{}, malformed("%s", problem)
	}
	return phcHash{params: p, salt: salt, key: key}, nil
}

// parseCosts parses "m=<memory>,t=<time>,p=<threads>", in that order, the
// only order the PHC format allows.
func parseCosts(s string) (memory, time uint32, threads uint8, err error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("parameters %q, want m=…,t=…,p=…", s)
	}
	m, err := parseDecimal(parts[0], "m", 32)
	if err != nil {
		return 0, 0, 0, err
	}
	t, err := parseDecimal(parts[1], "t", 32)
	if err != nil {
		return 0, 0, 0, err
	}
	p, err := parseDecimal(parts[2], "p", 8)
	if err != nil {
		return 0, 0, 0, err
	}
	return uint32(m), uint32(t), uint8(p), nil
}

// parseDecimal parses "<name>=<n>" where n is a canonical decimal (no sign,
// no leading zeros) that fits in bits.
func parseDecimal(field, name string, bits int) (uint64, error) {
	digits, ok := strings.CutPrefix(field, name+"=")
	if !ok {
		return 0, fmt.Errorf("parameter %q, want %s=…", field, name)
	}
	n, err := strconv.ParseUint(digits, 10, bits)
	if err != nil || strconv.FormatUint(n, 10) != digits {
		return 0, fmt.Errorf("parameter %s=%q is not a decimal below 2^%d", name, digits, bits)
	}
	return n, nil
}

// decodeB64 decodes unpadded standard base64 and insists on the canonical
// encoding: Go's decoder skips '\r' and '\n' and tolerates non-zero trailing
// bits, so it checks that encoding the result gives back the input.
func decodeB64(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil || b64.EncodeToString(b) != s {
		return nil, errors.New("not canonical unpadded base64")
	}
	return b, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
}
