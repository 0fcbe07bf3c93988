package token

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken is wrapped by every verification failure; the rest of the
// message says why, for the logs, and is not meant for the caller's user.
var ErrInvalidToken = errors.New("token: invalid token")

// DefaultTTL is the lifetime of ID and access tokens when Config leaves it zero.
const DefaultTTL = 15 * time.Minute

// MinTTL is the shortest token lifetime New accepts.
const MinTTL = 5 * time.Minute

// MaxTTL is the longest token lifetime New accepts.
const MaxTTL = 24 * time.Hour

const (
	// leeway absorbs clock skew between the replica that signed a token and
	// the one that checks it: exp, nbf and iat may be off by this much.
	leeway = 30 * time.Second

	// maxTokenSize is the longest token accepted, or signed. Pinhole's tokens
	// are well under 2 KiB; anything far longer is an attack or a bug, and is
	// refused before it costs any decoding.
	maxTokenSize = 8 << 10

	// keyCacheTTL is how long an Issuer trusts its cached keys before it reads
	// the store again, so that rotations made by other replicas reach it.
	keyCacheTTL = time.Minute

	// unknownKIDReloadInterval is how often, at most, a token naming a key we
	// do not know makes the Issuer read the store: often enough to pick up a
	// key another replica just created, rarely enough that a flood of made-up
	// kids cannot turn into a flood of database queries.
	unknownKIDReloadInterval = 5 * time.Second
)

// Config is what an Issuer needs to know about the pool and its app client.
// Every replica must use the same values: the longest lifetime also decides
// how long a retired key is kept.
type Config struct {
	Issuer    string           // iss of every token: the public base URL (PINHOLE_BASE_URL), e.g. http://localhost:8080
	ClientID  string           // the app client, e.g. "pinhole-web": aud of ID tokens, client_id of access tokens
	AccessTTL time.Duration    // access token lifetime; zero means DefaultTTL, otherwise MinTTL to MaxTTL
	IDTTL     time.Duration    // ID token lifetime; zero means DefaultTTL, otherwise MinTTL to MaxTTL
	Now       func() time.Time // the clock; nil means time.Now (tests pass a fake one)
	Rand      io.Reader        // randomness for key ids and jti; nil means crypto/rand.Reader; must be safe for concurrent use
}

// withDefaults returns c with its zero values replaced by the defaults.
func (c Config) withDefaults() Config {
	if c.AccessTTL == 0 {
		c.AccessTTL = DefaultTTL
	}
	if c.IDTTL == 0 {
		c.IDTTL = DefaultTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return c
}

// validate reports every problem with c (after withDefaults) at once.
func (c Config) validate() error {
	var errs []error
	if err := validateIssuer(c.Issuer); err != nil {
		errs = append(errs, err)
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("client id is empty"))
	}
	for _, ttl := range []struct {
		name  string
		value time.Duration
	}{{"access token lifetime", c.AccessTTL}, {"ID token lifetime", c.IDTTL}} {
		if ttl.value < MinTTL || ttl.value > MaxTTL {
			errs = append(errs, fmt.Errorf("%s %v is outside %v to %v", ttl.name, ttl.value, MinTTL, MaxTTL))
		}
	}
	return errors.Join(errs...)
}

// validateIssuer checks the issuer is what OpenID Connect Discovery asks for:
// an absolute http(s) URL without query or fragment. Clients compare it byte
// for byte with the iss claim, so it is used exactly as given.
func validateIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	switch {
	case issuer == "":
		return errors.New("issuer is empty")
	case err != nil:
		return fmt.Errorf("issuer: %w", err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("issuer %q is not an absolute http(s) URL", issuer)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("issuer %q has a query, fragment or user info", issuer)
	}
	return nil
}

// Issuer signs and verifies the user pool's ID and access tokens, and
// publishes its public keys as a JWKS. It is safe for concurrent use; make one
// per process and share it.
type Issuer struct {
	store KeyStore
	cfg   Config

	// retiredKeyLifetime is how long a retired key stays published and
	// accepted: long enough for every token it can have signed to expire.
	retiredKeyLifetime time.Duration

	// One parser per kind of token: ID tokens must name the client in aud,
	// access tokens in client_id, which VerifyAccess checks itself.
	accessParser *jwt.Parser
	idParser     *jwt.Parser

	// loadMu lets one goroutine at a time read the store; the others wait and
	// then use what it read. It also guards loadErr.
	loadMu  sync.Mutex
	loadErr error // why the last read of the store failed, or nil

	// mu guards the two fields below. Verification only takes the read lock.
	mu        sync.RWMutex
	keys      *keySet   // the store's keys, parsed; nil until the first load succeeds
	checkedAt time.Time // when the store was last read, or tried

	// verified remembers access tokens that already passed VerifyAccess.
	verified verifiedCache
}

// New returns an Issuer for the keys in store. It does not touch the store:
// call EnsureKey once at start-up before signing.
func New(store KeyStore, cfg Config) (*Issuer, error) {
	if store == nil {
		return nil, errors.New("token: new issuer: key store is nil")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("token: new issuer: %w", err)
	}

	// Options both parsers share. WithValidMethods is the algorithm
	// allow-list: it refuses "none" and HS256 before any key is looked at.
	common := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	}
	return &Issuer{
		store:              store,
		cfg:                cfg,
		retiredKeyLifetime: max(cfg.AccessTTL, cfg.IDTTL) + leeway + keyCacheTTL,
		accessParser:       jwt.NewParser(common...),
		idParser:           jwt.NewParser(append(common, jwt.WithAudience(cfg.ClientID))...),
	}, nil
}

// AccessTTL returns the lifetime of the access tokens this Issuer signs: the
// expires_in of a sign-in or refresh response.
func (i *Issuer) AccessTTL() time.Duration { return i.cfg.AccessTTL }

// randomID returns 16 random bytes, base64url-encoded: 128 bits, enough that
// key ids and token ids never collide.
func (i *Issuer) randomID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(i.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("token: random id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
