package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
)

// These tests drive the identity pool's endpoint and the photos API through
// the real router, against a real MinIO, the real broker and the real
// gallery (see photosEnv).

func TestCredentials(t *testing.T) {
	t.Parallel()
	e := newPhotosEnv(t)
	ada := e.mustUser("ada")

	want(t, e.api(nil, http.MethodPost, "/api/credentials", nil), http.StatusUnauthorized, "invalid_token")

	start := time.Now()
	first := e.api(ada, http.MethodPost, "/api/credentials", nil)
	uncached := time.Since(start)
	want(t, first, http.StatusOK, "")
	for field, wantValue := range map[string]string{
		"prefix":   "users/" + ada.sub + "/",
		"endpoint": e.public, // MINIO_PUBLIC_URL, not the app's 127.0.0.1
		"bucket":   testBucket,
		"region":   "us-east-1",
	} {
		if got := first.str(field); got != wantValue {
			t.Errorf("credentials %s = %q, want %q", field, got, wantValue)
		}
	}
	for _, field := range []string{"access_key_id", "secret_access_key", "session_token"} {
		if first.str(field) == "" {
			t.Errorf("credentials have no %s: %s", field, first.Raw)
		}
	}
	expiration, err := time.Parse(time.RFC3339, first.str("expiration"))
	if err != nil || time.Until(expiration) < 50*time.Minute || time.Until(expiration) > 61*time.Minute {
		t.Errorf("expiration = %q (%v), want about an hour from now", first.str("expiration"), err)
	}
	if cc := first.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store: the answer holds a secret", cc)
	}

	// The session's second ask is served from the cache: one STS call.
	start = time.Now()
	second := e.api(ada, http.MethodPost, "/api/credentials", nil)
	t.Logf("POST /api/credentials over HTTP: %s with an STS call, %s from the cache (with auth and the audit write)", uncached, time.Since(start))
	want(t, second, http.StatusOK, "")
	if n := e.broker.STSCalls(); n != 1 {
		t.Errorf("STSCalls() after two vends = %d, want 1", n)
	}
	if second.str("access_key_id") != first.str("access_key_id") {
		t.Error("the second vend returned other credentials, want the cached ones")
	}

	// Each vend is in the audit trail.
	events, err := e.ids.Activity(context.Background(), &identity.Principal{Sub: ada.sub}, 10)
	if err != nil {
		t.Fatal(err)
	}
	vends := 0
	for _, ev := range events {
		if ev.Kind == identity.EventCredentialsVend && ev.Outcome == identity.OutcomeSuccess && ev.SessionID == ada.sessionID {
			vends++
		}
	}
	if vends != 2 {
		t.Errorf("audit trail has %d successful vends for the session, want 2", vends)
	}

	// A browser on another site cannot have credentials vended with the
	// user's cookies.
	b := e.browser(ada)
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/credentials", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST /api/credentials = %d, want 403", resp.StatusCode)
	}

	// A signed-out session gets nothing more.
	want(t, e.api(ada, http.MethodPost, "/api/auth/signout", nil), http.StatusNoContent, "")
	want(t, e.api(ada, http.MethodPost, "/api/credentials", nil), http.StatusUnauthorized, "invalid_token")
}

// TestCredentialsWhileMinIOIsDown: a vend that needs STS fails with a clear
// 503 while the pages keep working, and works again when MinIO is back.
func TestCredentialsWhileMinIOIsDown(t *testing.T) {
	t.Parallel()
	e := newPhotosEnv(t)
	ada := e.mustUser("ada")
	e.mustPhoto(ada, "before the outage")

	if err := e.minio.Stop(); err != nil {
		t.Fatal(err)
	}
	ada.signIn() // a new session: nothing cached for it
	r := e.api(ada, http.MethodPost, "/api/credentials", nil)
	want(t, r, http.StatusServiceUnavailable, "storage_unavailable")
	if r.str("message") == "" || r.Header.Get("Retry-After") == "" {
		t.Errorf("503 without a message or Retry-After: %v %s", r.Header, r.Raw)
	}
	events, err := e.ids.Activity(context.Background(), &identity.Principal{Sub: ada.sub}, 1)
	if err != nil || len(events) != 1 || events[0].Kind != identity.EventCredentialsVend || events[0].Outcome != identity.OutcomeFailure || events[0].Detail != "storage_unavailable" {
		t.Errorf("latest audit event = %+v, %v; want a failed vend, storage_unavailable", events, err)
	}

	// The pages do not need MinIO to render: links are signed locally.
	b := e.browser(ada)
	for _, path := range []string{"/", "/photos", "/photos/upload", "/account"} {
		if p := b.get(path); p.status != http.StatusOK {
			t.Errorf("GET %s with MinIO down = %d, want 200", path, p.status)
		}
	}
	if p := b.get("/photos"); !strings.Contains(p.body, "before the outage") {
		t.Error("the gallery with MinIO down does not list the photo")
	}

	if err := e.minio.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.waitForSTS()
	want(t, e.api(ada, http.MethodPost, "/api/credentials", nil), http.StatusOK, "")
}

// TestRegisterPhotoRefusals is the server's half of "never trust the
// request": every way of pointing the registration at something other than
// the caller's own, well-formed upload is refused, and refused content is
// removed from storage.
func TestRegisterPhotoRefusals(t *testing.T) {
	t.Parallel()
	e := newPhotosEnv(t)
	ada := e.mustUser("ada")
	bob := e.mustUser("bob")

	type body = map[string]any
	// uploaded uploads ada's photo id (as the browser would) and returns
	// the registration body for it, edited by edit.
	uploaded := func(ext, contentType string, size int, edit func(b body)) func(id string) body {
		return func(id string) body {
			b := e.upload(ada, id, ext, contentType, size)
			if edit != nil {
				edit(b)
			}
			return b
		}
	}
	notUploaded := func(id string) body {
		return body{"id": id, "key": ada.prefix + "photos/" + id + ".jpg", "thumb_key": ada.prefix + "thumbs/" + id + ".jpg"}
	}

	tests := []struct {
		name      string
		body      func(id string) body
		wantCode  string
		wantField string
		// gone: the uploaded objects must have been deleted.
		gone bool
	}{
		{name: "bob's folder", body: func(id string) body {
			// Bob really has this photo; ada names it as hers.
			e.upload(bob, id, "jpg", "image/jpeg", 100)
			return body{"id": id, "key": bob.prefix + "photos/" + id + ".jpg", "thumb_key": bob.prefix + "thumbs/" + id + ".jpg"}
		}, wantCode: "invalid_key", wantField: "key"},
		{name: "climbing out of her folder", body: uploaded("jpg", "image/jpeg", 100, func(b body) {
			b["key"] = ada.prefix + "../" + bob.sub + "/photos/" + b["id"].(string) + ".jpg"
		}), wantCode: "invalid_key", wantField: "key"},
		{name: "users/<sub>/../x", body: uploaded("jpg", "image/jpeg", 100, func(b body) { b["key"] = ada.prefix + "../x" }),
			wantCode: "invalid_key", wantField: "key"},
		{name: "the thumbnail key as the photo key", body: uploaded("jpg", "image/jpeg", 100, func(b body) { b["key"] = b["thumb_key"] }),
			wantCode: "invalid_key", wantField: "key"},
		{name: "bob's thumbnail", body: uploaded("jpg", "image/jpeg", 100, func(b body) {
			b["thumb_key"] = bob.prefix + "thumbs/" + b["id"].(string) + ".jpg"
		}), wantCode: "invalid_key", wantField: "thumb_key"},
		{name: "an extension that is not a photo's", body: uploaded("jpg", "image/jpeg", 100, func(b body) {
			b["key"] = ada.prefix + "photos/" + b["id"].(string) + ".html"
		}), wantCode: "invalid_key", wantField: "key"},
		{name: "an id that is not a UUID", body: uploaded("jpg", "image/jpeg", 100, func(b body) { b["id"] = "photo-1" }),
			wantCode: "validation_failed", wantField: "id"},
		{name: "nothing uploaded", body: notUploaded, wantCode: "object_missing", wantField: "key"},
		{name: "thumbnail not uploaded", body: func(id string) body {
			b := notUploaded(id)
			e.put(b["key"].(string), "image/jpeg", 100)
			return b
		}, wantCode: "object_missing", wantField: "thumb_key"},
		{name: "over the size limit", body: uploaded("jpg", "image/jpeg", maxTestPhoto+1, nil),
			wantCode: "photo_too_large", wantField: "key", gone: true},
		{name: "thumbnail over its limit", body: func(id string) body {
			b := notUploaded(id)
			e.put(b["key"].(string), "image/jpeg", 100)
			e.put(b["thumb_key"].(string), "image/jpeg", 1<<20+1)
			return b
		}, wantCode: "photo_too_large", wantField: "thumb_key", gone: true},
		{name: "HTML with a photo's name", body: uploaded("jpg", "text/html", 100, nil),
			wantCode: "not_an_image", wantField: "key", gone: true},
		{name: "SVG, an image that runs scripts", body: uploaded("png", "image/svg+xml", 100, nil),
			wantCode: "not_an_image", wantField: "key", gone: true},
		{name: "no Content-Type", body: uploaded("png", "application/octet-stream", 100, nil),
			wantCode: "not_an_image", wantField: "key", gone: true},
		{name: "thumbnail not a JPEG", body: func(id string) body {
			b := notUploaded(id)
			e.put(b["key"].(string), "image/png", 100)
			e.put(b["thumb_key"].(string), "image/png", 100)
			return b
		}, wantCode: "not_an_image", wantField: "thumb_key", gone: true},
		{name: "caption too long", body: uploaded("jpg", "image/jpeg", 100, func(b body) { b["caption"] = strings.Repeat("a", 501) }),
			wantCode: "validation_failed", wantField: "caption"},
		{name: "an owner field is not a thing", body: uploaded("jpg", "image/jpeg", 100, func(b body) { b["owner"] = bob.sub }),
			wantCode: "unknown_field", wantField: "owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := newPhotoID()
			b := tt.body(id)
			r := e.api(ada, http.MethodPost, "/api/photos", b)
			want(t, r, http.StatusBadRequest, tt.wantCode)
			fields, _ := r.JSON["fields"].(map[string]any)
			if problem, _ := fields[tt.wantField].(string); problem == "" {
				t.Errorf("no problem reported for field %q: %s", tt.wantField, r.Raw)
			}
			if tt.gone {
				for _, key := range []string{b["key"].(string), b["thumb_key"].(string)} {
					if e.exists(key) {
						t.Errorf("refused upload %s is still in storage, want it deleted", key)
					}
				}
			}
			// Nothing was registered, under either user.
			for _, u := range []*user{ada, bob} {
				if r := e.api(u, http.MethodGet, "/api/photos/"+id, nil); r.Status != http.StatusNotFound {
					t.Errorf("GET the refused photo as %s = %d, want 404", u.email, r.Status)
				}
			}
		})
	}

	t.Run("without a token", func(t *testing.T) {
		want(t, e.api(nil, http.MethodPost, "/api/photos", notUploaded(newPhotoID())), http.StatusUnauthorized, "invalid_token")
	})

	t.Run("an accepted upload, then the same id again", func(t *testing.T) {
		id := newPhotoID()
		b := e.upload(ada, id, "webp", "image/webp", 5000)
		b["caption"] = "  Harbour at dusk "
		r := e.api(ada, http.MethodPost, "/api/photos", b)
		want(t, r, http.StatusCreated, "")
		if r.str("id") != id || r.str("caption") != "Harbour at dusk" || r.str("content_type") != "image/webp" || r.JSON["size"] != float64(5000) {
			t.Errorf("registered photo = %s, want id %s, the trimmed caption, image/webp, 5000 bytes", r.Raw, id)
		}
		if loc := r.Header.Get("Location"); loc != "/api/photos/"+id {
			t.Errorf("Location = %q, want /api/photos/%s", loc, id)
		}
		for _, field := range []string{"url", "thumb_url"} {
			if !strings.HasPrefix(r.str(field), e.public+"/"+testBucket+"/users/"+ada.sub+"/") {
				t.Errorf("%s = %q, want a presigned URL on MINIO_PUBLIC_URL in ada's folder", field, r.str(field))
			}
		}
		if got := fetch(t, strings.Replace(r.str("thumb_url"), "localhost", "127.0.0.1", 1)); got != http.StatusForbidden {
			// Signed for localhost, so fetching it as 127.0.0.1 fails:
			// proof that the signature covers MINIO_PUBLIC_URL's host.
			t.Errorf("thumb_url fetched under another host name = %d, want 403", got)
		}
		if got := fetch(t, r.str("thumb_url")); got != http.StatusOK {
			t.Errorf("GET thumb_url = %d, want 200", got)
		}

		want(t, e.api(ada, http.MethodPost, "/api/photos", b), http.StatusConflict, "photo_exists")
		if !e.exists(b["key"].(string)) {
			t.Error("the refused second registration deleted the registered photo")
		}
	})
}

// fetch GETs rawURL and returns the status.
func fetch(t *testing.T, rawURL string) int {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestListPhotosPagination pages through a gallery: newest first, every
// photo exactly once, and a photo added between pages does not shift them.
func TestListPhotosPagination(t *testing.T) {
	t.Parallel()
	e := newPhotosEnv(t)
	ada := e.mustUser("ada")
	bob := e.mustUser("bob")
	e.mustPhoto(bob, "bob's, never in ada's pages")

	const n = 7
	var newestFirst []string
	for i := range n {
		e.clock.Advance(time.Second)
		if i == 3 {
			// Two photos in the same instant: the id orders them.
			e.clock.Advance(-time.Second)
		}
		// Newest first; of two photos in the same instant, the larger id
		// (newPhotoID counts up, so the later one) comes first.
		newestFirst = append([]string{e.mustPhoto(ada, "")}, newestFirst...)
	}

	var got []string
	cursor := ""
	for page := 1; ; page++ {
		path := "/api/photos?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.api(ada, http.MethodGet, path, nil)
		want(t, r, http.StatusOK, "")
		photos, _ := r.JSON["photos"].([]any)
		for _, p := range photos {
			got = append(got, p.(map[string]any)["id"].(string))
		}
		cursor = r.str("next_cursor")
		if page == 1 {
			// Added after the first page: newer, so it belongs before it
			// and must not push anything onto the second page twice.
			e.clock.Advance(time.Minute)
			e.mustPhoto(ada, "added while paging")
		}
		if cursor == "" {
			break
		}
		if page > n {
			t.Fatal("pagination does not end")
		}
	}
	if strings.Join(got, ",") != strings.Join(newestFirst, ",") {
		t.Errorf("paged ids:\ngot  %v\nwant %v", got, newestFirst)
	}

	r := e.api(ada, http.MethodGet, "/api/photos", nil)
	if photos, _ := r.JSON["photos"].([]any); len(photos) != n+1 || r.str("next_cursor") != "" {
		t.Errorf("GET /api/photos = %d photos, next_cursor %q; want all %d on one page", len(photos), r.str("next_cursor"), n+1)
	}
	want(t, e.api(ada, http.MethodGet, "/api/photos?cursor=bogus", nil), http.StatusBadRequest, "invalid_cursor")
	for _, limit := range []string{"0", "101", "ten", "-1"} {
		want(t, e.api(ada, http.MethodGet, "/api/photos?limit="+limit, nil), http.StatusBadRequest, "validation_failed")
	}
}

// TestPhotoEditDeleteAndIsolation: a caption edit, a delete that removes the
// objects and the record, and another user who can do none of it.
func TestPhotoEditDeleteAndIsolation(t *testing.T) {
	t.Parallel()
	e := newPhotosEnv(t)
	ada := e.mustUser("ada")
	eve := e.mustUser("eve")
	id := e.mustPhoto(ada, "original")
	got := e.api(ada, http.MethodGet, "/api/photos/"+id, nil)
	want(t, got, http.StatusOK, "")
	key, thumb := got.str("key"), got.str("thumb_key")

	r := e.api(ada, http.MethodPatch, "/api/photos/"+id, map[string]any{"caption": "edited"})
	want(t, r, http.StatusOK, "")
	if r.str("caption") != "edited" {
		t.Errorf("PATCH caption = %q, want %q", r.str("caption"), "edited")
	}
	want(t, e.api(ada, http.MethodPatch, "/api/photos/"+id, map[string]any{}), http.StatusBadRequest, "validation_failed")
	want(t, e.api(ada, http.MethodPatch, "/api/photos/"+id, map[string]any{"caption": "a\x00b"}), http.StatusBadRequest, "validation_failed")

	// Eve knows the id; it does her no good, and she learns nothing.
	for _, c := range []struct {
		method string
		body   any
	}{{http.MethodGet, nil}, {http.MethodPatch, map[string]any{"caption": "eve was here"}}, {http.MethodDelete, nil}} {
		want(t, e.api(eve, c.method, "/api/photos/"+id, c.body), http.StatusNotFound, "photo_not_found")
	}
	eveGallery := e.browser(eve)
	if p := eveGallery.get("/photos/" + id); p.status != http.StatusNotFound {
		t.Errorf("eve's GET /photos/%s = %d, want 404", id, p.status)
	}
	if p := eveGallery.submit("/photos/upload", "/photos/"+id+"/delete", nil); p.status != http.StatusNotFound {
		t.Errorf("eve's delete form for ada's photo = %d, want 404", p.status)
	}
	if r := e.api(ada, http.MethodGet, "/api/photos/"+id, nil); r.str("caption") != "edited" || !e.exists(key) {
		t.Errorf("after eve's attempts ada's photo is %s (object exists: %v), want it untouched", r.Raw, e.exists(key))
	}
	want(t, e.api(ada, http.MethodGet, "/api/photos/not-a-uuid", nil), http.StatusNotFound, "photo_not_found")

	want(t, e.api(ada, http.MethodDelete, "/api/photos/"+id, nil), http.StatusNoContent, "")
	for _, k := range []string{key, thumb} {
		if e.exists(k) {
			t.Errorf("%s is still in storage after DELETE", k)
		}
	}
	want(t, e.api(ada, http.MethodGet, "/api/photos/"+id, nil), http.StatusNotFound, "photo_not_found")
	want(t, e.api(ada, http.MethodDelete, "/api/photos/"+id, nil), http.StatusNotFound, "photo_not_found")
	if r := e.api(ada, http.MethodGet, "/api/photos", nil); len(r.JSON["photos"].([]any)) != 0 {
		t.Errorf("gallery after DELETE = %s, want empty", r.Raw)
	}
}
