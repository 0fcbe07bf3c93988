package app

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestPhotoPages walks the gallery pages as a browser that does not run
// scripts: the empty state, the grid of presigned thumbnails, pagination,
// one photo, its caption and delete forms, and the upload page's wiring.
func TestPhotoPages(t *testing.T) {
	t.Parallel()
	e := newPhotosEnv(t)
	ada := e.mustUser("ada")
	b := e.browser(ada)

	// Visitors are sent to sign in, and come back afterwards.
	if p := e.browser(nil).get("/photos/upload"); p.status != http.StatusSeeOther || p.location != "/signin?next=%2Fphotos%2Fupload" {
		t.Errorf("a visitor's GET /photos/upload = %d to %q, want 303 to sign in", p.status, p.location)
	}

	empty := b.get("/photos")
	mustContain(t, "empty gallery", empty, http.StatusOK, "<title>Your photos · Pinhole</title>", "No photos yet",
		`<a class="button" href="/photos/upload">Upload photos</a>`, `<a href="/photos">Photos</a>`)

	upload := b.get("/photos/upload")
	mustContain(t, "upload page", upload, http.StatusOK,
		`<script type="module" src="/static/upload.js"></script>`, `data-max-bytes="262144"`,
		`data-credentials-url="/api/credentials"`, `data-photos-url="/api/photos"`, `type="file"`, `multiple`, "up to 256 KB each")

	// A page and a bit: the first page has an "Older photos" link, the
	// second leads back to the newest.
	var ids []string
	for i := range 25 {
		e.clock.Advance(1e9)
		caption := ""
		if i == 24 {
			caption = "Tide <pools> & rocks"
		}
		ids = append(ids, e.mustPhoto(ada, caption))
	}
	newest := ids[24]
	first := b.get("/photos")
	mustContain(t, "gallery", first, http.StatusOK, `href="/photos/`+newest+`"`, "Tide &lt;pools&gt; &amp; rocks", `rel="next">Older photos</a>`)
	if n := strings.Count(first.body, `class="gallery-item"`); n != 24 {
		t.Errorf("first page shows %d photos, want 24", n)
	}
	thumb := regexp.MustCompile(`<img class="gallery-thumb" src="([^"]+)"`).FindStringSubmatch(first.body)
	if thumb == nil || !strings.HasPrefix(thumb[1], e.public+"/"+testBucket+"/"+ada.prefix+"thumbs/") {
		t.Fatalf("thumbnail src = %v, want a presigned URL on MINIO_PUBLIC_URL", thumb)
	}
	if status := fetch(t, strings.ReplaceAll(thumb[1], "&amp;", "&")); status != http.StatusOK {
		t.Errorf("GET thumbnail = %d, want 200", status)
	}
	older := regexp.MustCompile(`href="(/photos\?cursor=[^"]+)" rel="next"`).FindStringSubmatch(first.body)
	if older == nil {
		t.Fatal("no Older photos link")
	}
	second := b.get(strings.ReplaceAll(older[1], "&amp;", "&"))
	mustContain(t, "second page", second, http.StatusOK, `href="/photos/`+ids[0]+`"`, `<a href="/photos">Newest photos</a>`)
	if strings.Contains(second.body, "Older photos") || strings.Count(second.body, `class="gallery-item"`) != 1 {
		t.Errorf("second page should hold the one oldest photo and no Older link:\n%s", second.body)
	}

	// One photo: full size, caption form, delete form.
	photo := b.get("/photos/" + newest)
	mustContain(t, "photo page", photo, http.StatusOK, `<img class="photo-full" src="`+e.public, `alt="Tide &lt;pools&gt; &amp; rocks"`,
		`action="/photos/`+newest+`/caption"`, `action="/photos/`+newest+`/delete"`, `maxlength="500"`,
		"(the link works for 15 minutes)")

	saved := b.submit("/photos/"+newest, "/photos/"+newest+"/caption", url.Values{"caption": {"  Rock pools  "}})
	if saved.status != http.StatusSeeOther || saved.location != "/photos/"+newest {
		t.Fatalf("caption form = %d to %q, want 303 back to the photo", saved.status, saved.location)
	}
	mustContain(t, "photo after the edit", b.get("/photos/"+newest), http.StatusOK, "The caption is saved.", "<figcaption class=\"photo-caption\">Rock pools</figcaption>")

	refused := b.submit("/photos/"+newest, "/photos/"+newest+"/caption", url.Values{"caption": {strings.Repeat("x", 501)}})
	mustContain(t, "refused caption", refused, http.StatusBadRequest, `id="caption-error">Use at most 500 characters`, `aria-invalid="true"`,
		`role="alert">Please fix the problem marked below.`)

	key := ada.prefix + "photos/" + newest + ".jpg"
	deleted := b.submit("/photos/"+newest, "/photos/"+newest+"/delete", nil)
	if deleted.status != http.StatusSeeOther || deleted.location != "/photos" {
		t.Fatalf("delete form = %d to %q, want 303 to the gallery", deleted.status, deleted.location)
	}
	mustContain(t, "gallery after the delete", b.get("/photos"), http.StatusOK, "The photo is deleted.")
	if e.exists(key) {
		t.Error("the deleted photo's object is still in storage")
	}
	if p := b.get("/photos/" + newest); p.status != http.StatusNotFound {
		t.Errorf("GET the deleted photo's page = %d, want 404", p.status)
	}

	// Forms need their CSRF token.
	if p := b.do(http.MethodPost, "/photos/"+ids[0]+"/delete", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("delete without a CSRF token = %d, want 403", p.status)
	}
	if !e.exists(ada.prefix + "photos/" + ids[0] + ".jpg") {
		t.Error("the refused delete removed the photo")
	}
}

func mustContain(t *testing.T, what string, p page, status int, parts ...string) {
	t.Helper()
	if p.status != status {
		t.Errorf("%s: status %d, want %d", what, p.status, status)
	}
	for _, part := range parts {
		if !strings.Contains(p.body, part) {
			t.Errorf("%s: body does not contain %q", what, part)
		}
	}
	if t.Failed() {
		t.Logf("%s body:\n%s", what, p.body)
	}
}
