package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"
)

// warmup is how long each throughput phase runs before its window opens:
// long enough for connections to be made, pools and caches to fill and the
// server's heap to grow to its working size.
const warmup = 2 * time.Second

// benchPassword is every benchmark user's password (plus a suffix): long
// enough for the policy, on no blocklist.
const benchPassword = "quiet lantern over the harbour"

// usersToCreate is enough accounts to spread sign-ins over, so no single
// account's row in the throttle table is a hot spot.
const usersToCreate = 8

// bench is one run of the driver: its options, the stack it measures and
// the rows it has produced so far.
type bench struct {
	opts    options
	log     *progress
	machine machine
	rows    []row

	st    *stack
	pool  *addrPool
	users []user
	// hashCap is how many argon2id hashes the server runs at once: one per
	// core (cmd/pinhole/userpool.go), and this process sees the same cores.
	hashCap int
	idleRSS int64
	// signInPeakRSS is the server's peak while sign-ins ran within the
	// hasher's admission limit, to compare with the flood's.
	signInPeakRSS int64
}

// run measures everything it can. Only a stack that will not start is an
// error; a phase that fails becomes "not measured" rows and the run goes on.
func (b *bench) run(ctx context.Context) error {
	if err := checkLoopbackRange(); err != nil {
		return err
	}
	b.pool = &addrPool{}
	b.hashCap = runtime.GOMAXPROCS(0)

	var goRes goBenchResults
	var goErr error
	if b.opts.goBench {
		b.log.phase("in-process Go benchmarks (-benchtime %s)", b.opts.benchTime)
		root, err := moduleRoot(ctx)
		if err != nil {
			return err
		}
		goRes, goErr = runGoBenchmarks(ctx, root, b.opts.benchTime, b.log.raw())
	}

	b.log.phase("starting the stack")
	st, err := startStack(ctx, b.log, b.opts.binary)
	if err != nil {
		return fmt.Errorf("start the stack: %w", err)
	}
	defer st.Close()
	b.st = st

	for _, p := range b.phases() {
		if p.key != "users" && !b.opts.wants(p.key) {
			continue
		}
		if st.app.exited() {
			return fmt.Errorf("pinhole serve died before phase %q; its log:\n%s", p.name, st.app.logTail(30))
		}
		b.log.phase("%s", p.name)
		start := time.Now()
		rows := p.run(ctx)
		b.rows = append(b.rows, rows...)
		for _, r := range rows {
			b.log.step("%s: %s", r.Metric, r.Pinhole)
		}
		b.log.step("(%s)", time.Since(start).Round(100*time.Millisecond))
		if p.key == "users" && len(b.users) == 0 {
			return fmt.Errorf("cannot go on without users: %s", rows[0].Pinhole)
		}
	}
	b.rows = append(b.rows, b.goBenchRows(goRes, goErr)...)
	return nil
}

// phase is one measurement of the load driver.
type phase struct {
	key  string // for -only
	name string
	run  func(context.Context) []row
}

// phases lists the load phases in the order they run. The flood comes last:
// it leaves the server's heap at its largest.
func (b *bench) phases() []phase {
	return []phase{
		{"idle", "idle memory", b.idleMemory},
		{"users", "users", b.createUsers},
		{"signin", "sign-in throughput vs argon2id", b.signInThroughput},
		{"enumeration", "unknown user vs wrong password", b.enumerationTiming},
		{"refresh", "token refresh", b.refreshThroughput},
		{"auth", "authenticated request overhead", b.authOverhead},
		{"vend", "credential vend", b.credentialVend},
		{"upload", "photo upload", b.upload},
		{"flood", "sign-in flood", b.signInFlood},
	}
}

// checkOnly refuses -only names that are not phases, so a typo does not
// silently measure nothing.
func (b *bench) checkOnly() error {
	known := map[string]bool{}
	for _, p := range b.phases() {
		known[p.key] = true
	}
	for k := range b.opts.only {
		if !known[k] || k == "users" {
			return fmt.Errorf("-only: unknown phase %q", k)
		}
	}
	return nil
}

// reason turns a phase's error into the text of a "not measured" row.
func reason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "the run's time budget (-budget) ran out"
	}
	return err.Error()
}

// closeAll closes every agent of a phase.
func closeAll(agents []*agent) {
	for _, a := range agents {
		a.Close()
	}
}

// progress prints what the driver is doing to stderr, so a long run is not
// silent; details only with -v.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
	start   time.Time
}

func newProgress(w io.Writer, verbose bool) *progress {
	return &progress{w: w, verbose: verbose, start: time.Now()}
}

func (p *progress) printf(prefix, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "[%5.1fs] %s%s\n", time.Since(p.start).Seconds(), prefix, fmt.Sprintf(format, args...))
}

// phase announces a phase.
func (p *progress) phase(format string, args ...any) { p.printf("== ", format, args...) }

// step announces a step inside a phase.
func (p *progress) step(format string, args ...any) { p.printf("   ", format, args...) }

// detail prints a diagnostic (CPU per operation, per-round timings), with -v.
func (p *progress) detail(format string, args ...any) {
	if p.verbose {
		p.printf("   . ", format, args...)
	}
}

// raw is where subprocess output (go test's) goes: straight to the terminal.
func (p *progress) raw() io.Writer { return p.w }
