package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pinhole/pinhole/app"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/storage"
	"github.com/pinhole/pinhole/storage/photostore"
)

// identityPool is the storage side of Pinhole: the app's handle on the
// photo bucket, the credential broker and the photo service.
type identityPool struct {
	objects *storage.Client
	broker  *storage.Broker
	gallery *storage.Gallery
}

// newIdentityPool assembles the identity pool from the configuration and
// brings the photo records' schema up to date. It does not contact MinIO:
// the app starts (and reports not-ready) while MinIO is still coming up.
func newIdentityPool(ctx context.Context, cfg app.Config, db *database.DB, log *slog.Logger) (*identityPool, error) {
	m := cfg.MinIO
	objects, err := storage.New(storage.Config{
		Endpoint: m.Endpoint, PublicURL: m.PublicURL,
		AccessKey: m.AccessKey, SecretKey: m.SecretKey,
		Bucket: m.Bucket, Region: m.Region,
	})
	if err != nil {
		return nil, err
	}
	broker, err := storage.NewBroker(storage.BrokerConfig{
		Endpoint: m.Endpoint, PublicURL: m.PublicURL,
		AccessKey: m.AccessKey, SecretKey: m.SecretKey,
		Bucket: m.Bucket, Region: m.Region,
	})
	if err != nil {
		return nil, err
	}
	if err := photostore.Migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("photo records schema: %w", err)
	}
	gallery, err := storage.NewGallery(storage.GalleryConfig{
		Store: photostore.New(db), Objects: objects, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return &identityPool{objects: objects, broker: broker, gallery: gallery}, nil
}
