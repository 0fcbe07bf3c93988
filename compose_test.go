// Package pinhole_test guards docker-compose.yml and the Dockerfiles it builds.
//
// No Docker engine runs where Pinhole is developed, so `docker compose up`
// cannot be tried there. Instead this test loads the compose file with the
// compose-spec parser (the library docker compose itself uses) and checks
// that the pieces fit together: every service is health-checked, the app
// waits for the others, its environment passes app.LoadConfig, every URL it
// dials names a real service on the port that service listens on, the
// browser-facing URLs are published, MinIO lets the app's origin in, data
// lives in named volumes, no secret is written into the file, and the MinIO
// image is built from the same pinned version as `make run`.
package pinhole_test

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/internal/devstack"
)

const composeFile = "docker-compose.yml"

// listens is the port each backing service's process listens on inside the
// compose network. The compose file cannot prove this (it is a property of
// the image), so it is written down here, once.
var listens = map[string]uint32{
	"postgres": 5432,
	"minio":    9000, // the S3 API; 9001 is the console, never dialled by the app
	"mailpit":  1025, // SMTP; 8025 is the web UI
}

// dials lists the app's environment variables that name another service,
// and which one they must reach.
var dials = []struct{ env, service string }{
	{app.EnvDatabaseURL, "postgres"},
	{app.EnvMinIOEndpoint, "minio"},
	{app.EnvSMTPURL, "mailpit"},
}

// dataDirs is where each stateful service keeps its data, so where its named
// volume must be mounted for `docker compose down` not to lose it.
var dataDirs = map[string]string{
	"postgres": "/var/lib/postgresql/data",
	"minio":    "/data",
}

// TestCompose checks the real compose file, as `docker compose up` would see
// it with no .env and nothing set in the shell.
func TestCompose(t *testing.T) {
	t.Parallel()
	raw := mustReadFile(t, composeFile)
	p := mustLoadCompose(t, raw)
	for _, problem := range append(checkCompose(p), checkComposeSecrets(raw)...) {
		t.Error(problem)
	}
}

// TestComposeCheckerCatches proves the checks can fail: each row breaks one
// thing in a copy of the real compose file and expects a problem naming it.
func TestComposeCheckerCatches(t *testing.T) {
	t.Parallel()
	orig := string(mustReadFile(t, composeFile))
	tests := []struct {
		name     string
		old, new string // every occurrence is replaced in the real file
		want     string // substring of one reported problem
	}{
		{
			name: "service missing",
			old:  "mailpit:\n", new: "mail:\n", // the service and the app's depends_on
			want: `service "mailpit" is missing`,
		},
		{
			name: "healthcheck missing",
			old:  `test: ["CMD", "/mailpit", "readyz"]`, new: `disable: true`,
			want: `service mailpit: no healthcheck`,
		},
		{
			name: "app healthcheck through a shell",
			old:  `test: ["CMD", "/pinhole", "healthcheck"]`, new: `test: ["CMD-SHELL", "/pinhole healthcheck"]`,
			want: `service app: healthcheck test`,
		},
		{
			name: "depends_on without health condition",
			old:  "minio:\n        condition: service_healthy", new: "minio:\n        condition: service_started",
			want: `app depends_on minio: got condition "service_started", want "service_healthy"`,
		},
		{
			name: "environment fails LoadConfig",
			old:  "PINHOLE_LOG_LEVEL: ${PINHOLE_LOG_LEVEL:-info}", new: "PINHOLE_LOG_LEVEL: chatty",
			want: "config: PINHOLE_LOG_LEVEL",
		},
		{
			name: "database host is not a service",
			old:  "@postgres:5432/", new: "@db:5432/",
			want: `DATABASE_URL host "db" is not a service`,
		},
		{
			name: "MinIO endpoint on the console port",
			old:  "MINIO_ENDPOINT: http://minio:9000", new: "MINIO_ENDPOINT: http://minio:9001",
			want: "MINIO_ENDPOINT dials minio:9001, want minio:9000",
		},
		{
			name: "SMTP on localhost",
			old:  "smtp://mailpit:1025", new: "smtp://localhost:1025",
			want: `SMTP_URL host "localhost" is not a service`,
		},
		{
			name: "MinIO public port not published",
			old:  `"127.0.0.1:9000:9000"`, new: `"127.0.0.1:9100:9000"`,
			want: "MINIO_PUBLIC_URL port 9000 is not published by minio",
		},
		{
			name: "public MinIO port leads to the console",
			old:  `"127.0.0.1:9000:9000"`, new: `"127.0.0.1:9000:9001"`,
			want: "MINIO_PUBLIC_URL port 9000 is published by minio to container port 9001, want 9000",
		},
		{
			name: "app port not published",
			old:  `PINHOLE_ADDR: ":8080"`, new: `PINHOLE_ADDR: ":8081"`,
			want: "PINHOLE_ADDR port 8081 is not published by app",
		},
		{
			name: "base URL port differs from the published one",
			old:  "PINHOLE_BASE_URL: ${PINHOLE_BASE_URL:-http://localhost:8080}", new: "PINHOLE_BASE_URL: http://localhost:3000",
			want: "PINHOLE_BASE_URL port: got 3000, want 8080",
		},
		{
			name: "CORS origin differs from base URL",
			old:  "MINIO_API_CORS_ALLOW_ORIGIN: ${PINHOLE_BASE_URL:-http://localhost:8080}", new: "MINIO_API_CORS_ALLOW_ORIGIN: http://localhost:3000",
			want: `MINIO_API_CORS_ALLOW_ORIGIN: got ["http://localhost:3000"], want it to contain "http://localhost:8080"`,
		},
		{
			name: "CORS wildcard",
			old:  "MINIO_API_CORS_ALLOW_ORIGIN: ${PINHOLE_BASE_URL:-http://localhost:8080}", new: `MINIO_API_CORS_ALLOW_ORIGIN: "*"`,
			want: "must not allow every origin",
		},
		{
			name: "postgres data in the container layer",
			old:  "- pgdata:/var/lib/postgresql/data", new: "- /srv/pg:/var/lib/postgresql/data",
			want: "service postgres: /var/lib/postgresql/data is a bind mount, want a named volume",
		},
		{
			name: "minio data not persisted",
			old:  "- miniodata:/data", new: "- miniodata:/var/minio",
			want: "service minio: no volume mounted at /data",
		},
		{
			name: "MinIO image tag not the pinned version",
			old:  "pinhole-minio:v0.0.0-20260212201848-7aac2a2c5b7c", new: "pinhole-minio:latest",
			want: `minio image "pinhole-minio:latest": got tag "latest", want the pinned version`,
		},
		{
			name: "MinIO build arg overrides the pin",
			old:  "context: deploy/minio", new: "context: deploy/minio\n      args:\n        MINIO_VERSION: v0.0.0-20250101000000-000000000000",
			want: `minio build arg MINIO_VERSION: got "v0.0.0-20250101000000-000000000000", want`,
		},
		{
			name: "Mailpit image drifts from the launcher",
			old:  "axllent/mailpit:v1.33.1", new: "axllent/mailpit:latest",
			want: `mailpit image "axllent/mailpit:latest": got tag "latest", want`,
		},
		{
			name: "Dockerfile missing",
			old:  "dockerfile: Dockerfile", new: "dockerfile: Dockerfile.nope",
			want: "service app: build: Dockerfile",
		},
		{
			name: "literal password",
			old:  "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-pinhole-dev-password}", new: "POSTGRES_PASSWORD: hunter2hunter2",
			want: "service postgres: environment POSTGRES_PASSWORD",
		},
		{
			name: "literal password inside a URL",
			old:  "${POSTGRES_PASSWORD:-pinhole-dev-password}@postgres", new: "hunter2hunter2@postgres",
			want: "service app: environment DATABASE_URL: the URL's password",
		},
		{
			name: "secret default not labelled for development",
			old:  "${MINIO_ROOT_PASSWORD:-pinhole-dev-secret}", new: "${MINIO_ROOT_PASSWORD:-correct-horse}",
			want: `default "correct-horse" must say it is for development`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mutated := strings.ReplaceAll(orig, tt.old, tt.new)
			if mutated == orig {
				t.Fatalf("%q is not in %s any more; update this row so it still breaks something", tt.old, composeFile)
			}
			p := mustLoadCompose(t, []byte(mutated))
			wantProblem(t, append(checkCompose(p), checkComposeSecrets([]byte(mutated))...), tt.want)
		})
	}
}

// TestComposeCheckerCatchesDockerfileDrift breaks the MinIO Dockerfile in a
// temporary copy and points the compose file's build context at it.
func TestComposeCheckerCatchesDockerfileDrift(t *testing.T) {
	t.Parallel()
	orig := string(mustReadFile(t, composeFile))
	dockerfile := string(mustReadFile(t, filepath.Join("deploy", "minio", "Dockerfile")))
	tests := []struct {
		name     string
		old, new string // every occurrence is replaced in the Dockerfile
		want     string
	}{
		{
			name: "version drifts from the launcher",
			old:  "ARG MINIO_VERSION=" + devstack.MinIOTool.Version, new: "ARG MINIO_VERSION=v0.0.0-20250101000000-000000000000",
			want: "got ARG MINIO_VERSION=v0.0.0-20250101000000-000000000000, want " + devstack.MinIOTool.Version,
		},
		{
			name: "installs another module",
			old:  "github.com/minio/minio@", new: "github.com/example/minio@",
			want: "does not go install github.com/minio/minio@${MINIO_VERSION}",
		},
		{
			name: "runs as root",
			old:  "USER 10001:10001", new: "USER root",
			want: `final stage runs as "root", want a non-root USER`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			broken := strings.ReplaceAll(dockerfile, tt.old, tt.new)
			if broken == dockerfile {
				t.Fatalf("%q is not in deploy/minio/Dockerfile any more; update this row so it still breaks something", tt.old)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			compose := strings.Replace(orig, "context: deploy/minio", "context: "+dir, 1)
			if compose == orig {
				t.Fatalf("minio's build context is no longer deploy/minio; update this test")
			}
			wantProblem(t, checkCompose(mustLoadCompose(t, []byte(compose))), tt.want)
		})
	}
}

// TestComposeConfigWithDocker lets docker compose itself validate the file
// where its compose plugin is installed. `docker compose config` is
// client-side (it needs no engine), but the plugin is optional tooling, not a
// prerequisite of `make test`, so its absence skips rather than fails even
// under CI=true; TestCompose covers the same ground without it.
func TestComposeConfigWithDocker(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "docker", "compose", "version").Run(); err != nil {
		t.Skipf("docker compose is not installed (%v); skipping its own validation of %s", err, composeFile)
	}
	out, err := exec.CommandContext(ctx, "docker", "compose", "-f", composeFile, "config", "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, out)
	}
}

// mustLoadCompose parses a compose file as docker compose would, from bytes
// so tests can load mutated copies. The environment is explicitly empty (and
// no .env file is read), so only the file's own ${VAR:-default} values apply:
// the result does not depend on the shell or on a developer's .env.
func mustLoadCompose(t *testing.T, raw []byte) *types.Project {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(t.Context(), types.ConfigDetails{
		WorkingDir:  wd, // relative build contexts resolve against the repository
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(wd, composeFile), Content: raw}},
		Environment: types.Mapping{},
	})
	if err != nil {
		t.Fatalf("load %s: %v", composeFile, err)
	}
	return p
}

// wantProblem fails t unless one of problems mentions want.
func wantProblem(t *testing.T, problems []string, want string) {
	t.Helper()
	for _, problem := range problems {
		if strings.Contains(problem, want) {
			return
		}
	}
	t.Errorf("got problems %q, want one containing %q", problems, want)
}

func mustReadFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkCompose returns every way the loaded project would fail to run
// Pinhole, one self-contained sentence each.
func checkCompose(p *types.Project) []string {
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, name := range []string{"postgres", "minio", "mailpit", "app"} {
		if _, ok := p.Services[name]; !ok {
			report("service %q is missing (got services %q)", name, slices.Sorted(maps.Keys(p.Services)))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		checkHealthcheck(p.Services[name], report)
	}
	checkVolumes(p, report)
	checkBuilds(p, report)

	appSvc, ok := p.Services["app"]
	if !ok {
		return problems
	}
	for _, dep := range []string{"postgres", "minio", "mailpit"} {
		d, ok := appSvc.DependsOn[dep]
		switch {
		case !ok:
			report("app does not depend_on %s", dep)
		case d.Condition != types.ServiceConditionHealthy:
			report("app depends_on %s: got condition %q, want %q", dep, d.Condition, types.ServiceConditionHealthy)
		}
	}

	// The environment must be one `pinhole serve` accepts...
	cfg, err := app.LoadConfig(func(name string) string {
		if v := appSvc.Environment[name]; v != nil {
			return *v
		}
		return ""
	})
	if err != nil {
		report("app environment: %v", err)
		return problems
	}
	// ...and must point where the compose network actually leads.
	urls := map[string]string{app.EnvDatabaseURL: cfg.DatabaseURL, app.EnvMinIOEndpoint: cfg.MinIO.Endpoint.String()}
	if cfg.SMTPURL != nil {
		urls[app.EnvSMTPURL] = cfg.SMTPURL.String()
	}
	for _, d := range dials {
		checkDial(p, d.env, urls[d.env], d.service, report)
	}

	// Browsers reach MinIO and the app through ports published on the host.
	if minio, ok := p.Services["minio"]; ok {
		if port := urlPort(cfg.MinIO.PublicURL); port != 0 {
			checkPublished(minio, app.EnvMinIOPublicURL, port, listens["minio"], report)
		}
		checkCORS(minio, cfg.BaseURL, report)
	}
	_, addrPort, _ := net.SplitHostPort(cfg.Addr) // LoadConfig validated it
	target, err := strconv.ParseUint(addrPort, 10, 32)
	if err != nil {
		report("PINHOLE_ADDR %q: want a numeric port", cfg.Addr)
		return problems
	}
	published := ""
	for _, pc := range appSvc.Ports {
		if pc.Target == uint32(target) {
			published = pc.Published
		}
	}
	switch {
	case published == "":
		report("PINHOLE_ADDR port %d is not published by app (browsers could not reach it)", target)
	case strconv.Itoa(urlPort(cfg.BaseURL)) != published:
		report("PINHOLE_BASE_URL port: got %d, want %s (where app's port %d is published)", urlPort(cfg.BaseURL), published, target)
	}
	return problems
}

// checkHealthcheck wants a real test command on every service: depends_on
// with service_healthy waits forever on a service that has none.
func checkHealthcheck(svc types.ServiceConfig, report func(string, ...any)) {
	hc := svc.HealthCheck
	if hc == nil || hc.Disable || len(hc.Test) < 2 || (hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL") {
		var test []string
		if hc != nil {
			test = hc.Test
		}
		report("service %s: no healthcheck with a test command (got %q)", svc.Name, test)
		return
	}
	// The app image is distroless: no shell, so only the exec form can run.
	if want := []string{"CMD", "/pinhole", "healthcheck"}; svc.Name == "app" && !slices.Equal(hc.Test, want) {
		report("service app: healthcheck test: got %q, want %q", hc.Test, want)
	}
}

// checkVolumes wants each stateful service's data in a declared named volume.
func checkVolumes(p *types.Project, report func(string, ...any)) {
	for _, name := range slices.Sorted(maps.Keys(dataDirs)) {
		svc, ok := p.Services[name]
		if !ok {
			continue
		}
		dir := dataDirs[name]
		i := slices.IndexFunc(svc.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == dir })
		if i < 0 {
			report("service %s: no volume mounted at %s (its data would die with the container)", name, dir)
			continue
		}
		v := svc.Volumes[i]
		if v.Type != types.VolumeTypeVolume {
			report("service %s: %s is a %s mount, want a named volume", name, dir, v.Type)
			continue
		}
		if _, ok := p.Volumes[v.Source]; !ok || v.Source == "" {
			report("service %s: volume %q at %s is not declared under the top-level volumes", name, v.Source, dir)
		}
	}
}

// checkBuilds wants the built images' Dockerfiles to exist, to run as a
// non-root user, and MinIO and Mailpit at the versions `make run` uses.
func checkBuilds(p *types.Project, report func(string, ...any)) {
	for _, name := range []string{"app", "minio"} {
		svc, ok := p.Services[name]
		if !ok {
			continue
		}
		if svc.Build == nil {
			report("service %s: no build section (it must be buildable from this repository)", name)
			continue
		}
		path := svc.Build.Dockerfile
		if !filepath.IsAbs(path) {
			path = filepath.Join(svc.Build.Context, path)
		}
		text, err := os.ReadFile(path)
		if err != nil {
			report("service %s: build: Dockerfile: %v", name, err)
			continue
		}
		if user := finalUser(string(text)); user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
			report("service %s: %s: final stage runs as %q, want a non-root USER", name, path, user)
		}
		if name == "minio" {
			checkMinIOVersion(svc, path, string(text), report)
		}
	}
	if mailpit, ok := p.Services["mailpit"]; ok {
		if tag := imageTag(mailpit.Image); tag != devstack.MailpitTool.Version {
			report("mailpit image %q: got tag %q, want %q (devstack.MailpitTool.Version)", mailpit.Image, tag, devstack.MailpitTool.Version)
		}
	}
}

// minioVersionArg finds the pinned version in deploy/minio/Dockerfile.
var minioVersionArg = regexp.MustCompile(`(?m)^ARG MINIO_VERSION=(\S+)\s*$`)

// checkMinIOVersion keeps compose's MinIO at the launcher's pin: the
// Dockerfile's default, any compose build arg overriding it, and the image
// tag (which must change with the pin, or `up` would reuse a stale image).
func checkMinIOVersion(svc types.ServiceConfig, path, dockerfile string, report func(string, ...any)) {
	want := devstack.MinIOTool.Version
	m := minioVersionArg.FindStringSubmatch(dockerfile)
	switch {
	case m == nil:
		report("%s: no ARG MINIO_VERSION=<version>", path)
	case m[1] != want:
		report("%s: got ARG MINIO_VERSION=%s, want %s (devstack.MinIOTool.Version)", path, m[1], want)
	}
	if install := devstack.MinIOTool.Module + "@${MINIO_VERSION}"; !strings.Contains(dockerfile, install) {
		report("%s: does not go install %s", path, install)
	}
	if arg, ok := svc.Build.Args["MINIO_VERSION"]; ok && (arg == nil || *arg != want) {
		got := "<unset>"
		if arg != nil {
			got = *arg
		}
		report("minio build arg MINIO_VERSION: got %q, want %q (devstack.MinIOTool.Version)", got, want)
	}
	if tag := imageTag(svc.Image); tag != want {
		report("minio image %q: got tag %q, want the pinned version %q so a version bump rebuilds", svc.Image, tag, want)
	}
}

// checkDial wants raw (the value of env) to name the service it must reach,
// on the port that service listens on.
func checkDial(p *types.Project, env, raw, service string, report func(string, ...any)) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		report("%s: want a URL naming service %s", env, service)
		return
	}
	host, port := u.Hostname(), urlPort(u)
	if _, ok := p.Services[host]; !ok {
		report("%s host %q is not a service in %s (the app could not resolve it)", env, host, composeFile)
		return
	}
	if want := listens[service]; host != service || uint32(port) != want {
		report("%s dials %s:%d, want %s:%d", env, host, port, service, want)
	}
}

// checkPublished wants the host port of a browser-facing URL published by
// svc and forwarded to the container port that serves it.
func checkPublished(svc types.ServiceConfig, env string, port int, target uint32, report func(string, ...any)) {
	for _, pc := range svc.Ports {
		if pc.Published == strconv.Itoa(port) {
			if pc.Target != target {
				report("%s port %d is published by %s to container port %d, want %d", env, port, svc.Name, pc.Target, target)
			}
			return
		}
	}
	report("%s port %d is not published by %s (browsers could not reach it)", env, port, svc.Name)
}

// checkCORS wants MinIO to accept the browser uploads that come from the
// app's pages, and only those.
func checkCORS(minio types.ServiceConfig, base *url.URL, report func(string, ...any)) {
	const env = "MINIO_API_CORS_ALLOW_ORIGIN"
	var origins []string
	if v := minio.Environment[env]; v != nil {
		for o := range strings.SplitSeq(*v, ",") {
			origins = append(origins, strings.TrimSpace(o))
		}
	}
	if slices.Contains(origins, "*") {
		report("%s: got %q; it must not allow every origin", env, origins)
	}
	if want := base.Scheme + "://" + base.Host; !slices.Contains(origins, want) {
		report("%s: got %q, want it to contain %q (the origin of PINHOLE_BASE_URL)", env, origins, want)
	}
}

// urlPort is u's port, or its scheme's default.
func urlPort(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	return map[string]int{"http": 80, "https": 443, "postgres": 5432, "postgresql": 5432, "smtp": 25, "smtps": 465}[u.Scheme]
}

// imageTag is the tag of an image reference ("" when it has none).
func imageTag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	name := ref[strings.LastIndex(ref, "/")+1:]
	if _, tag, ok := strings.Cut(name, ":"); ok {
		return tag
	}
	return ""
}

// finalUser is the last USER of a Dockerfile's final stage ("" for none,
// which means root).
func finalUser(dockerfile string) string {
	user := ""
	for line := range strings.Lines(dockerfile) {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			user = ""
		case "USER":
			user = fields[1]
		}
	}
	return user
}

// secretName matches environment variables whose values are credentials.
var secretName = regexp.MustCompile(`(?i)(PASSWORD|SECRET|TOKEN|_KEY$)`)

// interpolation is a value that is exactly one ${VAR}, ${VAR:-default},
// ${VAR-default}, ${VAR:?message} or ${VAR?message}.
var interpolation = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*(?:(:?-)([^}]*)|:?\?[^}]*)?\}$`)

// urlPassword finds the password in a URL with credentials, once the
// interpolations in it have been masked (their defaults may hold ':' or '@').
var urlPassword = regexp.MustCompile(`://[^/:@\s]*:([^/@\s]*)@`)

// anyInterpolation matches each ${...} in a value, and placeholder what
// passwordInURL masks it with.
var (
	anyInterpolation = regexp.MustCompile(`\$\{[^}]*\}`)
	placeholder      = regexp.MustCompile("\x00([0-9]+)\x00")
)

// passwordInURL returns the password of a URL written with interpolations,
// as written, and whether there is one.
func passwordInURL(value string) (string, bool) {
	var parts []string
	masked := anyInterpolation.ReplaceAllStringFunc(value, func(s string) string {
		parts = append(parts, s)
		return fmt.Sprintf("\x00%d\x00", len(parts)-1)
	})
	m := urlPassword.FindStringSubmatch(masked)
	if m == nil {
		return "", false
	}
	return placeholder.ReplaceAllStringFunc(m[1], func(s string) string {
		i, _ := strconv.Atoi(strings.Trim(s, "\x00"))
		return parts[i]
	}), true
}

// checkComposeSecrets reads the raw YAML, before interpolation (the loader
// would have replaced ${VAR:-default} by the default), and wants every
// credential in a service's environment to come from an interpolation whose
// default, if any, says it is for development.
func checkComposeSecrets(raw []byte) []string {
	var doc struct {
		Services map[string]struct {
			Environment any `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return []string{fmt.Sprintf("parse %s: %v", composeFile, err)}
	}
	var problems []string
	check := func(service, name, value, what string) {
		m := interpolation.FindStringSubmatch(value)
		switch {
		case m == nil:
			problems = append(problems, fmt.Sprintf("service %s: environment %s: %s is a literal; want ${VAR:-dev-default} so the real value comes from the environment or .env", service, name, what))
		case m[1] != "" && !strings.Contains(strings.ToLower(m[2]), "dev"):
			problems = append(problems, fmt.Sprintf("service %s: environment %s: default %q must say it is for development (e.g. pinhole-dev-...)", service, name, m[2]))
		}
	}
	for _, service := range slices.Sorted(maps.Keys(doc.Services)) {
		for name, value := range envEntries(doc.Services[service].Environment) {
			if secretName.MatchString(name) {
				check(service, name, value, "the value")
			}
			if password, ok := passwordInURL(value); ok {
				check(service, name, password, "the URL's password")
			}
		}
	}
	return problems
}

// envEntries yields the name and value of each entry of a raw environment
// section, which may be a mapping or a list of NAME=value strings.
func envEntries(env any) iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) {
		switch env := env.(type) {
		case map[string]any:
			for _, name := range slices.Sorted(maps.Keys(env)) {
				value := ""
				if v := env[name]; v != nil {
					value = fmt.Sprint(v)
				}
				if !yield(name, value) {
					return
				}
			}
		case []any:
			for _, entry := range env {
				name, value, _ := strings.Cut(fmt.Sprint(entry), "=")
				if !yield(name, value) {
					return
				}
			}
		}
	}
}
