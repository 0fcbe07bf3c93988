package app

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/storage"
	"github.com/pinhole/pinhole/views"
)

// The photo pages: the gallery, one photo with its caption and delete
// forms, and the upload page. They call the same storage.Gallery methods as
// the JSON API in photos_api.go. Images are shown through presigned GET
// URLs that MinIO serves, so the app sends HTML, never photo bytes.

// handlePhotosPage serves the gallery, one page at a time (?cursor=).
func (s *server) handlePhotosPage(c echo.Context) error {
	ctx := c.Request().Context()
	nav, err := s.nav(c)
	if err != nil {
		return err
	}
	cursor := c.QueryParam("cursor")
	list, err := s.gallery.List(ctx, principal(c).Sub, cursor, storage.DefaultPageSize)
	if err != nil {
		return err
	}
	page := views.PhotosPage{Notice: s.takeNotice(c)}
	if cursor != "" {
		page.FirstURL = "/photos"
	}
	if list.Next != "" {
		page.OlderURL = withQuery("/photos", "cursor", list.Next)
	}
	for i := range list.Photos {
		p := &list.Photos[i]
		links, err := s.gallery.Links(ctx, p)
		if err != nil {
			return err
		}
		page.Photos = append(page.Photos, views.PhotoCard{ID: p.ID, ThumbURL: links.Thumb, Caption: p.Caption, CreatedAt: p.CreatedAt})
	}
	return render(c, http.StatusOK, views.Photos(nav, page))
}

// renderPhoto renders one photo's page with status, after edit has filled in
// the state of a refused form.
func (s *server) renderPhoto(c echo.Context, status int, edit func(*views.PhotoPage)) error {
	ctx := c.Request().Context()
	nav, err := s.nav(c)
	if err != nil {
		return err
	}
	p, err := s.gallery.Get(ctx, principal(c).Sub, c.Param("id"))
	if err != nil {
		return err
	}
	links, err := s.gallery.Links(ctx, p)
	if err != nil {
		return err
	}
	page := views.PhotoPage{
		CSRF: csrfToken(c), ID: p.ID, URL: links.Photo, Caption: p.Caption,
		URLMinutes:  max(1, int(time.Until(links.Expires).Round(time.Minute).Minutes())),
		ContentType: p.ContentType, Size: storage.FormatSize(p.Size), CreatedAt: p.CreatedAt,
		CaptionForm:      views.CaptionForm{Caption: p.Caption},
		MaxCaptionLength: storage.MaxCaptionLength,
	}
	edit(&page)
	return render(c, status, views.Photo(nav, page))
}

func (s *server) handlePhotoPage(c echo.Context) error {
	notice := s.takeNotice(c)
	return s.renderPhoto(c, http.StatusOK, func(page *views.PhotoPage) { page.Notice = notice })
}

// handleCaptionForm saves a caption from the photo page.
func (s *server) handleCaptionForm(c echo.Context) error {
	caption := c.FormValue("caption")
	_, err := s.gallery.UpdateCaption(c.Request().Context(), principal(c).Sub, c.Param("id"), caption)
	if err == nil {
		return s.redirectWithNotice(c, "/photos/"+c.Param("id"), noticeCaptionSaved)
	}
	st, status, unhandled := formFailure(c, err, map[string]string{"caption": "caption"})
	if unhandled != nil {
		return unhandled
	}
	if status == http.StatusNotFound {
		// The photo is gone (deleted in another tab): the 404 page says so.
		return err
	}
	return s.renderPhoto(c, status, func(page *views.PhotoPage) {
		page.CaptionForm = views.CaptionForm{FormState: st, Caption: caption}
	})
}

// handleDeletePhotoForm deletes a photo from its page, then shows the
// gallery.
func (s *server) handleDeletePhotoForm(c echo.Context) error {
	if err := s.gallery.Delete(c.Request().Context(), principal(c).Sub, c.Param("id")); err != nil {
		return err
	}
	return s.redirectWithNotice(c, "/photos", noticePhotoDeleted)
}

// handleUploadPage serves the upload page; static/upload.js does the work.
func (s *server) handleUploadPage(c echo.Context) error {
	nav, err := s.nav(c)
	if err != nil {
		return err
	}
	limit := s.gallery.MaxPhotoBytes()
	return render(c, http.StatusOK, views.Upload(nav, views.UploadPage{MaxPhotoBytes: limit, MaxPhotoSize: storage.FormatSize(limit)}))
}
