package app

import (
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pinhole/pinhole/identity"
)

// Config is everything Pinhole reads from its environment, parsed once at
// start-up. The environment is the only source of configuration (twelve-factor
// style), so the same binary runs under `make run`, docker compose and a test
// that passes a fake getenv.
type Config struct {
	// Addr is the listen address of the HTTP server (PINHOLE_ADDR).
	Addr string
	// BaseURL is the public URL of the app (PINHOLE_BASE_URL). It is the token
	// issuer and the origin of every link in mail, so it must be what browsers use.
	BaseURL *url.URL
	// DataDir holds the embedded database and, under `pinhole dev`, MinIO's data
	// (PINHOLE_DATA_DIR).
	DataDir string
	// DatabaseURL selects the database (DATABASE_URL): empty means the embedded
	// SQLite file under DataDir, postgres://... means PostgreSQL.
	DatabaseURL string
	// MinIO is how the app and the browser reach object storage.
	MinIO MinIOConfig
	// SMTPURL is smtp://[user:pass@]host:port (SMTP_URL); empty writes mail to the log.
	SMTPURL *url.URL
	// MailFrom is the From header of every message Pinhole sends (MAIL_FROM).
	MailFrom *mail.Address
	// LogLevel is debug, info, warn or error (PINHOLE_LOG_LEVEL).
	LogLevel string
	// LogFormat is text (for people) or json (for log collectors) (PINHOLE_LOG_FORMAT).
	LogFormat string

	// TokenTTL is the lifetime of ID and access tokens (PINHOLE_TOKEN_TTL).
	TokenTTL time.Duration
	// RefreshTTL is the absolute lifetime of a session and its refresh
	// tokens (PINHOLE_REFRESH_TOKEN_TTL).
	RefreshTTL time.Duration
	// AuditRetention is how long the audit trail is kept before the
	// periodic purge deletes it (PINHOLE_AUDIT_RETENTION).
	AuditRetention time.Duration
	// PasswordMinLength is the shortest password accepted (PINHOLE_PASSWORD_MIN_LENGTH).
	PasswordMinLength int
	// CustomAttributes declares the user pool's custom attributes
	// (PINHOLE_CUSTOM_ATTRIBUTES), e.g. "display_name:string:mutable".
	CustomAttributes []identity.AttributeSpec
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For header names the real client (PINHOLE_TRUSTED_PROXIES).
	// Empty means the app faces clients directly and trusts no such header,
	// so nobody can dodge per-IP throttles by sending one.
	TrustedProxies []*net.IPNet
}

// SlogLevel converts LogLevel for log/slog.
func (c Config) SlogLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// MinIOConfig is the app's own MinIO identity and where to find the bucket.
type MinIOConfig struct {
	// Endpoint is MinIO as the app reaches it (MINIO_ENDPOINT).
	Endpoint *url.URL
	// PublicURL is MinIO as browsers reach it (MINIO_PUBLIC_URL). Browsers sign
	// requests for this host, so it must be exactly what they connect to.
	PublicURL *url.URL
	// AccessKey and SecretKey are the broker's MinIO identity
	// (MINIO_ACCESS_KEY, MINIO_SECRET_KEY).
	AccessKey, SecretKey string
	// Bucket holds every user's photos under users/<sub>/ (MINIO_BUCKET).
	Bucket string
	// Region is the S3 region used for signing (MINIO_REGION).
	Region string
}

// Environment variable names, exported so docs, tests and `pinhole dev` refer
// to one spelling.
const (
	EnvAddr           = "PINHOLE_ADDR"
	EnvBaseURL        = "PINHOLE_BASE_URL"
	EnvDataDir        = "PINHOLE_DATA_DIR"
	EnvLogLevel       = "PINHOLE_LOG_LEVEL"
	EnvLogFormat      = "PINHOLE_LOG_FORMAT"
	EnvTokenTTL       = "PINHOLE_TOKEN_TTL"
	EnvRefreshTTL     = "PINHOLE_REFRESH_TOKEN_TTL"
	EnvAuditRetention = "PINHOLE_AUDIT_RETENTION"
	EnvPasswordMinLen = "PINHOLE_PASSWORD_MIN_LENGTH"
	EnvCustomAttrs    = "PINHOLE_CUSTOM_ATTRIBUTES"
	EnvTrustedProxies = "PINHOLE_TRUSTED_PROXIES"
	EnvDatabaseURL    = "DATABASE_URL"
	EnvMinIOEndpoint  = "MINIO_ENDPOINT"
	EnvMinIOPublicURL = "MINIO_PUBLIC_URL"
	EnvMinIOAccessKey = "MINIO_ACCESS_KEY"
	EnvMinIOSecretKey = "MINIO_SECRET_KEY"
	EnvMinIOBucket    = "MINIO_BUCKET"
	EnvMinIORegion    = "MINIO_REGION"
	EnvSMTPURL        = "SMTP_URL"
	EnvMailFrom       = "MAIL_FROM"
)

// Defaults for every optional variable. MinIO credentials have no default here:
// `pinhole dev` supplies development values, `pinhole serve` requires them.
const (
	DefaultAddr           = ":8080"
	DefaultBaseURL        = "http://localhost:8080"
	DefaultDataDir        = ".data"
	DefaultMinIOEndpoint  = "http://localhost:9000"
	DefaultMinIOBucket    = "photos"
	DefaultMinIORegion    = "us-east-1"
	DefaultMailFrom       = "Pinhole <no-reply@localhost>"
	DefaultLogLevel       = "info"
	DefaultLogFormat      = "text"
	DefaultTokenTTL       = 15 * time.Minute
	DefaultRefreshTTL     = 30 * 24 * time.Hour
	DefaultAuditRetention = 90 * 24 * time.Hour
	DefaultPasswordMin    = 12
	DefaultCustomAttrs    = "display_name:string:mutable"
)

// ConfigError names the variable that stopped start-up, so the one line an
// operator sees says exactly what to fix.
type ConfigError struct {
	Var     string
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("config: %s %s", e.Var, e.Problem)
}

// LoadConfig reads the environment through getenv, applies defaults and
// validates the result. The first problem found is returned as a *ConfigError.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var cfg Config
	var err error

	cfg.Addr = get(EnvAddr, DefaultAddr)
	if _, _, splitErr := net.SplitHostPort(cfg.Addr); splitErr != nil {
		return cfg, &ConfigError{EnvAddr, fmt.Sprintf("must be host:port such as :8080, got %q", cfg.Addr)}
	}
	if cfg.BaseURL, err = parseHTTPURL(EnvBaseURL, get(EnvBaseURL, DefaultBaseURL)); err != nil {
		return cfg, err
	}
	cfg.DataDir = get(EnvDataDir, DefaultDataDir)
	cfg.DatabaseURL = get(EnvDatabaseURL, "")
	if err := checkDatabaseURL(cfg.DatabaseURL); err != nil {
		return cfg, err
	}

	if cfg.MinIO.Endpoint, err = parseHTTPURL(EnvMinIOEndpoint, get(EnvMinIOEndpoint, DefaultMinIOEndpoint)); err != nil {
		return cfg, err
	}
	if cfg.MinIO.PublicURL, err = parseHTTPURL(EnvMinIOPublicURL, get(EnvMinIOPublicURL, cfg.MinIO.Endpoint.String())); err != nil {
		return cfg, err
	}
	cfg.MinIO.AccessKey = get(EnvMinIOAccessKey, "")
	cfg.MinIO.SecretKey = get(EnvMinIOSecretKey, "")
	if cfg.MinIO.AccessKey == "" {
		return cfg, &ConfigError{EnvMinIOAccessKey, "is required (the app's MinIO identity; `make run` sets a development value)"}
	}
	if len(cfg.MinIO.SecretKey) < 8 {
		return cfg, &ConfigError{EnvMinIOSecretKey, "is required and must be at least 8 characters"}
	}
	cfg.MinIO.Bucket = get(EnvMinIOBucket, DefaultMinIOBucket)
	if !bucketName.MatchString(cfg.MinIO.Bucket) || strings.Contains(cfg.MinIO.Bucket, "..") {
		return cfg, &ConfigError{EnvMinIOBucket, fmt.Sprintf("must be a valid S3 bucket name (3-63 of a-z, 0-9, '.', '-'), got %q", cfg.MinIO.Bucket)}
	}
	cfg.MinIO.Region = get(EnvMinIORegion, DefaultMinIORegion)

	if raw := get(EnvSMTPURL, ""); raw != "" {
		if cfg.SMTPURL, err = parseSMTPURL(raw); err != nil {
			return cfg, err
		}
	}
	from := get(EnvMailFrom, DefaultMailFrom)
	if cfg.MailFrom, err = mail.ParseAddress(from); err != nil {
		return cfg, &ConfigError{EnvMailFrom, fmt.Sprintf("must be an address such as %q, got %q", DefaultMailFrom, from)}
	}

	cfg.LogLevel = strings.ToLower(get(EnvLogLevel, DefaultLogLevel))
	switch cfg.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return cfg, &ConfigError{EnvLogLevel, fmt.Sprintf("must be debug, info, warn or error, got %q", cfg.LogLevel)}
	}
	cfg.LogFormat = strings.ToLower(get(EnvLogFormat, DefaultLogFormat))
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return cfg, &ConfigError{EnvLogFormat, fmt.Sprintf("must be text or json, got %q", cfg.LogFormat)}
	}

	if cfg.TokenTTL, err = parseDuration(EnvTokenTTL, get(EnvTokenTTL, ""), DefaultTokenTTL, 5*time.Minute, 24*time.Hour); err != nil {
		return cfg, err
	}
	if cfg.RefreshTTL, err = parseDuration(EnvRefreshTTL, get(EnvRefreshTTL, ""), DefaultRefreshTTL, time.Hour, 365*24*time.Hour); err != nil {
		return cfg, err
	}
	if cfg.AuditRetention, err = parseDuration(EnvAuditRetention, get(EnvAuditRetention, ""), DefaultAuditRetention, 24*time.Hour, 10*365*24*time.Hour); err != nil {
		return cfg, err
	}
	cfg.PasswordMinLength = DefaultPasswordMin
	if raw := get(EnvPasswordMinLen, ""); raw != "" {
		n, convErr := strconv.Atoi(raw)
		// NIST SP 800-63B: at least 8; more than 64 would refuse passphrases we promise to accept.
		if convErr != nil || n < 8 || n > 64 {
			return cfg, &ConfigError{EnvPasswordMinLen, fmt.Sprintf("must be a whole number from 8 to 64, got %q", raw)}
		}
		cfg.PasswordMinLength = n
	}
	if cfg.CustomAttributes, err = identity.ParseAttributeSpecs(get(EnvCustomAttrs, DefaultCustomAttrs)); err != nil {
		return cfg, &ConfigError{EnvCustomAttrs, err.Error()}
	}
	for _, part := range strings.Split(get(EnvTrustedProxies, ""), ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		_, network, cidrErr := net.ParseCIDR(part)
		if cidrErr != nil {
			return cfg, &ConfigError{EnvTrustedProxies, fmt.Sprintf("must be comma-separated CIDRs such as 10.0.0.0/8, got %q", part)}
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, network)
	}
	return cfg, nil
}

// bucketName is the S3 bucket naming rule, minus the rarely relevant IP-address ban.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// parseDuration reads a Go duration ("15m", "720h") within [lo, hi].
func parseDuration(name, raw string, def, lo, hi time.Duration) (time.Duration, error) {
	if raw == "" {
		return def, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d < lo || d > hi {
		return 0, &ConfigError{name, fmt.Sprintf("must be a duration from %s to %s such as %s, got %q", lo, hi, def, raw)}
	}
	return d, nil
}

func parseHTTPURL(name, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &ConfigError{name, fmt.Sprintf("must be an absolute http(s) URL such as http://localhost:8080, got %q", raw)}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, &ConfigError{name, "must not carry credentials, a query or a fragment"}
	}
	if u.Path == "/" {
		u.Path = ""
	}
	if u.Path != "" {
		return nil, &ConfigError{name, fmt.Sprintf("must not have a path, got %q", u.Path)}
	}
	return u, nil
}

func parseSMTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || u.Port() == "" {
		// Never echo the value: it may contain a password.
		return nil, &ConfigError{EnvSMTPURL, "must look like smtp://[user:pass@]host:port (or smtps://)"}
	}
	return u, nil
}

func checkDatabaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	scheme, _, ok := strings.Cut(raw, ":")
	switch {
	case !ok:
	case scheme == "postgres" || scheme == "postgresql":
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return &ConfigError{EnvDatabaseURL, "must look like postgres://user:pass@host:5432/dbname"}
		}
		return nil
	case scheme == "sqlite" || scheme == "file":
		return nil
	}
	return &ConfigError{EnvDatabaseURL, "must be empty (embedded database), postgres://... or sqlite:<path>"}
}
