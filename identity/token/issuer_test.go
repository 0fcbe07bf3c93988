package token

import (
	"strings"
	"testing"
	"time"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	valid := Config{Issuer: testIssuer, ClientID: testClientID}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // fragment of the error; empty means valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"https issuer with a path", func(c *Config) { c.Issuer = "https://pinhole.example/pool" }, ""},
		{"shortest lifetimes", func(c *Config) { c.AccessTTL, c.IDTTL = MinTTL, MinTTL }, ""},
		{"longest lifetimes", func(c *Config) { c.AccessTTL, c.IDTTL = MaxTTL, MaxTTL }, ""},
		{"no issuer", func(c *Config) { c.Issuer = "" }, "issuer is empty"},
		{"relative issuer", func(c *Config) { c.Issuer = "localhost:8080" }, "not an absolute http(s) URL"},
		{"issuer with a query", func(c *Config) { c.Issuer = "http://localhost:8080/?x=1" }, "query"},
		{"no client id", func(c *Config) { c.ClientID = "" }, "client id is empty"},
		{"access tokens too short-lived", func(c *Config) { c.AccessTTL = time.Minute }, "access token lifetime 1m0s"},
		{"ID tokens too long-lived", func(c *Config) { c.IDTTL = 25 * time.Hour }, "ID token lifetime 25h0m0s"},
		{"negative lifetime", func(c *Config) { c.AccessTTL = -time.Hour }, "access token lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tc.change(&cfg)
			iss, err := New(newMemStore(), cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got error %v, want one mentioning %q", err, tc.want)
			case tc.want == "" && iss == nil:
				t.Fatal("got a nil Issuer")
			}
		})
	}

	if _, err := New(nil, valid); err == nil {
		t.Error("New with a nil store: got no error")
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	iss, err := New(newMemStore(), Config{Issuer: testIssuer, ClientID: testClientID})
	if err != nil {
		t.Fatal(err)
	}
	if got := iss.AccessTTL(); got != 15*time.Minute {
		t.Errorf("got access TTL %v, want 15m", got)
	}
	if got := iss.cfg.IDTTL; got != 15*time.Minute {
		t.Errorf("got ID TTL %v, want 15m", got)
	}
}
