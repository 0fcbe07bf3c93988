package gormstore_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/identity/token"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

func TestKeyStore(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		mustKeys := func(want []token.Key) {
			t.Helper()
			got, err := s.Keys(ctx)
			if err != nil {
				t.Fatalf("Keys: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Keys:\ngot  %+v\nwant %+v", got, want)
			}
		}
		mustKeys([]token.Key{})

		// Added newest first; Keys lists oldest first.
		newer := token.Key{ID: "kid-newer", PrivateDER: []byte("der-2"), CreatedAt: t0.Add(time.Second)}
		older := token.Key{ID: "kid-older", PrivateDER: []byte("der-1"), CreatedAt: t0}
		for _, k := range []token.Key{newer, older} {
			if err := s.AddKey(ctx, k); err != nil {
				t.Fatalf("AddKey(%s): %v", k.ID, err)
			}
		}
		if err := s.AddKey(ctx, older); err == nil {
			t.Error("AddKey with an existing id succeeded, want an error")
		}
		olderStored := older
		olderStored.CreatedAt = stored(older.CreatedAt)
		newerStored := newer
		newerStored.CreatedAt = stored(newer.CreatedAt)
		mustKeys([]token.Key{olderStored, newerStored})

		// The first retirement counts.
		retired := t0.Add(time.Hour)
		if err := s.RetireKey(ctx, older.ID, retired); err != nil {
			t.Fatalf("RetireKey: %v", err)
		}
		if err := s.RetireKey(ctx, older.ID, retired.Add(time.Hour)); err != nil {
			t.Fatalf("second RetireKey: %v", err)
		}
		olderStored.RetiredAt = ptr(stored(retired))
		mustKeys([]token.Key{olderStored, newerStored})
		wantNotFound(t, "RetireKey(unknown)", s.RetireKey(ctx, "kid-unknown", retired))

		// Deleting is idempotent.
		for range 2 {
			if err := s.DeleteKey(ctx, older.ID); err != nil {
				t.Fatalf("DeleteKey: %v", err)
			}
		}
		mustKeys([]token.Key{newerStored})
	})
}
