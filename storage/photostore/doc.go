// Package photostore keeps the identity pool's photo records in SQL: it
// implements storage.PhotoStore with gorm, on PostgreSQL and on the embedded
// SQLite, with the same code and the same schema.
//
// A record is what the app knows about a photo it has accepted (owner, object
// keys, size, type, caption, when); the bytes stay in MinIO. Every query is
// scoped to an owner, so a photo of another user is simply "not found".
//
// # Using it
//
//	if err := photostore.Migrate(ctx, db); err != nil { ... }
//	gallery, err := storage.NewGallery(storage.GalleryConfig{Store: photostore.New(db), Objects: objects})
//
// # Schema
//
// The photos table is created by Migrations, the "photos" component's
// history (see internal/database.Migrate). It deliberately has no foreign key
// to the user pool's users table: the two components migrate independently,
// and storage knows a user only as a sub string.
package photostore
