package gormstore

import (
	"context"
	"fmt"
	"time"

	"github.com/pinhole/pinhole/identity/token"
	"github.com/pinhole/pinhole/internal/database"
)

// keyRow is a row of signing_keys: one ES256 private key of the pool. The
// table holds private keys in the clear, like the database holds password
// hashes: protect backups and access to it accordingly.
type keyRow struct {
	ID         string     `gorm:"column:id;primaryKey"`
	PrivateDER []byte     `gorm:"column:private_der"`
	CreatedAt  time.Time  `gorm:"column:created_at"` // filled in by gorm on insert when zero
	RetiredAt  *time.Time `gorm:"column:retired_at"`
}

// TableName names the table explicitly, so it never depends on gorm's naming
// strategy.
func (keyRow) TableName() string { return "signing_keys" }

// Keys returns every signing key, oldest first (the contract allows any
// order; a fixed one makes listings and tests predictable).
func (s *Store) Keys(ctx context.Context) ([]token.Key, error) {
	var rows []keyRow
	if err := s.db.WithContext(ctx).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("gormstore: signing keys: %w", err)
	}
	keys := make([]token.Key, len(rows))
	for i, r := range rows {
		keys[i] = token.Key{
			ID:         r.ID,
			PrivateDER: r.PrivateDER,
			CreatedAt:  r.CreatedAt.UTC(),
			RetiredAt:  utcPtr(r.RetiredAt),
		}
	}
	return keys, nil
}

// AddKey stores a new signing key.
func (s *Store) AddKey(ctx context.Context, k token.Key) error {
	row := keyRow{
		ID:         k.ID,
		PrivateDER: k.PrivateDER,
		CreatedAt:  database.Time(k.CreatedAt),
		RetiredAt:  dbTimePtr(k.RetiredAt),
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("gormstore: add signing key: %w", err)
	}
	return nil
}

// RetireKey sets the key's RetiredAt unless it is already set: the first
// retirement counts. An unknown id returns identity.ErrNotFound.
func (s *Store) RetireKey(ctx context.Context, id string, at time.Time) error {
	if err := setOnce(s.db.WithContext(ctx), &keyRow{}, id, "retired_at", at); err != nil {
		return fmt.Errorf("gormstore: retire signing key: %w", err)
	}
	return nil
}

// DeleteKey removes a signing key; deleting a key that is already gone is
// not an error (replicas tidy up the same old keys at the same time).
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	if err := s.db.WithContext(ctx).Where("id = ?", id).Delete(&keyRow{}).Error; err != nil {
		return fmt.Errorf("gormstore: delete signing key: %w", err)
	}
	return nil
}
