package photostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/storage"
)

// Component is the name the photo records' migrations are recorded under in
// schema_migrations.
const Component = "photos"

// Store keeps photo records on gorm. Create it with New; it is safe for
// concurrent use.
type Store struct {
	db *gorm.DB
}

var _ storage.PhotoStore = (*Store)(nil)

// New returns a Store on db. The schema must be up to date: call Migrate
// first.
func New(db *database.DB) *Store {
	return &Store{db: db.DB}
}

// Migrate brings the photos table up to date; it is
// database.Migrate(ctx, db, Component, Migrations).
func Migrate(ctx context.Context, db *database.DB) error {
	if _, err := database.Migrate(ctx, db, Component, Migrations); err != nil {
		return fmt.Errorf("photostore: migrate: %w", err)
	}
	return nil
}

// photoRow is a row of photos.
type photoRow struct {
	ID          string    `gorm:"column:id;primaryKey"`
	Owner       string    `gorm:"column:owner"`
	Key         string    `gorm:"column:object_key"`
	ThumbKey    string    `gorm:"column:thumb_key"`
	Size        int64     `gorm:"column:size"`
	ContentType string    `gorm:"column:content_type"`
	Caption     string    `gorm:"column:caption"`
	CreatedAt   time.Time `gorm:"column:created_at"`
}

// TableName names the table explicitly, so it never depends on gorm's naming
// strategy.
func (photoRow) TableName() string { return "photos" }

func (r *photoRow) photo() *storage.Photo {
	return &storage.Photo{
		ID: r.ID, Owner: r.Owner, Key: r.Key, ThumbKey: r.ThumbKey,
		Size: r.Size, ContentType: r.ContentType, Caption: r.Caption,
		// PostgreSQL's driver reads times back in local time.
		CreatedAt: r.CreatedAt.UTC(),
	}
}

// CreatePhoto inserts p, with its CreatedAt as given (the gallery owns the
// clock). An id or object key already recorded returns storage.ErrPhotoExists.
func (s *Store) CreatePhoto(ctx context.Context, p *storage.Photo) error {
	row := photoRow{
		ID: p.ID, Owner: p.Owner, Key: p.Key, ThumbKey: p.ThumbKey,
		Size: p.Size, ContentType: p.ContentType, Caption: p.Caption,
		CreatedAt: database.Time(p.CreatedAt),
	}
	err := s.db.WithContext(ctx).Create(&row).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		err = storage.ErrPhotoExists
	}
	if err != nil {
		return fmt.Errorf("photostore: create photo: %w", err)
	}
	return nil
}

// PhotoByID returns owner's photo id; any other photo, another owner's
// included, returns storage.ErrPhotoNotFound.
func (s *Store) PhotoByID(ctx context.Context, owner, id string) (*storage.Photo, error) {
	var row photoRow
	err := s.db.WithContext(ctx).Where("id = ? AND owner = ?", id, owner).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		err = storage.ErrPhotoNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("photostore: photo by id: %w", err)
	}
	return row.photo(), nil
}

// ListPhotos returns up to limit of owner's photos, newest first, after the
// cursor (nil: from the newest). Photos created in the same microsecond are
// ordered by id, so the order is total and a cursor names one exact place.
func (s *Store) ListPhotos(ctx context.Context, owner string, after *storage.PhotoCursor, limit int) ([]storage.Photo, error) {
	if limit < 1 {
		return nil, fmt.Errorf("photostore: list photos: limit must be positive, got %d", limit)
	}
	q := s.db.WithContext(ctx).Where("owner = ?", owner)
	if after != nil {
		// The row-value form (created_at, id) < (?, ?) says the same, but
		// spelled out it is plain SQL that both databases plan onto the
		// (owner, created_at, id) index.
		at := database.Time(after.CreatedAt)
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", at, at, after.ID)
	}
	var rows []photoRow
	if err := q.Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("photostore: list photos: %w", err)
	}
	photos := make([]storage.Photo, len(rows))
	for i := range rows {
		photos[i] = *rows[i].photo()
	}
	return photos, nil
}

// UpdateCaption sets the caption of owner's photo id.
func (s *Store) UpdateCaption(ctx context.Context, owner, id, caption string) error {
	res := s.db.WithContext(ctx).Model(&photoRow{}).
		Where("id = ? AND owner = ?", id, owner).
		Update("caption", caption)
	return affectedOne("update caption", res)
}

// DeletePhoto deletes owner's photo id.
func (s *Store) DeletePhoto(ctx context.Context, owner, id string) error {
	res := s.db.WithContext(ctx).Where("id = ? AND owner = ?", id, owner).Delete(&photoRow{})
	return affectedOne("delete photo", res)
}

// affectedOne turns the result of a write aimed at one photo into an error:
// the database's, or storage.ErrPhotoNotFound when no row matched.
func affectedOne(op string, res *gorm.DB) error {
	if res.Error != nil {
		return fmt.Errorf("photostore: %s: %w", op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("photostore: %s: %w", op, storage.ErrPhotoNotFound)
	}
	return nil
}
