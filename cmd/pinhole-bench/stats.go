package main

import (
	"context"
	"errors"
	"maps"
	"math"
	"net"
	"slices"
	"sync"
	"time"
)

// summary describes a set of latencies.
type summary struct {
	N        int
	P50, P99 time.Duration
	Mean     time.Duration
}

// summarize sorts nothing in place: ds may be shared.
func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	var total time.Duration
	for _, d := range sorted {
		total += d
	}
	return summary{
		N:    len(sorted),
		P50:  percentile(sorted, 0.50),
		P99:  percentile(sorted, 0.99),
		Mean: total / time.Duration(len(sorted)),
	}
}

// percentile is the nearest-rank percentile of sorted (0 < q <= 1): the
// smallest value that at least q of the samples do not exceed. With fewer
// than 100 samples p99 is simply the maximum, which is the honest answer.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// outcome labels one operation of a load phase: okOutcome when it did what
// was asked, anything else is counted under its label ("429 busy", "timeout").
type outcome string

const okOutcome outcome = ""

// loadResult is what a closed-loop phase measured inside its window.
type loadResult struct {
	Workers int
	Window  time.Duration
	// OK counts successful operations that started inside the window;
	// Latency holds their latencies.
	OK      int
	Latency []time.Duration
	// Other counts every other outcome inside the window, by label.
	Other map[string]int
	// Total counts every operation, warm-up included, for dividing
	// resources used over the whole phase (CPU time) per operation.
	Total int
}

// Rate is successful operations per second.
func (r loadResult) Rate() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.OK) / r.Window.Seconds()
}

// Failures is the number of operations that did not succeed.
func (r loadResult) Failures() int {
	n := 0
	for _, c := range r.Other {
		n += c
	}
	return n
}

// closedLoop runs workers that each repeat op back to back (a closed loop: a
// client sends its next request only once the last one was answered, as
// real clients do) for warmup+window, and keeps the operations that started
// inside the window. Those still running when it closes are waited for and
// counted, so that a request that times out late is never lost; in a steady
// state as many operations straddle the opening of the window as its close,
// so the rate is unbiased. op receives its worker's index, so it can keep
// per-worker state (a client, a token chain) in a slice.
func closedLoop(ctx context.Context, workers int, warmup, window time.Duration, op func(ctx context.Context, worker int) (outcome, time.Duration)) loadResult {
	start := time.Now()
	from, until := start.Add(warmup), start.Add(warmup+window)
	type tally struct {
		total int
		ok    int
		lat   []time.Duration
		other map[string]int
	}
	tallies := make([]tally, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			t := &tallies[w]
			t.other = map[string]int{}
			for ctx.Err() == nil && time.Now().Before(until) {
				began := time.Now()
				out, lat := op(ctx, w)
				t.total++
				if began.Before(from) {
					continue
				}
				if out == okOutcome {
					t.ok++
					t.lat = append(t.lat, lat)
				} else {
					t.other[string(out)]++
				}
			}
		})
	}
	wg.Wait()
	res := loadResult{Workers: workers, Window: window, Other: map[string]int{}}
	for _, t := range tallies {
		res.OK += t.ok
		res.Total += t.total
		res.Latency = append(res.Latency, t.lat...)
		for k, v := range t.other {
			res.Other[k] += v
		}
	}
	return res
}

// merge adds o's counts, window and latencies to r's, for a measurement
// made in several slices.
func (r loadResult) merge(o loadResult) loadResult {
	out := loadResult{
		Workers: max(r.Workers, o.Workers),
		Window:  r.Window + o.Window,
		OK:      r.OK + o.OK,
		Total:   r.Total + o.Total,
		Latency: append(slices.Clone(r.Latency), o.Latency...),
		Other:   map[string]int{},
	}
	for _, m := range []map[string]int{r.Other, o.Other} {
		for k, v := range m {
			out.Other[k] += v
		}
	}
	return out
}

// labels lists the outcome labels of r in a stable order.
func (r loadResult) labels() []string {
	return slices.Sorted(maps.Keys(r.Other))
}

// isTimeout reports whether err is a client-side timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
