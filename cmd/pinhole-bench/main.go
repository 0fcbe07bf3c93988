// Command pinhole-bench measures Pinhole against the quality targets of SPEC
// §5 and writes the report docs/BENCHMARKS.md. `make bench` runs it.
//
// Machines here are noisy, so every figure that has a target is set beside a
// baseline measured in the same run on the same machine: sign-in throughput
// beside pure argon2id hashing, an uploaded photo beside a direct S3 PUT, a
// credential vend beside a bare STS call. The ratio is what the targets are
// about; absolute numbers are for context.
//
// The run has two parts:
//
//  1. In-process Go benchmarks (go test -bench) of the hot paths: token
//     signing and verification, the auth middleware, the session-policy
//     builder, credential vends. They run first, before this command starts
//     any service, so they have the machine to themselves.
//  2. A load driver against the real thing: the pinhole binary is built and
//     run as a child process (`pinhole serve`, so its memory is its own)
//     against a throwaway PostgreSQL, MinIO and Mailpit started with
//     internal/devstack. Users are created through the public API, reading
//     the confirmation codes from Mailpit, exactly as a person would.
//
// Everything listens on loopback, every phase is bounded in requests and
// time, and the whole run stops by itself (see -budget). The driver is
// Linux-only: it reads the server's memory from /proc and gives each
// simulated client its own loopback address (see loopback.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pinhole-bench: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	out       string          // where the Markdown report goes; empty = nowhere
	goBench   bool            // run the in-process Go benchmarks
	benchTime string          // go test -benchtime for them
	browser   bool            // measure the browser upload path with Chromium
	window    time.Duration   // measurement window of each throughput phase
	budget    time.Duration   // the whole run, builds included
	verbose   bool            // progress details on stderr
	only      map[string]bool // run only these load phases; empty = all
	binary    string          // a prebuilt pinhole binary to measure; empty = build ./cmd/pinhole
}

// wants reports whether the load phase called key should run.
func (o options) wants(key string) bool { return len(o.only) == 0 || o.only[key] }

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("pinhole-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "out", "docs/BENCHMARKS.md", "write the Markdown report here (empty: print only; never with -only)")
	fs.BoolVar(&o.goBench, "gobench", true, "run the in-process Go benchmarks first")
	fs.StringVar(&o.benchTime, "benchtime", "2s", "go test -benchtime for the in-process benchmarks")
	fs.BoolVar(&o.browser, "browser", true, "measure the browser upload path in headless Chromium")
	fs.DurationVar(&o.window, "window", 20*time.Second, "measurement window of each throughput phase")
	fs.DurationVar(&o.budget, "budget", 9*time.Minute, "stop measuring after this long and report what was measured")
	fs.BoolVar(&o.verbose, "v", false, "print diagnostics as the run goes (CPU per operation, per-round timings)")
	fs.StringVar(&o.binary, "binary", "", "measure this pinhole binary instead of building ./cmd/pinhole (to compare two builds)")
	only := fs.String("only", "", "run only these load phases, comma-separated: idle, signin, enumeration, refresh, auth, vend, upload, flood")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *only != "" {
		o.only = map[string]bool{}
		for _, k := range strings.Split(*only, ",") {
			o.only[strings.TrimSpace(k)] = true
		}
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.window < 2*time.Second || o.window > time.Minute {
		return o, fmt.Errorf("-window must be between 2s and 1m, got %s", o.window)
	}
	return o, nil
}

// run is the whole command with its outputs passed in.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	started := time.Now()
	interrupted := ctx
	ctx, cancel := context.WithTimeout(ctx, o.budget)
	defer cancel()

	b := &bench{opts: o, log: newProgress(stderr, o.verbose)}
	if err := b.checkOnly(); err != nil {
		return err
	}
	b.machine = describeMachine()
	if err := b.run(ctx); err != nil {
		return err
	}
	b.machine.finish(time.Since(started))

	printTable(stdout, b.machine, b.rows)
	switch {
	case interrupted.Err() != nil:
		// An interrupted run is mostly "not measured": keep the last report.
		return errors.New("interrupted; the report was not written")
	case o.out == "":
		return nil
	case len(o.only) > 0:
		fmt.Fprintf(stdout, "\n-only runs part of the benchmark: %s was left as it was\n", o.out)
		return nil
	}
	f, err := os.Create(o.out)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := writeMarkdown(f, b.machine, b.rows); err != nil {
		f.Close()
		return fmt.Errorf("write report %s: %w", o.out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", o.out, err)
	}
	fmt.Fprintf(stdout, "\nreport written to %s\n", o.out)
	return nil
}
