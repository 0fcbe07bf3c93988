// Package fakeclock is a clock for tests that moves only when told to.
// Expiry, token lifetimes, grace windows and cache freshness are tested by
// advancing it, never by sleeping: such tests run in microseconds and cannot
// fail because a machine was slow.
//
// Code under test takes a func() time.Time (the Now field of its Config);
// tests pass a Clock's Now method.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a fake clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a Clock that reads start until it is advanced.
func New(start time.Time) *Clock {
	return &Clock{now: start}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
