package fakeclock

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	c := New(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %v, want the start %v", got, start)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Minute) })
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(10*time.Minute); !got.Equal(want) {
		t.Errorf("after ten concurrent one-minute advances Now() = %v, want %v", got, want)
	}
	c.Advance(-time.Hour)
	if got, want := c.Now(), start.Add(-50*time.Minute); !got.Equal(want) {
		t.Errorf("after going back an hour Now() = %v, want %v", got, want)
	}
}
