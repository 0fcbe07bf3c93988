package app

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// env builds a getenv from pairs, starting from the minimum a valid config needs.
func env(overrides map[string]string) func(string) string {
	vars := map[string]string{
		EnvMinIOAccessKey: "pinhole",
		EnvMinIOSecretKey: "pinhole-secret",
	}
	for k, v := range overrides {
		vars[k] = v
	}
	return func(name string) string { return vars[name] }
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	checks := []struct{ name, got, want string }{
		{"Addr", cfg.Addr, ":8080"},
		{"BaseURL", cfg.BaseURL.String(), "http://localhost:8080"},
		{"DatabaseURL", cfg.DatabaseURL, ""},
		{"DataDir", cfg.DataDir, ".data"},
		{"MinIO.Endpoint", cfg.MinIO.Endpoint.String(), "http://localhost:9000"},
		{"MinIO.PublicURL", cfg.MinIO.PublicURL.String(), "http://localhost:9000"},
		{"MinIO.Bucket", cfg.MinIO.Bucket, "photos"},
		{"MinIO.Region", cfg.MinIO.Region, "us-east-1"},
		{"MailFrom", cfg.MailFrom.String(), `"Pinhole" <no-reply@localhost>`},
		{"LogLevel", cfg.LogLevel, "info"},
		{"LogFormat", cfg.LogFormat, "text"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if cfg.SMTPURL != nil {
		t.Errorf("SMTPURL = %v, want nil (mail to the log)", cfg.SMTPURL)
	}
	if got, want := cfg.AuditRetention, 90*24*time.Hour; got != want {
		t.Errorf("AuditRetention = %v, want %v", got, want)
	}
}

func TestLoadConfigOverrides(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(env(map[string]string{
		EnvBaseURL:        "https://photos.example.com/",
		EnvMinIOEndpoint:  "http://minio:9000",
		EnvMinIOPublicURL: "https://s3.example.com",
		EnvDatabaseURL:    "postgres://u:p@db:5432/pinhole?sslmode=disable",
		EnvSMTPURL:        "smtp://user:pass@mail:1025",
		EnvLogLevel:       "DEBUG",
	}))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if got, want := cfg.BaseURL.String(), "https://photos.example.com"; got != want {
		t.Errorf("BaseURL = %q, want %q (trailing slash dropped)", got, want)
	}
	if got, want := cfg.MinIO.PublicURL.Host, "s3.example.com"; got != want {
		t.Errorf("PublicURL host = %q, want %q", got, want)
	}
	if got, want := cfg.SMTPURL.Host, "mail:1025"; got != want {
		t.Errorf("SMTP host = %q, want %q", got, want)
	}
	if got, want := cfg.LogLevel, "debug"; got != want {
		t.Errorf("LogLevel = %q, want %q", got, want)
	}
}

func TestLoadConfigRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"addr without port", map[string]string{EnvAddr: "localhost"}, EnvAddr},
		{"relative base url", map[string]string{EnvBaseURL: "localhost:8080"}, EnvBaseURL},
		{"base url with path", map[string]string{EnvBaseURL: "http://x/app"}, EnvBaseURL},
		{"ftp endpoint", map[string]string{EnvMinIOEndpoint: "ftp://minio"}, EnvMinIOEndpoint},
		{"public url with credentials", map[string]string{EnvMinIOPublicURL: "http://a:b@minio"}, EnvMinIOPublicURL},
		{"missing access key", map[string]string{EnvMinIOAccessKey: " "}, EnvMinIOAccessKey},
		{"short secret", map[string]string{EnvMinIOSecretKey: "short"}, EnvMinIOSecretKey},
		{"bucket with capitals", map[string]string{EnvMinIOBucket: "Photos"}, EnvMinIOBucket},
		{"bucket too short", map[string]string{EnvMinIOBucket: "ab"}, EnvMinIOBucket},
		{"mysql url", map[string]string{EnvDatabaseURL: "mysql://db/pinhole"}, EnvDatabaseURL},
		{"postgres without host", map[string]string{EnvDatabaseURL: "postgres:///pinhole"}, EnvDatabaseURL},
		{"smtp without port", map[string]string{EnvSMTPURL: "smtp://mail"}, EnvSMTPURL},
		{"http as smtp", map[string]string{EnvSMTPURL: "http://mail:25"}, EnvSMTPURL},
		{"bad from", map[string]string{EnvMailFrom: "not an address"}, EnvMailFrom},
		{"bad log level", map[string]string{EnvLogLevel: "loud"}, EnvLogLevel},
		{"bad log format", map[string]string{EnvLogFormat: "xml"}, EnvLogFormat},
		{"audit retention of an hour", map[string]string{EnvAuditRetention: "1h"}, EnvAuditRetention},
		{"audit retention in days", map[string]string{EnvAuditRetention: "90d"}, EnvAuditRetention},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadConfig(env(tt.env))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("LoadConfig error = %v, want a *ConfigError", err)
			}
			if ce.Var != tt.wantVar {
				t.Errorf("error names %s, want %s (%v)", ce.Var, tt.wantVar, err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tt.wantVar) {
				t.Errorf("error %q should be one line naming %s", msg, tt.wantVar)
			}
		})
	}
}

func TestConfigErrorNeverEchoesSMTPPassword(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig(env(map[string]string{EnvSMTPURL: "smtp://user:hunter2hunter2@mail"}))
	if err == nil {
		t.Fatal("want an error for an SMTP URL without a port")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q leaks the SMTP password", err)
	}
}

// TestEveryVariableIsDocumented reads the Env* constants out of config.go
// itself, so a variable added there without a line in the README's table
// and in .env.example fails here instead of going unnoticed.
func TestEveryVariableIsDocumented(t *testing.T) {
	t.Parallel()
	file, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "Env") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					name, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					names = append(names, name)
				}
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d Env constants in config.go (%v); the parser walk is broken", len(names), names)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md's configuration table does not mention `%s`", name)
		}
		if !strings.Contains(string(example), name+"=") {
			t.Errorf(".env.example has no %s= line", name)
		}
	}
}
