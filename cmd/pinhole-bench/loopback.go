package main

import (
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Pinhole limits sign-ins per client address (100 per 5 minutes) and keeps
// that limit out of the environment on purpose: a knob to loosen it would
// be one more thing to get wrong in production. A load test from one
// address would hit it within seconds. Real load comes from many addresses,
// so the driver does the same: each simulated client binds its connections
// to its own source address in 127.0.0.0/8, all of which is loopback on
// Linux, and moves to a fresh one before it could reach a per-IP limit. The
// server sees exactly what it would see from many users; nothing in it is
// switched off.

// addrPool hands out distinct loopback source addresses from 127.77.0.0/16,
// well away from 127.0.0.1 where other local services live.
type addrPool struct{ n atomic.Uint32 }

// next returns an address no other client of this pool has had.
func (p *addrPool) next() net.IP {
	for {
		n := p.n.Add(1)
		// Skip .0 and .255: harmless on loopback, but they look like
		// network and broadcast addresses in logs.
		if lo := byte(n); lo != 0 && lo != 255 {
			return net.IPv4(127, 77, byte(n>>8), lo)
		}
	}
}

// checkLoopbackRange fails early, with a clear reason, where 127.0.0.0/8 is
// not all loopback (macOS configures only 127.0.0.1 by default).
func checkLoopbackRange() error {
	ln, err := net.Listen("tcp", "127.77.0.1:0")
	if err != nil {
		return fmt.Errorf("cannot bind 127.77.0.1 (%w): the driver needs all of 127.0.0.0/8 on loopback, as Linux has it, to simulate clients at distinct addresses", err)
	}
	return ln.Close()
}

// newHTTPClient returns a client whose connections leave from src. Keep-alive
// stays on, so a client reuses its connection like a browser does.
func newHTTPClient(src net.IP, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
		// The API answers JSON; a redirect would be a bug worth seeing.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// agent is one simulated client: an HTTP client at one loopback address
// that moves to a fresh address after perAddr requests (0 = never). It is
// not safe for concurrent use; give each worker its own.
type agent struct {
	pool    *addrPool
	perAddr int
	timeout time.Duration

	client *http.Client
	used   int
}

// sign-in budget per address: under the server's 100 per 5 minutes, with
// room for the odd extra request.
const signInsPerAddr = 90

func newAgent(pool *addrPool, perAddr int, timeout time.Duration) *agent {
	return &agent{pool: pool, perAddr: perAddr, timeout: timeout}
}

// Do sends req from the agent's current address.
func (a *agent) Do(req *http.Request) (*http.Response, error) {
	if a.client == nil || (a.perAddr > 0 && a.used >= a.perAddr) {
		a.Close()
		a.client = newHTTPClient(a.pool.next(), a.timeout)
		a.used = 0
	}
	a.used++
	return a.client.Do(req)
}

// Close drops the agent's idle connections.
func (a *agent) Close() {
	if a.client != nil {
		a.client.CloseIdleConnections()
	}
}
