package storage

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file is the photo half of the package: what a registered photo is,
// the rules an upload must pass before it becomes one, and the Gallery
// service that applies them. The bytes never pass through here: the browser
// PUTs them to MinIO with vended credentials (see Broker), and Register only
// looks at what landed, with StatObject, before recording it.

// Limits on what Register accepts.
const (
	// DefaultMaxPhotoBytes is the largest photo Register accepts unless
	// GalleryConfig says otherwise: 20 MB, as the upload page says.
	DefaultMaxPhotoBytes = 20 << 20
	// MaxThumbBytes bounds a thumbnail. The browser makes a ~400 px JPEG
	// of a few tens of kilobytes; a megabyte leaves room for odd images and
	// still keeps a gallery page light.
	MaxThumbBytes = 1 << 20
	// MaxCaptionLength is the longest caption, in characters (runes).
	MaxCaptionLength = 500
	// DefaultPageSize and MaxPageSize bound one page of List.
	DefaultPageSize = 24
	MaxPageSize     = 100
	// DefaultURLTTL is how long the presigned GET URLs of Links work. Short,
	// because anyone holding one can fetch the image until it expires.
	DefaultURLTTL = 15 * time.Minute
)

// Errors of the photo flows. They reach callers wrapped, often in a
// *PhotoError that names the request field at fault; test with errors.Is.
var (
	// ErrInvalidPhoto means a field is malformed: an id that is not a
	// UUID, a caption that is too long or has control characters.
	ErrInvalidPhoto = errors.New("storage: invalid photo")
	// ErrInvalidKey means a key is not the one the photo must have:
	// users/<owner>/photos/<id>.<ext>, or users/<owner>/thumbs/<id>.jpg.
	ErrInvalidKey = errors.New("storage: invalid object key")
	// ErrObjectMissing means a key names no object: the upload did not
	// happen or has not finished.
	ErrObjectMissing = errors.New("storage: uploaded object is missing")
	// ErrNotAnImage means an object's Content-Type is not a supported image
	// type (or, for a thumbnail, not JPEG), or the object is empty.
	ErrNotAnImage = errors.New("storage: object is not a supported image")
	// ErrTooLarge means an object exceeds its size limit.
	ErrTooLarge = errors.New("storage: object is too large")
	// ErrPhotoExists means a photo with this id is already registered.
	ErrPhotoExists = errors.New("storage: photo already exists")
	// ErrPhotoNotFound means the owner has no photo with this id. Another
	// user's photo is reported the same way, so ids cannot be probed.
	ErrPhotoNotFound = errors.New("storage: photo not found")
	// ErrInvalidCursor means a page cursor was not made by List.
	ErrInvalidCursor = errors.New("storage: invalid page cursor")
)

// PhotoError is a refused photo request. Err is one of the errors above and
// says what kind of refusal it is; Field names the request field at fault
// ("key", "thumb_key", "caption"...), and Problem says what is wrong in a
// sentence fit to show the user, next to that field.
type PhotoError struct {
	Field   string
	Problem string
	Err     error
}

func (e *PhotoError) Error() string { return fmt.Sprintf("%v: %s: %s", e.Err, e.Field, e.Problem) }

// Unwrap lets errors.Is see the kind of refusal.
func (e *PhotoError) Unwrap() error { return e.Err }

func refuse(kind error, field, problem string) error {
	return &PhotoError{Field: field, Problem: problem, Err: kind}
}

// Photo is a registered photo: its metadata, and where its bytes are. It is
// what the database keeps; the bytes live in the photo bucket.
type Photo struct {
	// ID is a UUID chosen by the browser before uploading, so that the
	// object keys are known before the photo is registered.
	ID string
	// Owner is the sub of the user whose folder holds the objects.
	Owner string
	// Key is the photo object, users/<owner>/photos/<id>.<ext>.
	Key string
	// ThumbKey is its thumbnail, users/<owner>/thumbs/<id>.jpg.
	ThumbKey string
	// Size and ContentType are the photo object's, as MinIO reported them
	// at registration.
	Size        int64
	ContentType string
	Caption     string
	CreatedAt   time.Time
}

// PhotoCursor marks a position in a user's photos, newest first: the
// photos after it are older, or as old with a smaller id. Keyset
// pagination like this stays correct (no duplicates, no gaps) while photos
// are added or deleted between pages, which OFFSET does not.
type PhotoCursor struct {
	CreatedAt time.Time
	ID        string
}

// PhotoStore is the persistence Gallery needs; storage/photostore
// implements it on gorm. Every lookup is scoped to an owner, and a photo of
// another owner is reported as ErrPhotoNotFound: the store, not each
// caller, guarantees that nobody reaches another user's photos.
type PhotoStore interface {
	// CreatePhoto inserts p; an existing id gives ErrPhotoExists.
	CreatePhoto(ctx context.Context, p *Photo) error
	// PhotoByID returns owner's photo id, or ErrPhotoNotFound.
	PhotoByID(ctx context.Context, owner, id string) (*Photo, error)
	// ListPhotos returns up to limit of owner's photos, newest first
	// (created_at, then id, descending), starting after the cursor; a nil
	// cursor starts at the newest.
	ListPhotos(ctx context.Context, owner string, after *PhotoCursor, limit int) ([]Photo, error)
	// UpdateCaption sets the caption of owner's photo id, or returns
	// ErrPhotoNotFound.
	UpdateCaption(ctx context.Context, owner, id, caption string) error
	// DeletePhoto deletes owner's photo id, or returns ErrPhotoNotFound.
	DeletePhoto(ctx context.Context, owner, id string) error
}

// GalleryConfig configures a Gallery.
type GalleryConfig struct {
	// Store keeps the photo records.
	Store PhotoStore
	// Objects is the app's handle on the photo bucket: Register stats
	// uploads with it, Delete removes them, Links presigns GETs.
	Objects *Client
	// MaxPhotoBytes bounds a photo; zero means DefaultMaxPhotoBytes.
	MaxPhotoBytes int64
	// URLTTL is the lifetime of the URLs Links returns; zero means
	// DefaultURLTTL.
	URLTTL time.Duration
	// Now stamps new photos; nil means time.Now.
	Now func() time.Time
	// Logger receives clean-up failures that must not change the answer
	// (see Register); nil discards them.
	Logger *slog.Logger
}

// Gallery is the photo service: it registers uploads after checking them,
// lists, edits and deletes a user's photos, and hands out short-lived links
// to them. Every method takes the owner's sub from the caller, which must
// have taken it from a verified token, never from the request.
type Gallery struct {
	store    PhotoStore
	objects  *Client
	maxPhoto int64
	urlTTL   time.Duration
	now      func() time.Time
	log      *slog.Logger
}

// NewGallery checks cfg and builds a Gallery.
func NewGallery(cfg GalleryConfig) (*Gallery, error) {
	if cfg.Store == nil || cfg.Objects == nil {
		return nil, errors.New("storage: gallery: a store and an object client are required")
	}
	if cfg.MaxPhotoBytes == 0 {
		cfg.MaxPhotoBytes = DefaultMaxPhotoBytes
	}
	if cfg.MaxPhotoBytes < 0 {
		return nil, fmt.Errorf("storage: gallery: negative MaxPhotoBytes %d", cfg.MaxPhotoBytes)
	}
	if cfg.URLTTL == 0 {
		cfg.URLTTL = DefaultURLTTL
	}
	if cfg.URLTTL < minPresignTTL || cfg.URLTTL > maxPresignTTL {
		return nil, fmt.Errorf("storage: gallery: URL lifetime %s is outside [%s, %s]", cfg.URLTTL, minPresignTTL, maxPresignTTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Gallery{
		store: cfg.Store, objects: cfg.Objects, maxPhoto: cfg.MaxPhotoBytes,
		urlTTL: cfg.URLTTL, now: cfg.Now, log: cfg.Logger,
	}, nil
}

// MaxPhotoBytes is the largest photo Register accepts, for the upload page
// to check before a byte is sent.
func (g *Gallery) MaxPhotoBytes() int64 { return g.maxPhoto }

// RegisterParams is what the browser says about a finished upload.
type RegisterParams struct {
	ID       string `json:"id"`
	Key      string `json:"key"`
	ThumbKey string `json:"thumb_key"`
	Caption  string `json:"caption"`
}

// Register records a photo the browser has uploaded to owner's folder.
// Nothing in params is trusted: the keys must be exactly the ones owner's
// photo id must have (so they lie in owner's folder, whatever the request
// says), both objects must exist, the photo must be a supported image type
// within MaxPhotoBytes, the thumbnail a JPEG within MaxThumbBytes.
//
// When an object is refused for its type or size, Register deletes the
// photo and its thumbnail: they are in owner's own folder, of no use
// unregistered, and would otherwise linger unseen. Objects that are merely
// missing are left alone (an upload may still be finishing), as are the
// objects of an id that is already registered (they are that photo's).
func (g *Gallery) Register(ctx context.Context, owner string, params RegisterParams) (*Photo, error) {
	prefix, err := UserPrefix(owner)
	if err != nil {
		return nil, err
	}
	if err := checkKeys(prefix, params); err != nil {
		return nil, err
	}
	caption, err := checkCaption(params.Caption)
	if err != nil {
		return nil, err
	}
	// A second registration of the same id would fail at the insert
	// anyway; checking first keeps the checks below from deleting the
	// objects of a photo that is already registered.
	switch _, err := g.store.PhotoByID(ctx, owner, params.ID); {
	case err == nil:
		return nil, refuse(ErrPhotoExists, "id", "A photo with this id is already registered.")
	case !errors.Is(err, ErrPhotoNotFound):
		return nil, fmt.Errorf("storage: register photo: %w", err)
	}

	photo, err := g.objects.Stat(ctx, params.Key)
	if err != nil {
		return nil, statFailure("key", err)
	}
	thumb, err := g.objects.Stat(ctx, params.ThumbKey)
	if err != nil {
		return nil, statFailure("thumb_key", err)
	}
	if err := g.checkObjects(photo, thumb); err != nil {
		// Deleting uses the request's context: if the caller has gone, the
		// objects stay, which is what would happen without this clean-up.
		if delErr := g.objects.Delete(ctx, params.Key, params.ThumbKey); delErr != nil {
			g.log.WarnContext(ctx, "refused upload not deleted", "key", params.Key, "thumb_key", params.ThumbKey, "err", delErr)
		}
		return nil, err
	}

	p := &Photo{
		ID:          params.ID,
		Owner:       owner,
		Key:         params.Key,
		ThumbKey:    params.ThumbKey,
		Size:        photo.Size,
		ContentType: mediaType(photo.ContentType),
		Caption:     caption,
		CreatedAt:   g.now().UTC().Truncate(time.Microsecond),
	}
	if err := g.store.CreatePhoto(ctx, p); err != nil {
		if errors.Is(err, ErrPhotoExists) {
			return nil, refuse(ErrPhotoExists, "id", "A photo with this id is already registered.")
		}
		return nil, fmt.Errorf("storage: register photo: %w", err)
	}
	return p, nil
}

// statFailure turns a failed Stat of field's key into Register's answer.
func statFailure(field string, err error) error {
	if errors.Is(err, ErrObjectNotFound) {
		return refuse(ErrObjectMissing, field, "Nothing was uploaded at this key. Upload the file first, then register it.")
	}
	return fmt.Errorf("storage: register photo: %w", err)
}

// photoExtensions are the file extensions a photo key may end in.
var photoExtensions = map[string]bool{
	"jpg": true, "jpeg": true, "png": true, "gif": true, "webp": true, "heic": true, "avif": true,
}

// photoTypes are the Content-Types a photo may have. It is a list rather
// than "image/*" because image/svg+xml is an image that can run scripts:
// opened from its presigned URL, it would execute in MinIO's origin.
var photoTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true,
	"image/heic": true, "image/heif": true, "image/avif": true,
}

// PhotoKey returns the key a photo must have: users/<owner>/photos/<id>.<ext>.
// It is what the browser computes too; the server recomputes it rather than
// trusting the one it is sent.
func PhotoKey(owner, id, ext string) (string, error) {
	prefix, err := UserPrefix(owner)
	if err != nil {
		return "", err
	}
	return prefix + "photos/" + id + "." + ext, nil
}

// ThumbKey returns the key a photo's thumbnail must have:
// users/<owner>/thumbs/<id>.jpg.
func ThumbKey(owner, id string) (string, error) {
	prefix, err := UserPrefix(owner)
	if err != nil {
		return "", err
	}
	return prefix + "thumbs/" + id + ".jpg", nil
}

// checkKeys checks the id and that both keys are exactly what they must be
// for it under prefix (the owner's folder). Comparing whole strings, rather
// than checking that a key "starts with" the folder, is what keeps out
// users/<me>/../<you>/..., another user's folder, and a thumbnail key passed
// as the photo.
func checkKeys(prefix string, p RegisterParams) error {
	if !subjectPattern.MatchString(p.ID) {
		return refuse(ErrInvalidPhoto, "id", "The id must be a lower-case UUID, like crypto.randomUUID() makes.")
	}
	base := prefix + "photos/" + p.ID + "."
	ext, ok := strings.CutPrefix(p.Key, base)
	if !ok || !photoExtensions[ext] {
		return refuse(ErrInvalidKey, "key",
			"The photo's key must be "+base+"<ext>, with ext one of jpg, jpeg, png, gif, webp, heic or avif.")
	}
	if want := prefix + "thumbs/" + p.ID + ".jpg"; p.ThumbKey != want {
		return refuse(ErrInvalidKey, "thumb_key", "The thumbnail's key must be "+want+".")
	}
	return nil
}

// checkObjects applies the type and size rules to what MinIO holds.
func (g *Gallery) checkObjects(photo, thumb ObjectInfo) error {
	switch {
	case !photoTypes[mediaType(photo.ContentType)]:
		return refuse(ErrNotAnImage, "key", "The photo must be a JPEG, PNG, GIF, WebP, HEIC or AVIF image, uploaded with its image Content-Type.")
	case photo.Size == 0:
		return refuse(ErrNotAnImage, "key", "The photo is empty.")
	case photo.Size > g.maxPhoto:
		return refuse(ErrTooLarge, "key", fmt.Sprintf("The photo is %s; the limit is %s.", FormatSize(photo.Size), FormatSize(g.maxPhoto)))
	case mediaType(thumb.ContentType) != "image/jpeg" || thumb.Size == 0:
		return refuse(ErrNotAnImage, "thumb_key", "The thumbnail must be a JPEG image, uploaded as image/jpeg.")
	case thumb.Size > MaxThumbBytes:
		return refuse(ErrTooLarge, "thumb_key", fmt.Sprintf("The thumbnail is %s; the limit is %s.", FormatSize(thumb.Size), FormatSize(MaxThumbBytes)))
	}
	return nil
}

// mediaType is a Content-Type without parameters, in lower case; "" when
// it cannot be parsed.
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return mt
}

// FormatSize says a byte count the way people read file sizes: "20 MB",
// "3.2 MB", "512 KB". Refusals and the pages use it alike, so they agree.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.3g MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.3g KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkCaption trims a caption and checks it: valid UTF-8, at most
// MaxCaptionLength characters, and no control characters but tab and line
// breaks (a NUL would also be refused by PostgreSQL, as a 500).
func checkCaption(caption string) (string, error) {
	caption = strings.TrimSpace(caption)
	if !utf8.ValidString(caption) {
		return "", refuse(ErrInvalidPhoto, "caption", "The caption is not valid text.")
	}
	if n := utf8.RuneCountInString(caption); n > MaxCaptionLength {
		return "", refuse(ErrInvalidPhoto, "caption", fmt.Sprintf("Use at most %d characters (this caption has %d).", MaxCaptionLength, n))
	}
	for _, r := range caption {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return "", refuse(ErrInvalidPhoto, "caption", "The caption contains a control character.")
		}
	}
	return caption, nil
}

// Get returns owner's photo id. Any other id, including another user's
// photo, gives ErrPhotoNotFound.
func (g *Gallery) Get(ctx context.Context, owner, id string) (*Photo, error) {
	if !subjectPattern.MatchString(id) {
		return nil, ErrPhotoNotFound
	}
	p, err := g.store.PhotoByID(ctx, owner, id)
	if err != nil {
		return nil, fmt.Errorf("storage: get photo: %w", err)
	}
	return p, nil
}

// Page is one page of a user's photos, newest first.
type Page struct {
	Photos []Photo
	// Next is the cursor of the following (older) page; "" on the last.
	Next string
}

// List returns one page of owner's photos, newest first, starting after
// cursor ("" for the newest). limit is clamped to [1, MaxPageSize]; zero
// means DefaultPageSize.
func (g *Gallery) List(ctx context.Context, owner, cursor string, limit int) (Page, error) {
	if _, err := UserPrefix(owner); err != nil {
		return Page{}, err
	}
	if limit == 0 {
		limit = DefaultPageSize
	}
	limit = max(1, min(limit, MaxPageSize))
	var after *PhotoCursor
	if cursor != "" {
		c, err := decodeCursor(cursor)
		if err != nil {
			return Page{}, err
		}
		after = &c
	}
	// One more than asked tells whether another page follows, without a
	// COUNT and without ever handing out a cursor to an empty page.
	photos, err := g.store.ListPhotos(ctx, owner, after, limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("storage: list photos: %w", err)
	}
	page := Page{Photos: photos}
	if len(photos) > limit {
		page.Photos = photos[:limit]
		last := page.Photos[limit-1]
		page.Next = encodeCursor(PhotoCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return page, nil
}

// encodeCursor makes a cursor opaque to clients, so they pass it back
// rather than build one; it is not secret (it only ever selects the
// caller's own photos).
func encodeCursor(c PhotoCursor) string {
	raw := c.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (PhotoCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return PhotoCursor{}, fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok || !subjectPattern.MatchString(id) {
		return PhotoCursor{}, ErrInvalidCursor
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return PhotoCursor{}, fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	return PhotoCursor{CreatedAt: t.UTC(), ID: id}, nil
}

// UpdateCaption replaces the caption of owner's photo id and returns the
// photo as it now is.
func (g *Gallery) UpdateCaption(ctx context.Context, owner, id, caption string) (*Photo, error) {
	caption, err := checkCaption(caption)
	if err != nil {
		return nil, err
	}
	if !subjectPattern.MatchString(id) {
		return nil, ErrPhotoNotFound
	}
	if err := g.store.UpdateCaption(ctx, owner, id, caption); err != nil {
		return nil, fmt.Errorf("storage: update caption: %w", err)
	}
	return g.Get(ctx, owner, id)
}

// Delete removes owner's photo id: its objects first, then its record. In
// that order a failure leaves a photo that can still be seen and deleted
// again (deleting a missing object succeeds), never a record of objects
// that are gone or objects that no record points at.
func (g *Gallery) Delete(ctx context.Context, owner, id string) error {
	p, err := g.Get(ctx, owner, id)
	if err != nil {
		return err
	}
	if err := g.objects.Delete(ctx, p.Key, p.ThumbKey); err != nil {
		return fmt.Errorf("storage: delete photo: %w", err)
	}
	if err := g.store.DeletePhoto(ctx, owner, id); err != nil {
		return fmt.Errorf("storage: delete photo: %w", err)
	}
	return nil
}

// Links are presigned GET URLs of a photo and its thumbnail.
type Links struct {
	Photo, Thumb string
	// Expires is when the URLs stop working.
	Expires time.Time
}

// Links presigns GETs of p's photo and thumbnail for the gallery's URL
// lifetime. Signing happens locally, so galleries render while MinIO is
// down (the images then fail to load, the page does not).
func (g *Gallery) Links(ctx context.Context, p *Photo) (Links, error) {
	// The wall clock, not g.now: minio-go dates the signature with it, and
	// Expires must say when MinIO will stop honouring the URLs.
	expires := time.Now().Add(g.urlTTL)
	photo, err := g.objects.PresignGetAs(ctx, p.Key, p.ContentType, g.urlTTL)
	if err != nil {
		return Links{}, err
	}
	thumb, err := g.objects.PresignGetAs(ctx, p.ThumbKey, "image/jpeg", g.urlTTL)
	if err != nil {
		return Links{}, err
	}
	return Links{Photo: photo, Thumb: thumb, Expires: expires}, nil
}
