package app

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/storage"
)

// The photos JSON API (SPEC §4). The browser uploads a photo and its
// thumbnail straight to MinIO, then registers them here; the gallery pages
// in pages_photos.go call the same storage.Gallery methods.

// photoView is the public shape of a photo. It carries short-lived
// presigned URLs instead of anything a client would have to sign itself.
type photoView struct {
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	ThumbKey    string    `json:"thumb_key"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	Caption     string    `json:"caption"`
	CreatedAt   time.Time `json:"created_at"`
	// URL and ThumbURL are presigned GETs, valid until URLsExpireAt.
	URL          string    `json:"url"`
	ThumbURL     string    `json:"thumb_url"`
	URLsExpireAt time.Time `json:"urls_expire_at"`
}

func (s *server) newPhotoView(ctx context.Context, p *storage.Photo) (photoView, error) {
	links, err := s.gallery.Links(ctx, p)
	if err != nil {
		return photoView{}, err
	}
	return photoView{
		ID: p.ID, Key: p.Key, ThumbKey: p.ThumbKey, Size: p.Size, ContentType: p.ContentType,
		Caption: p.Caption, CreatedAt: p.CreatedAt,
		URL: links.Photo, ThumbURL: links.Thumb, URLsExpireAt: links.Expires,
	}, nil
}

// handleRegisterPhoto records an upload: POST /api/photos
// {id, key, thumb_key, caption?} -> 201 with the photo.
func (s *server) handleRegisterPhoto(c echo.Context) error {
	var params storage.RegisterParams
	if err := decodeJSON(c, &params); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.gallery.Register(ctx, principal(c).Sub, params)
	if err != nil {
		return err
	}
	view, err := s.newPhotoView(ctx, p)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/photos/"+p.ID)
	return c.JSON(http.StatusCreated, view)
}

// photoPage is one page of GET /api/photos. NextCursor is "" on the last
// page; otherwise pass it back as ?cursor= for the next (older) photos.
type photoPage struct {
	Photos     []photoView `json:"photos"`
	NextCursor string      `json:"next_cursor"`
}

// handleListPhotos answers GET /api/photos?cursor=&limit=, newest first.
func (s *server) handleListPhotos(c echo.Context) error {
	limit, err := pageLimit(c.QueryParam("limit"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	page, err := s.gallery.List(ctx, principal(c).Sub, c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	out := photoPage{Photos: make([]photoView, 0, len(page.Photos)), NextCursor: page.Next}
	for i := range page.Photos {
		view, err := s.newPhotoView(ctx, &page.Photos[i])
		if err != nil {
			return err
		}
		out.Photos = append(out.Photos, view)
	}
	return c.JSON(http.StatusOK, out)
}

// pageLimit reads ?limit=: empty means the default page size; anything but
// a whole number from 1 to storage.MaxPageSize is refused rather than
// quietly changed, so a client learns about its mistake.
func pageLimit(raw string) (int, error) {
	if raw == "" {
		return storage.DefaultPageSize, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > storage.MaxPageSize {
		rule := "a whole number from 1 to " + strconv.Itoa(storage.MaxPageSize)
		return 0, &APIError{Status: http.StatusBadRequest, Code: "validation_failed",
			Message: "limit must be " + rule + ".", Fields: map[string]string{"limit": "Must be " + rule + "."}}
	}
	return n, nil
}

// handleGetPhoto answers GET /api/photos/:id, with fresh links.
func (s *server) handleGetPhoto(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.gallery.Get(ctx, principal(c).Sub, c.Param("id"))
	if err != nil {
		return err
	}
	view, err := s.newPhotoView(ctx, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view)
}

// captionParams is the body of PATCH /api/photos/:id. Caption is a pointer
// so that a body without it is refused instead of erasing the caption.
type captionParams struct {
	Caption *string `json:"caption"`
}

// handleUpdatePhoto changes a caption: PATCH /api/photos/:id {caption}.
func (s *server) handleUpdatePhoto(c echo.Context) error {
	var params captionParams
	if err := decodeJSON(c, &params); err != nil {
		return err
	}
	if params.Caption == nil {
		return &APIError{Status: http.StatusBadRequest, Code: "validation_failed",
			Message: "Send the new caption (an empty string removes it).", Fields: map[string]string{"caption": "Required."}}
	}
	ctx := c.Request().Context()
	p, err := s.gallery.UpdateCaption(ctx, principal(c).Sub, c.Param("id"), *params.Caption)
	if err != nil {
		return err
	}
	view, err := s.newPhotoView(ctx, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view)
}

// handleDeletePhoto removes a photo, its objects first: DELETE /api/photos/:id.
func (s *server) handleDeletePhoto(c echo.Context) error {
	if err := s.gallery.Delete(c.Request().Context(), principal(c).Sub, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
