package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
	"golang.org/x/sync/singleflight"
)

// Lifetimes of vended credentials. STS refuses less than 15 minutes; 12
// hours is AWS's ceiling for AssumeRole and a sane one for a browser tab.
const (
	DefaultCredentialDuration = time.Hour
	MinCredentialDuration     = 15 * time.Minute
	MaxCredentialDuration     = 12 * time.Hour
)

const (
	// defaultSTSTimeout bounds one AssumeRole call, so "MinIO hangs" turns
	// into ErrUnavailable (a 503) instead of a stuck request.
	defaultSTSTimeout = 5 * time.Second
	// reuseFraction is how much of a credential's lifetime may pass before
	// a vend asks STS again; the rest is the browser's margin to use it.
	reuseFraction = 0.8
	// maxCachedSessions bounds the cache: about 10,000 sessions * ~1.5 KB.
	maxCachedSessions = 10_000
)

// BrokerConfig configures a Broker.
type BrokerConfig struct {
	// Endpoint is MinIO as the app reaches it (MINIO_ENDPOINT); the STS
	// call goes there.
	Endpoint *url.URL
	// PublicURL is MinIO as browsers reach it (MINIO_PUBLIC_URL). It is
	// what Credentials.Endpoint says, because the browser signs its
	// requests for that host. Nil means Endpoint.
	PublicURL *url.URL
	// AccessKey and SecretKey are the broker's own MinIO identity. Vended
	// credentials can never do more than it can (see the package doc).
	AccessKey, SecretKey string
	// Bucket is the photo bucket; Region is used for signing and handed to
	// the browser (empty means us-east-1, MinIO's default).
	Bucket, Region string
	// Duration is how long vended credentials live: zero means
	// DefaultCredentialDuration; it must lie between MinCredentialDuration
	// and MaxCredentialDuration. MinIO's MINIO_STS_DURATION, when set,
	// overrides it on the server side; the broker then trusts the
	// expiration MinIO reports.
	Duration time.Duration
	// Timeout bounds one STS call; zero means 5 seconds.
	Timeout time.Duration
	// Now is the clock for cache freshness; nil means time.Now. Tests pass a
	// fake clock to cross the refresh point without sleeping.
	Now func() time.Time
}

// Credentials are temporary MinIO credentials for one user, in the shape
// POST /api/credentials returns (SPEC §3). They reach only Bucket/Prefix.
type Credentials struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token"`
	Expiration      time.Time `json:"expiration"`
	// Endpoint is MinIO's public URL, the host the browser must sign for.
	Endpoint string `json:"endpoint"`
	Region   string `json:"region"`
	Bucket   string `json:"bucket"`
	// Prefix is "users/<sub>/", the only folder the credentials reach.
	Prefix string `json:"prefix"`
}

// Broker is the identity pool's credential broker: it exchanges a verified
// user id for temporary credentials from MinIO STS AssumeRole, confined by
// SessionPolicy, and caches them per session. It is safe for concurrent use.
type Broker struct {
	stsEndpoint          string
	publicURL            string
	accessKey, secretKey string
	bucket, region       string
	duration, timeout    time.Duration
	now                  func() time.Time

	cache    *credCache
	flights  singleflight.Group
	stsCalls atomic.Int64
}

// NewBroker checks cfg and builds a Broker. It does not contact MinIO.
func NewBroker(cfg BrokerConfig) (*Broker, error) {
	if err := checkEndpoint("endpoint", cfg.Endpoint); err != nil {
		return nil, err
	}
	if cfg.PublicURL == nil {
		cfg.PublicURL = cfg.Endpoint
	}
	if err := checkEndpoint("public URL", cfg.PublicURL); err != nil {
		return nil, err
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("storage: broker: access key and secret key are required")
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("storage: broker: bucket %q: %w", cfg.Bucket, err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultCredentialDuration
	}
	if cfg.Duration < MinCredentialDuration || cfg.Duration > MaxCredentialDuration {
		return nil, fmt.Errorf("storage: broker: duration %s is outside [%s, %s]", cfg.Duration, MinCredentialDuration, MaxCredentialDuration)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultSTSTimeout
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("storage: broker: negative timeout %s", cfg.Timeout)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Broker{
		stsEndpoint: originOf(cfg.Endpoint),
		publicURL:   originOf(cfg.PublicURL),
		accessKey:   cfg.AccessKey,
		secretKey:   cfg.SecretKey,
		bucket:      cfg.Bucket,
		region:      cfg.Region,
		duration:    cfg.Duration,
		timeout:     cfg.Timeout,
		now:         cfg.Now,
		cache:       newCredCache(maxCachedSessions),
	}, nil
}

// Vend returns temporary credentials that reach only users/<sub>/. sub must
// come from a verified token, never from the request; anything but a
// canonical UUID fails with ErrInvalidSubject before STS or the cache see it.
//
// Credentials are cached under cacheKey (pass the session id) and returned
// again until about 80% of their lifetime has passed, so a session costs
// one STS call per 0.8 × Duration (more only after Forget, or when a full
// cache evicted it). Concurrent vends for the same key and sub share one
// STS call. If MinIO does not answer, answers 5xx, or
// takes longer than the configured timeout, the error wraps ErrUnavailable.
func (b *Broker) Vend(ctx context.Context, sub, cacheKey string) (Credentials, error) {
	prefix, err := UserPrefix(sub)
	if err != nil {
		return Credentials{}, err
	}
	if cacheKey == "" {
		return Credentials{}, errors.New("storage: vend: empty cache key")
	}
	if creds, ok := b.cache.get(cacheKey, sub, b.now()); ok {
		return creds, nil
	}

	// The flight key holds sub as well, so two users can never share a
	// result even if a caller passes them the same cacheKey. The flight
	// runs on a context that a departing caller cannot cancel, so one
	// closed browser tab does not fail every request waiting on it; the
	// STS timeout still bounds it.
	flightCtx := context.WithoutCancel(ctx)
	ch := b.flights.DoChan(sub+"\x00"+cacheKey, func() (any, error) {
		return b.vendAndCache(flightCtx, sub, prefix, cacheKey)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return Credentials{}, res.Err
		}
		return res.Val.(Credentials), nil
	case <-ctx.Done():
		return Credentials{}, fmt.Errorf("storage: vend: %w", ctx.Err())
	}
}

// vendAndCache runs inside a flight: it asks STS and keeps the answer.
func (b *Broker) vendAndCache(ctx context.Context, sub, prefix, cacheKey string) (Credentials, error) {
	// A flight that finished just before this one started may already have
	// filled the cache.
	if creds, ok := b.cache.get(cacheKey, sub, b.now()); ok {
		return creds, nil
	}
	gen := b.cache.generation()
	issued := b.now()
	creds, err := b.assumeRole(ctx, sub, prefix)
	if err != nil {
		return Credentials{}, err
	}
	// Reuse for a fraction of the lifetime measured on our own clock from
	// before the call, so neither a slow call nor a server that shortened
	// the lifetime (MINIO_STS_DURATION) stretches the reuse window.
	lifetime := min(b.duration, creds.Expiration.Sub(issued))
	if lifetime > 0 {
		refreshAt := issued.Add(time.Duration(float64(lifetime) * reuseFraction))
		b.cache.put(cacheKey, cacheEntry{sub: sub, creds: creds, refreshAt: refreshAt}, gen, b.now())
	}
	return creds, nil
}

// assumeRole makes one STS AssumeRole call with the broker's identity and
// sub's session policy. minio-go builds and signs the request (SigV4 is
// exactly the kind of code not to write by hand).
func (b *Broker) assumeRole(ctx context.Context, sub, prefix string) (Credentials, error) {
	policy, err := SessionPolicy(b.bucket, sub)
	if err != nil {
		return Credentials{}, err
	}
	sts, err := credentials.NewSTSAssumeRole(b.stsEndpoint, credentials.STSAssumeRoleOptions{
		AccessKey:       b.accessKey,
		SecretKey:       b.secretKey,
		Policy:          string(policy),
		DurationSeconds: int(b.duration / time.Second),
		Location:        b.region,
	})
	if err != nil {
		return Credentials{}, fmt.Errorf("storage: assume role: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	status := &statusRecorder{next: http.DefaultTransport}
	b.stsCalls.Add(1)
	v, err := sts.GetWithContext(&credentials.CredContext{
		Client:  &http.Client{Transport: status},
		Context: ctx,
	})
	if err != nil {
		if status.code == 0 || status.code >= 500 || stsStarting(err) {
			return Credentials{}, fmt.Errorf("%w: STS AssumeRole at %s: %w", ErrUnavailable, b.stsEndpoint, err)
		}
		// A 4xx means MinIO answered and said no: wrong broker keys, a
		// disabled broker user, a policy MinIO cannot parse. That is an
		// operator's problem, not an outage, so it is not ErrUnavailable.
		return Credentials{}, fmt.Errorf("storage: STS AssumeRole at %s: HTTP %d: %w", b.stsEndpoint, status.code, err)
	}
	if v.AccessKeyID == "" || v.SecretAccessKey == "" || v.SessionToken == "" || v.Expiration.IsZero() {
		return Credentials{}, fmt.Errorf("storage: STS AssumeRole at %s: response without complete credentials", b.stsEndpoint)
	}
	return Credentials{
		AccessKeyID:     v.AccessKeyID,
		SecretAccessKey: v.SecretAccessKey,
		SessionToken:    v.SessionToken,
		Expiration:      v.Expiration,
		Endpoint:        b.publicURL,
		Region:          b.region,
		Bucket:          b.bucket,
		Prefix:          prefix,
	}, nil
}

// stsStarting reports MinIO's answer while it is still loading its IAM
// state after a (re)start. It comes as HTTP 400, but it means "try again in
// a moment", so callers should see an outage (503), not a refusal.
func stsStarting(err error) bool {
	var resp credentials.ErrorResponse
	if !errors.As(err, &resp) {
		return false
	}
	switch resp.STSError.Code {
	case "STSNotInitialized", "STSIAMNotInitialized", "XMinioServerNotInitialized":
		return true
	}
	return false
}

// Forget drops the credentials cached under cacheKey, for a session that
// was signed out or revoked, so its next vend (if any) goes to STS. It
// cannot recall credentials already handed out: they stay valid until their
// Expiration, which is one reason to keep Duration short.
func (b *Broker) Forget(cacheKey string) { b.cache.forget(cacheKey) }

// STSCalls reports how many AssumeRole requests the broker has sent,
// successful or not, for tests and benchmark reports.
func (b *Broker) STSCalls() int64 { return b.stsCalls.Load() }

// statusRecorder remembers the HTTP status of the STS response. minio-go's
// STS error does not carry it, and it is what tells "MinIO is down or
// failing" (no response, 5xx) from "MinIO refused" (4xx).
type statusRecorder struct {
	next http.RoundTripper
	code int
}

// RoundTrip implements http.RoundTripper.
func (r *statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if resp != nil {
		r.code = resp.StatusCode
	}
	return resp, err
}
