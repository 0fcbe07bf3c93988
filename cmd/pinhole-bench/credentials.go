package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pinhole/pinhole/storage"
)

// The identity pool's rows: what a credential vend costs, cached and not,
// and how often MinIO's STS was really asked.

const (
	metricVendCached   = "Credential vend, cached p50 / p99"
	metricVendUncached = "Credential vend, uncached p50 / p99"
	metricSTSCalls     = "STS calls MinIO received"
)

const (
	vendSessions     = 20 // sessions, each vending once uncached
	vendCachedRounds = 25 // cached vends per session afterwards
)

// errNotServed marks an endpoint the server does not have (yet).
var errNotServed = errors.New("not served")

// credentialVend measures POST /api/credentials: the first call of a
// session reaches MinIO STS, later calls come from the broker's cache.
func (b *bench) credentialVend(ctx context.Context) []row {
	const (
		targetCached   = "p99 < 2 ms"
		targetUncached = "p50 ≤ STS + 1 ms"
		targetSTS      = "1 per session"
	)
	fail := func(err error) []row {
		return []row{
			notMeasured(groupServer, metricVendCached, targetCached, reason(err)),
			notMeasured(groupServer, metricVendUncached, targetUncached, reason(err)),
			notMeasured(groupServer, metricSTSCalls, targetSTS, reason(err)),
		}
	}
	stsDir := filepath.Join(b.st.minio.DataDir, ".minio.sys", "config", "iam", "sts")
	stsBefore, err := countEntries(stsDir)
	if err != nil {
		return fail(err)
	}

	// Sessions are made from addresses that rotate under the sign-in limit;
	// the vends all go over one kept-alive connection, so no reconnection
	// lands in the percentiles.
	signer := newAgent(b.pool, signInsPerAddr, 10*time.Second)
	defer signer.Close()
	h := newAgent(b.pool, 0, 10*time.Second)
	defer h.Close()
	sessions := make([]tokenSet, vendSessions)
	for i := range sessions {
		if sessions[i], err = b.st.api.signIn(ctx, signer, b.users[i%len(b.users)]); err != nil {
			return fail(err)
		}
	}
	vend := func(t tokenSet) (time.Duration, error) {
		r, err := b.st.api.call(ctx, h, http.MethodPost, "/api/credentials", nil, t.AccessToken)
		if err != nil {
			return 0, err
		}
		if r.Status == http.StatusNotFound || r.Status == http.StatusMethodNotAllowed {
			return 0, fmt.Errorf("POST /api/credentials is %w by this build (%d): the identity pool's endpoint is not wired yet", errNotServed, r.Status)
		}
		return r.Latency, r.expect("POST /api/credentials", http.StatusOK)
	}

	// The baseline: the same AssumeRole, same identity and same session
	// policy, made directly with minio-go from this process, alternating
	// with the uncached vends so both see the same machine.
	sts, err := b.newDirectSTS(b.users[0].Sub)
	if err != nil {
		return fail(fmt.Errorf("direct STS baseline: %w", err))
	}
	defer sts.close()
	if _, err := sts.call(ctx); err != nil { // warm-up: connection and MinIO's IAM
		return fail(fmt.Errorf("direct STS baseline: %w", err))
	}
	var uncached, cached, direct []time.Duration
	for _, t := range sessions {
		lat, err := vend(t)
		if err != nil {
			return fail(err)
		}
		uncached = append(uncached, lat)
		if lat, err = sts.call(ctx); err != nil {
			return fail(fmt.Errorf("direct STS baseline: %w", err))
		}
		direct = append(direct, lat)
	}
	for range vendCachedRounds {
		for _, t := range sessions {
			lat, err := vend(t)
			if err != nil {
				return fail(err)
			}
			cached = append(cached, lat)
		}
	}
	stsAfter, err := countEntries(stsDir)
	if err != nil {
		return fail(err)
	}
	// Every AssumeRole leaves one entry, the driver's own included.
	stsCalls, vends := stsAfter-stsBefore-sts.calls, len(uncached)+len(cached)

	c, u, d := summarize(cached), summarize(uncached), summarize(direct)
	extra := u.P50 - d.P50
	return []row{
		row{
			Group: groupServer, Metric: metricVendCached,
			Pinhole: ms(c.P50) + " / " + ms(c.P99), Baseline: "—", Ratio: "—",
			Target: targetCached, Verdict: check(c.P99 < 2*time.Millisecond),
			Note: fmt.Sprintf("%d sequential vends: %d rounds over %d signed-in sessions after each had vended once. "+
				"A cached vend is the request's authentication (JWT + session lookup), a map lookup, an audit row and the "+
				"JSON answer.", c.N, vendCachedRounds, vendSessions),
		}.ifMissed("the broker's cache answers in about a microsecond (in-process row); the rest is the request's " +
			"authentication (see the overhead row) and the audit row every vend writes. gorm's implicit BEGIN/COMMIT " +
			"around that row is already off (SkipDefaultTransaction took 15–25% off the p50 in A/B runs); the p99 is " +
			"where a shared machine's noise shows first."),
		row{
			Group: groupServer, Metric: metricVendUncached,
			Pinhole:  ms(u.P50) + " / " + ms(u.P99),
			Baseline: "STS AssumeRole " + ms(d.P50) + " / " + ms(d.P99),
			Ratio:    signedMs(extra) + " (p50)", Target: targetUncached,
			Verdict: check(extra <= time.Millisecond),
			Note: fmt.Sprintf("The first vend of each of %d sessions, one at a time, each followed by the baseline: the same "+
				"AssumeRole made by the driver with minio-go (`credentials.NewSTSAssumeRole`), the app's MinIO identity and the "+
				"same session policy (`storage.SessionPolicy`), on a kept-alive connection as the broker's. The difference is "+
				"the app's own cost: HTTP, authentication, the audit row, the policy and the cache.", vendSessions),
		}.ifMissed(fmt.Sprintf("an uncached vend pays everything a cached one does (%s at the median, previous row) on "+
			"top of the STS call; the broker's own addition to the call is small (in-process rows). What remains is the "+
			"same work as for the cached row: authentication's session round trip and the audit row.", ms(c.P50))),
		{
			Group: groupServer, Metric: metricSTSCalls,
			Pinhole: fmt.Sprintf("%d for %d vends", stsCalls, vends), Baseline: fmt.Sprintf("%d sessions", vendSessions), Ratio: "—",
			Target: targetSTS, Verdict: check(stsCalls == vendSessions),
			Note: "Counted on MinIO's side: each AssumeRole stores one temporary identity under " +
				"`.minio.sys/config/iam/sts/<access key>/` in its data directory, so the number of new entries there during the " +
				"vends, less the driver's own baseline calls, is the number of STS calls MinIO served for the app.",
		},
	}
}

// directSTS makes the baseline AssumeRole calls and counts them.
type directSTS struct {
	endpoint, accessKey, secretKey string
	policy                         string
	client                         *http.Client
	calls                          int
}

func (b *bench) newDirectSTS(sub string) (*directSTS, error) {
	policy, err := storage.SessionPolicy(b.st.bucket, sub)
	if err != nil {
		return nil, err
	}
	return &directSTS{
		endpoint: b.st.minio.Endpoint, accessKey: b.st.minio.RootUser, secretKey: b.st.minio.RootPassword,
		policy: string(policy),
		client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}, nil
}

// call makes one AssumeRole and returns how long it took.
func (d *directSTS) call(ctx context.Context) (time.Duration, error) {
	sts, err := credentials.NewSTSAssumeRole(d.endpoint, credentials.STSAssumeRoleOptions{
		AccessKey:       d.accessKey,
		SecretKey:       d.secretKey,
		Policy:          d.policy,
		DurationSeconds: int(storage.DefaultCredentialDuration / time.Second),
		Location:        "us-east-1",
	})
	if err != nil {
		return 0, err
	}
	d.calls++
	start := time.Now()
	_, err = sts.GetWithContext(&credentials.CredContext{Client: d.client, Context: ctx})
	return time.Since(start), err
}

func (d *directSTS) close() { d.client.CloseIdleConnections() }

// countEntries counts the entries of dir; a missing dir has none.
func countEntries(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	return len(entries), err
}
