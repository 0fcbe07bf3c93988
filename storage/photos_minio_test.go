package storage_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/fakeclock"
	"github.com/pinhole/pinhole/storage"
	"github.com/pinhole/pinhole/storage/photostore"
)

// These tests run the Gallery against a real MinIO and a real (SQLite)
// photo store: what Register sees is what MinIO says about real uploads.
// app/photos_api_test.go drives the same rules through the HTTP API, and
// storage/photostore's tests cover the store on PostgreSQL too.

// galleryEnv is a Gallery on its own MinIO and database.
type galleryEnv struct {
	minioEnv
	gallery *storage.Gallery
	objects *storage.Client
	clock   *fakeclock.Clock
}

// maxTestPhoto keeps "too large" uploads small.
const maxTestPhoto = 64 << 10

func newGalleryEnv(t *testing.T) galleryEnv {
	t.Helper()
	env := newMinIOEnv(t)
	ctx := context.Background()
	db, err := database.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "pinhole.db"), database.Options{})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := photostore.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	objects := mustClient(t, env.clientConfig())
	clock := newFakeClock()
	gallery, err := storage.NewGallery(storage.GalleryConfig{
		Store: photostore.New(db), Objects: objects, MaxPhotoBytes: maxTestPhoto, Now: clock.Now,
	})
	if err != nil {
		t.Fatalf("NewGallery: %v", err)
	}
	return galleryEnv{minioEnv: env, gallery: gallery, objects: objects, clock: clock}
}

// upload is what the browser does before registering: PUT a photo and its
// thumbnail into owner's folder (here with the root identity).
func (env galleryEnv) upload(t *testing.T, owner, id, ext, contentType string, size int) storage.RegisterParams {
	t.Helper()
	photoKey, err := storage.PhotoKey(owner, id, ext)
	if err != nil {
		t.Fatal(err)
	}
	thumbKey, err := storage.ThumbKey(owner, id)
	if err != nil {
		t.Fatal(err)
	}
	env.put(t, photoKey, contentType, size)
	env.put(t, thumbKey, "image/jpeg", 1000)
	return storage.RegisterParams{ID: id, Key: photoKey, ThumbKey: thumbKey}
}

func (env galleryEnv) put(t *testing.T, key, contentType string, size int) {
	t.Helper()
	body := bytes.Repeat([]byte{0xff}, size)
	_, err := env.root.PutObject(context.Background(), testBucket, key, bytes.NewReader(body), int64(size), minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		t.Fatalf("root PUT %s: %v", key, err)
	}
}

// exists reports whether key is in the bucket, as root sees it.
func (env galleryEnv) exists(t *testing.T, key string) bool {
	t.Helper()
	_, err := env.objects.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, storage.ErrObjectNotFound) {
		t.Fatalf("Stat(%s): %v", key, err)
	}
	return err == nil
}

const (
	photo1 = "0b7c6f0e-9a51-4f7e-8d2c-5e3b1a9f4c60"
	photo2 = "1c8d7a1f-0b62-4a8f-9e3d-6f4c2b0a5d71"
)

func TestGalleryPhotoLifecycle(t *testing.T) {
	t.Parallel()
	env := newGalleryEnv(t)
	ctx := context.Background()

	params := env.upload(t, alice, photo1, "png", "image/png", 5000)
	params.Caption = "  Low tide  "
	p, err := env.gallery.Register(ctx, alice, params)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if p.Owner != alice || p.Key != params.Key || p.ThumbKey != params.ThumbKey || p.Size != 5000 ||
		p.ContentType != "image/png" || p.Caption != "Low tide" || p.CreatedAt.IsZero() {
		t.Errorf("Register() = %+v, want alice's 5000-byte PNG captioned %q", p, "Low tide")
	}

	// The links fetch the objects, signed with the app's identity.
	links, err := env.gallery.Links(ctx, p)
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	if body, err := httpGet(ctx, links.Photo); err != nil || len(body) != 5000 {
		t.Errorf("GET photo link = %d bytes, %v; want 5000", len(body), err)
	}
	if body, err := httpGet(ctx, links.Thumb); err != nil || len(body) != 1000 {
		t.Errorf("GET thumbnail link = %d bytes, %v; want 1000", len(body), err)
	}
	if d := time.Until(links.Expires); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("links expire in %s, want about 15 minutes", d)
	}

	updated, err := env.gallery.UpdateCaption(ctx, alice, photo1, "High tide")
	if err != nil || updated.Caption != "High tide" {
		t.Errorf("UpdateCaption() = %+v, %v; want caption %q", updated, err, "High tide")
	}

	// Bob can neither see, edit nor delete it.
	if _, err := env.gallery.Get(ctx, bob, photo1); !errors.Is(err, storage.ErrPhotoNotFound) {
		t.Errorf("Get as bob: %v, want ErrPhotoNotFound", err)
	}
	if _, err := env.gallery.UpdateCaption(ctx, bob, photo1, "mine"); !errors.Is(err, storage.ErrPhotoNotFound) {
		t.Errorf("UpdateCaption as bob: %v, want ErrPhotoNotFound", err)
	}
	if err := env.gallery.Delete(ctx, bob, photo1); !errors.Is(err, storage.ErrPhotoNotFound) {
		t.Errorf("Delete as bob: %v, want ErrPhotoNotFound", err)
	}
	if !env.exists(t, params.Key) {
		t.Fatal("bob's failed delete removed alice's photo object")
	}

	if err := env.gallery.Delete(ctx, alice, photo1); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, key := range []string{params.Key, params.ThumbKey} {
		if env.exists(t, key) {
			t.Errorf("%s still exists after Delete", key)
		}
	}
	if _, err := env.gallery.Get(ctx, alice, photo1); !errors.Is(err, storage.ErrPhotoNotFound) {
		t.Errorf("Get after Delete: %v, want ErrPhotoNotFound", err)
	}
}

// TestGalleryRegisterRefusals checks what each refusal does to the objects:
// refused content goes, anything that may still be wanted stays.
func TestGalleryRegisterRefusals(t *testing.T) {
	t.Parallel()
	env := newGalleryEnv(t)
	ctx := context.Background()

	tests := []struct {
		name        string
		setup       func(t *testing.T, id string) storage.RegisterParams
		wantErr     error
		wantField   string
		wantDeleted bool
	}{
		{
			name: "nothing uploaded",
			setup: func(t *testing.T, id string) storage.RegisterParams {
				key, _ := storage.PhotoKey(alice, id, "jpg")
				thumb, _ := storage.ThumbKey(alice, id)
				return storage.RegisterParams{ID: id, Key: key, ThumbKey: thumb}
			},
			wantErr: storage.ErrObjectMissing, wantField: "key",
		},
		{
			name: "thumbnail still missing",
			setup: func(t *testing.T, id string) storage.RegisterParams {
				p := env.upload(t, alice, id, "jpg", "image/jpeg", 100)
				if err := env.objects.Delete(ctx, p.ThumbKey); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantErr: storage.ErrObjectMissing, wantField: "thumb_key",
		},
		{
			name: "HTML posing as a photo",
			setup: func(t *testing.T, id string) storage.RegisterParams {
				return env.upload(t, alice, id, "jpg", "text/html", 100)
			},
			wantErr: storage.ErrNotAnImage, wantField: "key", wantDeleted: true,
		},
		{
			name: "photo over the limit",
			setup: func(t *testing.T, id string) storage.RegisterParams {
				return env.upload(t, alice, id, "jpg", "image/jpeg", maxTestPhoto+1)
			},
			wantErr: storage.ErrTooLarge, wantField: "key", wantDeleted: true,
		},
		{
			name: "thumbnail over the limit",
			setup: func(t *testing.T, id string) storage.RegisterParams {
				p := env.upload(t, alice, id, "jpg", "image/jpeg", 100)
				env.put(t, p.ThumbKey, "image/jpeg", storage.MaxThumbBytes+1)
				return p
			},
			wantErr: storage.ErrTooLarge, wantField: "thumb_key", wantDeleted: true,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := photo1[:24] + strings.Repeat("0", 11) + string(rune('a'+i))
			params := tt.setup(t, id)
			keys := []string{params.Key, params.ThumbKey}
			uploaded := map[string]bool{}
			for _, key := range keys {
				uploaded[key] = env.exists(t, key)
			}
			_, err := env.gallery.Register(ctx, alice, params)
			var perr *storage.PhotoError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &perr) || perr.Field != tt.wantField {
				t.Fatalf("Register() = %v, want %v on %q", err, tt.wantErr, tt.wantField)
			}
			for _, key := range keys {
				switch exists := env.exists(t, key); {
				case tt.wantDeleted && exists:
					t.Errorf("%s survived the refusal, want it deleted", key)
				case !tt.wantDeleted && uploaded[key] && !exists:
					t.Errorf("%s was deleted, want it kept (its upload may still be wanted)", key)
				}
			}
		})
	}

	// Registering an id twice is refused without touching the registered
	// photo's objects, even if the second attempt's objects would be refused.
	t.Run("an id registered twice", func(t *testing.T) {
		params := env.upload(t, alice, photo2, "jpg", "image/jpeg", 100)
		if _, err := env.gallery.Register(ctx, alice, params); err != nil {
			t.Fatalf("first Register: %v", err)
		}
		env.put(t, params.ThumbKey, "text/plain", 10)
		if _, err := env.gallery.Register(ctx, alice, params); !errors.Is(err, storage.ErrPhotoExists) {
			t.Fatalf("second Register: %v, want ErrPhotoExists", err)
		}
		if !env.exists(t, params.Key) || !env.exists(t, params.ThumbKey) {
			t.Error("the second registration deleted the registered photo's objects")
		}
	})
}

// TestGalleryWhileMinIOIsDown: with MinIO gone, registering and deleting
// fail as "unavailable" (a 503), while listing and links, which need only
// the database and local signing, keep working.
func TestGalleryWhileMinIOIsDown(t *testing.T) {
	t.Parallel()
	env := newGalleryEnv(t)
	ctx := context.Background()
	params := env.upload(t, alice, photo1, "jpg", "image/jpeg", 100)
	p, err := env.gallery.Register(ctx, alice, params)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	next := env.upload(t, alice, photo2, "jpg", "image/jpeg", 100)
	if err := env.srv.Stop(); err != nil {
		t.Fatal(err)
	}

	if _, err := env.gallery.Register(ctx, alice, next); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Register with MinIO down: %v, want ErrUnavailable", err)
	}
	if err := env.gallery.Delete(ctx, alice, photo1); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Delete with MinIO down: %v, want ErrUnavailable", err)
	}
	page, err := env.gallery.List(ctx, alice, "", 10)
	if err != nil || len(page.Photos) != 1 {
		t.Errorf("List with MinIO down = %d photos, %v; want the one photo", len(page.Photos), err)
	}
	if _, err := env.gallery.Links(ctx, p); err != nil {
		t.Errorf("Links with MinIO down: %v, want links (signing is local)", err)
	}
}
