package storage

import (
	"testing"
	"time"
)

// These tests drive the cache alone, with explicit times; the broker tests
// check the same behaviour end to end against MinIO.

var (
	t0     = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	subA   = "3f0c2a9e-5b7d-4c1e-8a6f-0d9b2e4c7a11"
	subB   = "8e2d4b6f-1a3c-4e5f-9b7d-2c4e6a8f0b13"
	credsA = Credentials{AccessKeyID: "A", Prefix: "users/" + subA + "/"}
	credsB = Credentials{AccessKeyID: "B", Prefix: "users/" + subB + "/"}
)

func TestCredCacheFreshness(t *testing.T) {
	t.Parallel()
	c := newCredCache(10)
	c.put("sid", cacheEntry{sub: subA, creds: credsA, refreshAt: t0.Add(time.Minute)}, c.generation(), t0)

	tests := []struct {
		name string
		sub  string
		at   time.Time
		want bool
	}{
		{"fresh", subA, t0, true},
		{"just before refresh", subA, t0.Add(time.Minute - time.Nanosecond), true},
		{"other user under the same key", subB, t0, false},
		{"at refresh", subA, t0.Add(time.Minute), false},
	}
	for _, tt := range tests { // in order: the last row evicts the entry
		got, ok := c.get("sid", tt.sub, tt.at)
		if ok != tt.want {
			t.Errorf("%s: get() ok = %v, want %v", tt.name, ok, tt.want)
		}
		if ok && got != credsA {
			t.Errorf("%s: get() = %+v, want %+v", tt.name, got, credsA)
		}
	}
	if n := c.len(); n != 0 {
		t.Errorf("len() after reading a stale entry = %d, want 0 (stale entries are dropped when met)", n)
	}
}

func TestCredCacheForget(t *testing.T) {
	t.Parallel()
	c := newCredCache(10)
	entry := cacheEntry{sub: subA, creds: credsA, refreshAt: t0.Add(time.Hour)}
	c.put("sid", entry, c.generation(), t0)
	c.forget("sid")
	if _, ok := c.get("sid", subA, t0); ok {
		t.Error("get() after forget() hit, want a miss")
	}

	// A vend that started before a forget must not re-cache its result:
	// the session may be the one just revoked.
	gen := c.generation()
	c.forget("sid")
	c.put("sid", entry, gen, t0)
	if _, ok := c.get("sid", subA, t0); ok {
		t.Error("put() with a generation older than the last forget() was kept, want it dropped")
	}
}

func TestCredCacheBounded(t *testing.T) {
	t.Parallel()
	c := newCredCache(3)
	c.put("stale", cacheEntry{sub: subA, creds: credsA, refreshAt: t0}, c.generation(), t0)
	c.put("fresh1", cacheEntry{sub: subA, creds: credsA, refreshAt: t0.Add(time.Hour)}, c.generation(), t0)
	c.put("fresh2", cacheEntry{sub: subB, creds: credsB, refreshAt: t0.Add(time.Hour)}, c.generation(), t0)

	// Full: the stale entry makes room, the fresh ones survive.
	c.put("new", cacheEntry{sub: subB, creds: credsB, refreshAt: t0.Add(time.Hour)}, c.generation(), t0.Add(time.Second))
	for _, key := range []string{"fresh1", "fresh2", "new"} {
		if _, ok := c.entries[key]; !ok {
			t.Errorf("entry %q was evicted, want only the stale one gone", key)
		}
	}
	if _, ok := c.entries["stale"]; ok {
		t.Error("stale entry survived eviction")
	}

	// Full of fresh entries: one of them goes, the size stays at the limit.
	c.put("newer", cacheEntry{sub: subA, creds: credsA, refreshAt: t0.Add(time.Hour)}, c.generation(), t0.Add(time.Second))
	if n := c.len(); n != 3 {
		t.Errorf("len() = %d, want 3 (the limit)", n)
	}
	if _, ok := c.entries["newer"]; !ok {
		t.Error("the entry just put was not kept")
	}

	// Replacing an existing key never evicts anything.
	c.put("newer", cacheEntry{sub: subA, creds: credsA, refreshAt: t0.Add(2 * time.Hour)}, c.generation(), t0.Add(time.Second))
	if n := c.len(); n != 3 {
		t.Errorf("len() after replacing a key = %d, want 3", n)
	}
}
