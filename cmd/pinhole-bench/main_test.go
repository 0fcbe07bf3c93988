package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests cover the driver's pure parts. The driver itself is a
// benchmark: it runs under `make bench`, never under `make test`.

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of odd", ms(1, 2, 3, 4, 5), 0.5, 3 * time.Millisecond},
		{"median of even is the lower", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of few is the max", ms(1, 2, 3, 4, 100), 0.99, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.q); got != tt.want {
			t.Errorf("%s: percentile(%v, %v) = %v, want %v", tt.name, tt.sorted, tt.q, got, tt.want)
		}
	}
}

func TestSummarizeDoesNotReorderItsInput(t *testing.T) {
	t.Parallel()
	in := []time.Duration{3, 1, 2}
	s := summarize(in)
	if s.N != 3 || s.P50 != 2 || s.P99 != 3 || s.Mean != 2 {
		t.Errorf("summarize(%v) = %+v, want N 3, p50 2, p99 3, mean 2", in, s)
	}
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("summarize reordered its input: %v", in)
	}
}

// TestClosedLoopCountsOnlyTheWindow: operations started during the warm-up
// are left out, every operation started in the window is counted, and
// Total counts them all.
func TestClosedLoopCountsOnlyTheWindow(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	res := closedLoop(context.Background(), 2, 30*time.Millisecond, 60*time.Millisecond, func(context.Context, int) (outcome, time.Duration) {
		n := calls.Add(1)
		time.Sleep(5 * time.Millisecond)
		if n%3 == 0 {
			return "429 busy", 5 * time.Millisecond
		}
		return okOutcome, 5 * time.Millisecond
	})
	if res.Total != int(calls.Load()) {
		t.Errorf("Total = %d, want every call (%d)", res.Total, calls.Load())
	}
	inWindow := res.OK + res.Failures()
	if inWindow == 0 || inWindow >= res.Total {
		t.Errorf("%d of %d operations counted in the window, want some but not the warm-up's", inWindow, res.Total)
	}
	if len(res.Latency) != res.OK {
		t.Errorf("%d latencies for %d successes", len(res.Latency), res.OK)
	}
	if res.Other["429 busy"] == 0 {
		t.Errorf("Other = %v, want the 429s counted by label", res.Other)
	}
	if res.Window != 60*time.Millisecond {
		t.Errorf("Window = %v, want 60ms", res.Window)
	}
}

func TestLoadResultMerge(t *testing.T) {
	t.Parallel()
	a := loadResult{Window: time.Second, OK: 10, Total: 12, Latency: []time.Duration{1}, Other: map[string]int{"timeout": 1}}
	b := loadResult{Window: 2 * time.Second, OK: 20, Total: 21, Latency: []time.Duration{2, 3}, Other: map[string]int{"timeout": 2, "500": 1}}
	m := loadResult{}.merge(a).merge(b)
	if m.Window != 3*time.Second || m.OK != 30 || m.Total != 33 || len(m.Latency) != 3 {
		t.Errorf("merge = %+v, want window 3s, 30 ok, 33 total, 3 latencies", m)
	}
	if m.Other["timeout"] != 3 || m.Other["500"] != 1 {
		t.Errorf("merged Other = %v, want timeout 3, 500 1", m.Other)
	}
	if got := m.Rate(); got != 10 {
		t.Errorf("Rate() = %v, want 10/s", got)
	}
	if a.Other["500"] != 0 {
		t.Error("merge changed its argument's map")
	}
}

func TestParseGoBench(t *testing.T) {
	t.Parallel()
	out := `goos: linux
pkg: github.com/pinhole/pinhole/app
BenchmarkAuthenticate/postgres-2         	   10000	    329917 ns/op	   11714 B/op	     175 allocs/op
BenchmarkVendCached-2         	 1782212	      1215 ns/op	       486.0 p50-ns	      1132 p99-ns	      93 B/op	       1 allocs/op
BenchmarkSignIn/wrong_password           	     100	  25912507 ns/op	        38.59 signins/s
--- FAIL: BenchmarkBroken
PASS
`
	got := parseGoBench(strings.NewReader(out))
	if len(got) != 3 {
		t.Fatalf("parsed %d results, want 3: %v", len(got), got)
	}
	auth, ok := got.get("BenchmarkAuthenticate/postgres")
	if !ok || auth.N != 10000 || auth.NsPerOp != 329917 || auth.Metrics["allocs/op"] != 175 {
		t.Errorf("Authenticate/postgres = %+v, %v", auth, ok)
	}
	if v := got["BenchmarkVendCached"]; v.Metrics["p99-ns"] != 1132 || v.Metrics["p50-ns"] != 486 {
		t.Errorf("VendCached metrics = %v, want p50-ns 486, p99-ns 1132", v.Metrics)
	}
	// No -GOMAXPROCS suffix (GOMAXPROCS=1), and a name with an underscore.
	if v, ok := got.get("BenchmarkSignIn/wrong_password"); !ok || v.Metrics["signins/s"] != 38.59 {
		t.Errorf("SignIn/wrong_password = %+v, %v", v, ok)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    reply
		err  error
		want outcome
	}{
		{reply{Status: http.StatusOK}, nil, okOutcome},
		{reply{Status: http.StatusTooManyRequests, Code: "busy"}, nil, "429 busy"},
		{reply{Status: http.StatusBadGateway}, nil, "502"},
		{reply{}, context.DeadlineExceeded, "timeout"},
		{reply{}, http.ErrServerClosed, "transport error"},
	}
	for _, tt := range tests {
		if got := classify(tt.r, tt.err, http.StatusOK); got != tt.want {
			t.Errorf("classify(%d %q, %v) = %q, want %q", tt.r.Status, tt.r.Code, tt.err, got, tt.want)
		}
	}
}

func TestForgeSignatureChangesOnlyTheSignature(t *testing.T) {
	t.Parallel()
	token := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	forged := forgeSignature(token)
	if forged == token || len(forged) != len(token) {
		t.Fatalf("forgeSignature(%q) = %q, want a different token of the same length", token, forged)
	}
	cut := strings.LastIndexByte(token, '.')
	if forged[:cut] != token[:cut] {
		t.Errorf("forgeSignature changed the header or payload: %q", forged)
	}
}

func TestAddrPoolSkipsNetworkAndBroadcastLookalikes(t *testing.T) {
	t.Parallel()
	var p addrPool
	seen := map[string]bool{}
	for range 600 {
		ip := p.next().To4()
		if ip[0] != 127 || ip[3] == 0 || ip[3] == 255 {
			t.Fatalf("next() = %v, want 127.77.x.y with y in 1..254", ip)
		}
		if seen[ip.String()] {
			t.Fatalf("next() handed out %v twice", ip)
		}
		seen[ip.String()] = true
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	o, err := parseOptions([]string{"-only", "refresh, auth", "-window", "5s"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !o.wants("refresh") || !o.wants("auth") || o.wants("flood") || o.window != 5*time.Second {
		t.Errorf("parseOptions = %+v, want refresh and auth only, a 5s window", o)
	}
	if !(options{}).wants("flood") {
		t.Error("without -only every phase should run")
	}
	for _, bad := range [][]string{{"-window", "1s"}, {"extra"}} {
		if _, err := parseOptions(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("parseOptions(%q) = nil error, want one", bad)
		}
	}
	b := &bench{opts: options{only: map[string]bool{"refersh": true}}}
	if err := b.checkOnly(); err == nil {
		t.Error("checkOnly accepted a misspelt phase")
	}
}

func TestMarkdownReport(t *testing.T) {
	t.Parallel()
	rows := []row{
		{Group: groupServer, Metric: "Sign-in throughput", Pinhole: "50 /s", Baseline: "55 /s", Ratio: "0.91",
			Target: "≥ 0.90", Verdict: verdictMet, Note: "how | why"},
		row{Group: groupServer, Metric: "Refresh", Pinhole: "900/s", Target: "≥ 1,000/s", Verdict: verdictMissed, Note: "n"}.ifMissed("round trips"),
		row{Group: groupServer, Metric: "Met", Pinhole: "a|b", Verdict: verdictMet, Note: "n"}.ifMissed("never shown"),
		notMeasured(groupInProcess, "Token signing", "—", "skipped"),
	}
	var buf bytes.Buffer
	m := machine{Cores: 2, CPU: "test CPU", Date: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	if err := writeMarkdown(&buf, m, rows); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"| metric | Pinhole | baseline | ratio | target | met? | machine | date |",
		"| Sign-in throughput | 50 /s | 55 /s | 0.91 | ≥ 0.90 | yes | 2 cores | 2026-11-27 |",
		"| Refresh | 900/s | — | — | ≥ 1,000/s | NO |",
		"| Token signing | not measured: skipped |",
		"- **Sign-in throughput.** how | why",
		`| Met | a\|b |`,
		"**What remains:** round trips",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "never shown") {
		t.Error("a met target's note carries its what-remains text")
	}
	if strings.Index(md, "Real server") > strings.Index(md, "In process") {
		t.Error("groups out of order")
	}
}
