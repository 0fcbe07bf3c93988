package photostore_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pinhole/pinhole/internal/testenv"
	"github.com/pinhole/pinhole/storage"
	"github.com/pinhole/pinhole/storage/photostore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// forEachDialect runs test once per database (testenv.EachDatabase), each
// time with a Store on its own freshly migrated database.
func forEachDialect(t *testing.T, test func(t *testing.T, s *photostore.Store)) {
	t.Helper()
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := testenv.Context(t)
		db := testenv.OpenDB(t, url)
		if err := photostore.Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		// A second run is a no-op, as on every restart.
		if err := photostore.Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		test(t, photostore.New(db))
	})
}

const (
	ada   = "00000000-0000-4000-8000-00000000000a"
	grace = "00000000-0000-4000-8000-00000000000b"
)

// t0 has nanoseconds on purpose: the store keeps microseconds.
var t0 = time.Date(2030, time.March, 4, 5, 6, 7, 123456789, time.UTC)

// photoID returns a readable UUID for photo n.
func photoID(n int) string { return fmt.Sprintf("00000000-0000-4000-9000-%012d", n) }

// newPhoto returns owner's photo n, created at the given time.
func newPhoto(owner string, n int, at time.Time) *storage.Photo {
	id := photoID(n)
	return &storage.Photo{
		ID: id, Owner: owner,
		Key:      "users/" + owner + "/photos/" + id + ".jpg",
		ThumbKey: "users/" + owner + "/thumbs/" + id + ".jpg",
		Size:     int64(1000 + n), ContentType: "image/jpeg",
		Caption:   fmt.Sprintf("photo %d", n),
		CreatedAt: at,
	}
}

func mustCreate(t *testing.T, s *photostore.Store, p *storage.Photo) {
	t.Helper()
	if err := s.CreatePhoto(testenv.Context(t), p); err != nil {
		t.Fatalf("CreatePhoto(%s): %v", p.ID, err)
	}
}

// stored is p as it reads back: CreatedAt in UTC, whole microseconds.
func stored(p *storage.Photo) storage.Photo {
	out := *p
	out.CreatedAt = p.CreatedAt.UTC().Truncate(time.Microsecond)
	return out
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrPhotoNotFound) {
		t.Errorf("%s: got error %v, want storage.ErrPhotoNotFound", what, err)
	}
}

func TestPhotoLifecycle(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *photostore.Store) {
		ctx := testenv.Context(t)
		p := newPhoto(ada, 1, t0)
		p.Caption = "Émile's café ☕, line one\nline two"
		mustCreate(t, s, p)

		got, err := s.PhotoByID(ctx, ada, p.ID)
		if err != nil {
			t.Fatalf("PhotoByID: %v", err)
		}
		if want := stored(p); !reflect.DeepEqual(*got, want) {
			t.Errorf("PhotoByID:\ngot  %+v\nwant %+v", *got, want)
		}

		if err := s.UpdateCaption(ctx, ada, p.ID, "new caption"); err != nil {
			t.Fatalf("UpdateCaption: %v", err)
		}
		// Saving the same caption again still finds the photo.
		if err := s.UpdateCaption(ctx, ada, p.ID, "new caption"); err != nil {
			t.Fatalf("UpdateCaption with the same caption: %v", err)
		}
		got, err = s.PhotoByID(ctx, ada, p.ID)
		if err != nil || got.Caption != "new caption" {
			t.Errorf("after UpdateCaption: caption %q, %v; want %q", got.Caption, err, "new caption")
		}

		if err := s.DeletePhoto(ctx, ada, p.ID); err != nil {
			t.Fatalf("DeletePhoto: %v", err)
		}
		_, err = s.PhotoByID(ctx, ada, p.ID)
		wantNotFound(t, "PhotoByID after DeletePhoto", err)
		wantNotFound(t, "DeletePhoto again", s.DeletePhoto(ctx, ada, p.ID))
	})
}

// TestOwnersAreIsolated: knowing a photo's id is not enough to reach it.
func TestOwnersAreIsolated(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *photostore.Store) {
		ctx := testenv.Context(t)
		p := newPhoto(ada, 1, t0)
		mustCreate(t, s, p)

		_, err := s.PhotoByID(ctx, grace, p.ID)
		wantNotFound(t, "PhotoByID as another owner", err)
		wantNotFound(t, "UpdateCaption as another owner", s.UpdateCaption(ctx, grace, p.ID, "mine now"))
		wantNotFound(t, "DeletePhoto as another owner", s.DeletePhoto(ctx, grace, p.ID))
		if list, err := s.ListPhotos(ctx, grace, nil, 10); err != nil || len(list) != 0 {
			t.Errorf("ListPhotos as another owner = %d photos, %v; want none", len(list), err)
		}

		// Ada's photo is untouched.
		got, err := s.PhotoByID(ctx, ada, p.ID)
		if err != nil || got.Caption != p.Caption {
			t.Errorf("ada's photo after grace's attempts: %+v, %v; want it unchanged", got, err)
		}
	})
}

func TestCreatePhotoDuplicates(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *photostore.Store) {
		ctx := testenv.Context(t)
		p := newPhoto(ada, 1, t0)
		mustCreate(t, s, p)

		sameID := newPhoto(grace, 1, t0) // same id, another owner and keys
		if err := s.CreatePhoto(ctx, sameID); !errors.Is(err, storage.ErrPhotoExists) {
			t.Errorf("CreatePhoto with a taken id: %v, want storage.ErrPhotoExists", err)
		}
		sameKey := newPhoto(ada, 2, t0)
		sameKey.Key = p.Key
		if err := s.CreatePhoto(ctx, sameKey); !errors.Is(err, storage.ErrPhotoExists) {
			t.Errorf("CreatePhoto with a taken object key: %v, want storage.ErrPhotoExists", err)
		}
	})
}

// TestListPhotosPages pages through a gallery with ties in created_at, whole
// seconds next to fractions (which SQLite stores as text of different
// lengths), and another owner's photos interleaved: every photo must come
// back exactly once, newest first, and the pages must join up.
func TestListPhotosPages(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *photostore.Store) {
		ctx := testenv.Context(t)
		whole := t0.Truncate(time.Second)
		times := []time.Time{
			whole, whole, whole.Add(500 * time.Millisecond), whole.Add(time.Second),
			whole.Add(time.Second + time.Microsecond), whole.Add(-time.Hour), whole.Add(24 * time.Hour),
			whole.Add(time.Second), whole.Add(10 * time.Millisecond), whole.Add(100 * time.Millisecond),
			whole.Add(-time.Microsecond),
		}
		var want []storage.Photo
		for i, at := range times {
			p := newPhoto(ada, i+1, at)
			mustCreate(t, s, p)
			want = append(want, stored(p))
			mustCreate(t, s, newPhoto(grace, 100+i, at))
		}
		// Newest first; equal times by id, descending.
		sortNewestFirst(want)

		for _, pageSize := range []int{1, 3, 4, len(times), 50} {
			var got []storage.Photo
			var after *storage.PhotoCursor
			for range len(times) + 1 {
				page, err := s.ListPhotos(ctx, ada, after, pageSize)
				if err != nil {
					t.Fatalf("ListPhotos(page size %d): %v", pageSize, err)
				}
				if len(page) > pageSize {
					t.Fatalf("ListPhotos returned %d photos, limit %d", len(page), pageSize)
				}
				got = append(got, page...)
				if len(page) < pageSize {
					break
				}
				last := page[len(page)-1]
				after = &storage.PhotoCursor{CreatedAt: last.CreatedAt, ID: last.ID}
			}
			if !reflect.DeepEqual(ids(got), ids(want)) {
				t.Errorf("page size %d: paged ids\ngot  %v\nwant %v", pageSize, ids(got), ids(want))
			}
			if len(got) == len(want) && !reflect.DeepEqual(got, want) {
				t.Errorf("page size %d: photos differ from what was stored", pageSize)
			}
		}

		if _, err := s.ListPhotos(ctx, ada, nil, 0); err == nil {
			t.Error("ListPhotos(limit 0) succeeded, want an error")
		}
	})
}

func sortNewestFirst(photos []storage.Photo) {
	// Insertion sort: a handful of photos, and no second comparator to trust.
	for i := 1; i < len(photos); i++ {
		for j := i; j > 0 && newer(photos[j], photos[j-1]); j-- {
			photos[j], photos[j-1] = photos[j-1], photos[j]
		}
	}
}

func newer(a, b storage.Photo) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

func ids(photos []storage.Photo) []string {
	out := make([]string, len(photos))
	for i, p := range photos {
		out[i] = p.ID[len(p.ID)-3:]
	}
	return out
}
