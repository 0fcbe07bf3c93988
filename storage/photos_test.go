package storage

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// These tests cover the photo rules that need no MinIO: which keys, ids and
// captions Register accepts, and the page cursor. photos_minio_test.go runs
// the whole flow against a real MinIO.

func TestCheckKeys(t *testing.T) {
	t.Parallel()
	const (
		me    = "3f0c2a9e-5b7d-4c1e-8a6f-0d9b2e4c7a11"
		other = "8e2d4b6f-1a3c-4e5f-9b7d-2c4e6a8f0b13"
		id    = "0b7c6f0e-9a51-4f7e-8d2c-5e3b1a9f4c60"
	)
	mine := "users/" + me + "/"
	good := RegisterParams{ID: id, Key: mine + "photos/" + id + ".jpg", ThumbKey: mine + "thumbs/" + id + ".jpg"}
	with := func(edit func(*RegisterParams)) RegisterParams {
		p := good
		edit(&p)
		return p
	}
	tests := []struct {
		name      string
		params    RegisterParams
		wantErr   error // nil = accepted
		wantField string
	}{
		{"own photo and thumbnail", good, nil, ""},
		{"every allowed extension: jpeg", with(func(p *RegisterParams) { p.Key = mine + "photos/" + id + ".jpeg" }), nil, ""},
		{"png", with(func(p *RegisterParams) { p.Key = mine + "photos/" + id + ".png" }), nil, ""},
		{"gif", with(func(p *RegisterParams) { p.Key = mine + "photos/" + id + ".gif" }), nil, ""},
		{"webp", with(func(p *RegisterParams) { p.Key = mine + "photos/" + id + ".webp" }), nil, ""},
		{"heic", with(func(p *RegisterParams) { p.Key = mine + "photos/" + id + ".heic" }), nil, ""},
		{"avif", with(func(p *RegisterParams) { p.Key = mine + "photos/" + id + ".avif" }), nil, ""},

		{"id not a UUID", with(func(p *RegisterParams) { p.ID = "photo-1" }), ErrInvalidPhoto, "id"},
		{"id in upper case", with(func(p *RegisterParams) { p.ID = strings.ToUpper(id) }), ErrInvalidPhoto, "id"},
		{"id with a wildcard", with(func(p *RegisterParams) { p.ID = id[:35] + "*" }), ErrInvalidPhoto, "id"},
		{"another user's folder", with(func(p *RegisterParams) { p.Key = "users/" + other + "/photos/" + id + ".jpg" }), ErrInvalidKey, "key"},
		{"climbing out of the folder", with(func(p *RegisterParams) { p.Key = mine + "../" + other + "/photos/" + id + ".jpg" }), ErrInvalidKey, "key"},
		{"dot-dot after photos/", with(func(p *RegisterParams) { p.Key = mine + "photos/../x" }), ErrInvalidKey, "key"},
		{"the thumbnail as the photo", with(func(p *RegisterParams) { p.Key = p.ThumbKey }), ErrInvalidKey, "key"},
		{"another photo's id in the key", with(func(p *RegisterParams) {
			p.Key = mine + "photos/11111111-2222-4333-8444-555555555555.jpg"
		}), ErrInvalidKey, "key"},
		{"unsupported extension", with(func(p *RegisterParams) { p.Key = mine + "photos/" + id + ".svg" }), ErrInvalidKey, "key"},
		{"upper-case extension", with(func(p *RegisterParams) { p.Key = mine + "photos/" + id + ".JPG" }), ErrInvalidKey, "key"},
		{"no extension", with(func(p *RegisterParams) { p.Key = mine + "photos/" + id }), ErrInvalidKey, "key"},
		{"double extension", with(func(p *RegisterParams) { p.Key = mine + "photos/" + id + ".jpg.html" }), ErrInvalidKey, "key"},
		{"leading slash", with(func(p *RegisterParams) { p.Key = "/" + p.Key }), ErrInvalidKey, "key"},
		{"empty key", with(func(p *RegisterParams) { p.Key = "" }), ErrInvalidKey, "key"},
		{"the photo as the thumbnail", with(func(p *RegisterParams) { p.ThumbKey = p.Key }), ErrInvalidKey, "thumb_key"},
		{"thumbnail in another folder", with(func(p *RegisterParams) { p.ThumbKey = "users/" + other + "/thumbs/" + id + ".jpg" }), ErrInvalidKey, "thumb_key"},
		{"thumbnail as png", with(func(p *RegisterParams) { p.ThumbKey = mine + "thumbs/" + id + ".png" }), ErrInvalidKey, "thumb_key"},
		{"empty thumbnail key", with(func(p *RegisterParams) { p.ThumbKey = "" }), ErrInvalidKey, "thumb_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkKeys(mine, tt.params)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("checkKeys() = %v, want it accepted", err)
				}
				return
			}
			var perr *PhotoError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &perr) || perr.Field != tt.wantField {
				t.Fatalf("checkKeys() = %v, want %v on field %q", err, tt.wantErr, tt.wantField)
			}
			if perr.Problem == "" {
				t.Error("the refusal has no problem text for the user")
			}
		})
	}
}

func TestCheckCaption(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, caption, want string
		wantErr             bool
	}{
		{"empty", "", "", false},
		{"trimmed", "  sunset over the bay \n", "sunset over the bay", false},
		{"line breaks and tabs kept inside", "one\ntwo\tthree\r\nfour", "one\ntwo\tthree\r\nfour", false},
		{"exactly the limit in characters", strings.Repeat("é", MaxCaptionLength), strings.Repeat("é", MaxCaptionLength), false},
		{"one over the limit", strings.Repeat("a", MaxCaptionLength+1), "", true},
		{"NUL, which PostgreSQL refuses", "a\x00b", "", true},
		{"escape character", "a\x1b[31mred", "", true},
		{"invalid UTF-8", "caf\xe9", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := checkCaption(tt.caption)
			if tt.wantErr {
				var perr *PhotoError
				if !errors.Is(err, ErrInvalidPhoto) || !errors.As(err, &perr) || perr.Field != "caption" {
					t.Errorf("checkCaption(%q) = %q, %v; want ErrInvalidPhoto on caption", tt.caption, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("checkCaption(%q) = %q, %v; want %q", tt.caption, got, err, tt.want)
			}
		})
	}
}

func TestCheckObjects(t *testing.T) {
	t.Parallel()
	g := &Gallery{maxPhoto: 1000}
	photo := ObjectInfo{Size: 1000, ContentType: "image/png"}
	thumb := ObjectInfo{Size: 100, ContentType: "image/jpeg"}
	tests := []struct {
		name         string
		photo, thumb ObjectInfo
		wantErr      error
		wantField    string
	}{
		{"at the limits", photo, ObjectInfo{Size: MaxThumbBytes, ContentType: "image/jpeg"}, nil, ""},
		{"type with parameters, any case", ObjectInfo{Size: 1, ContentType: "Image/JPEG; charset=binary"}, thumb, nil, ""},
		{"photo one byte over", ObjectInfo{Size: 1001, ContentType: "image/png"}, thumb, ErrTooLarge, "key"},
		{"photo empty", ObjectInfo{Size: 0, ContentType: "image/png"}, thumb, ErrNotAnImage, "key"},
		{"photo as text", ObjectInfo{Size: 10, ContentType: "text/html"}, thumb, ErrNotAnImage, "key"},
		{"photo as SVG, which can run scripts", ObjectInfo{Size: 10, ContentType: "image/svg+xml"}, thumb, ErrNotAnImage, "key"},
		{"photo without a type", ObjectInfo{Size: 10, ContentType: ""}, thumb, ErrNotAnImage, "key"},
		{"thumbnail as PNG", photo, ObjectInfo{Size: 10, ContentType: "image/png"}, ErrNotAnImage, "thumb_key"},
		{"thumbnail empty", photo, ObjectInfo{Size: 0, ContentType: "image/jpeg"}, ErrNotAnImage, "thumb_key"},
		{"thumbnail one byte over", photo, ObjectInfo{Size: MaxThumbBytes + 1, ContentType: "image/jpeg"}, ErrTooLarge, "thumb_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := g.checkObjects(tt.photo, tt.thumb)
			var perr *PhotoError
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("checkObjects() = %v, want it accepted", err)
			case tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || !errors.As(err, &perr) || perr.Field != tt.wantField):
				t.Errorf("checkObjects() = %v, want %v on field %q", err, tt.wantErr, tt.wantField)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	want := PhotoCursor{CreatedAt: time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC), ID: "0b7c6f0e-9a51-4f7e-8d2c-5e3b1a9f4c60"}
	got, err := decodeCursor(encodeCursor(want))
	if err != nil || got != want {
		t.Fatalf("decodeCursor(encodeCursor(%+v)) = %+v, %v", want, got, err)
	}
	for _, bad := range []string{"not base64!", "bm9waXBl", encodeCursor(PhotoCursor{CreatedAt: want.CreatedAt, ID: "x"})} {
		if _, err := decodeCursor(bad); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("decodeCursor(%q) = %v, want ErrInvalidCursor", bad, err)
		}
	}
}

func TestFormatSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0 bytes", 1023: "1023 bytes", 1024: "1 KB", 1536: "1.5 KB",
		DefaultMaxPhotoBytes: "20 MB", 21 << 20: "21 MB", 1<<20 + 1<<19: "1.5 MB",
	} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
