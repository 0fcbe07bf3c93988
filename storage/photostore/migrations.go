package photostore

import (
	"fmt"

	"gorm.io/gorm"

	"github.com/pinhole/pinhole/internal/database"
)

// Migrations is the photo records' schema history, recorded as component
// "photos" (Component). Add a step at the end to change the schema; never
// edit a released step (see database.Migration).
var Migrations = []database.Migration{
	{Version: 1, Name: "create_photos", Up: createPhotos},
}

// timeType is each dialect's column type for a time.Time. SQLite has none:
// the driver writes text, and reads it back as a time only for columns
// declared DATETIME. Like the identity component's columnTypes, entries may
// be added but never changed.
var timeType = map[string]string{
	"postgres": "TIMESTAMPTZ",
	"sqlite":   "DATETIME",
}

// createPhotos is migration 1: the photos table, in SQL rather than derived
// from photoRow, because history must not change when the struct does.
//
//   - id is the browser-chosen UUID and the primary key; lookups still
//     always name the owner too (see Store), so knowing an id is not enough.
//   - object_key is unique: two records of one object would let deleting
//     one break the other. It is not called "key", a reserved word in
//     some SQL dialects.
//   - (owner, created_at, id) serves a user's gallery, newest first, and
//     its keyset pagination, with no sort step on either database.
func createPhotos(tx *gorm.DB) error {
	timeT, ok := timeType[tx.Dialector.Name()]
	if !ok {
		return fmt.Errorf("no time type for dialect %q", tx.Dialector.Name())
	}
	statements := []string{`
CREATE TABLE photos (
	id           VARCHAR(36)  NOT NULL PRIMARY KEY,
	owner        VARCHAR(36)  NOT NULL,
	object_key   VARCHAR(255) NOT NULL,
	thumb_key    VARCHAR(255) NOT NULL,
	size         BIGINT       NOT NULL,
	content_type VARCHAR(100) NOT NULL,
	caption      TEXT         NOT NULL DEFAULT '',
	created_at   ` + timeT + ` NOT NULL,
	CONSTRAINT photos_object_key_key UNIQUE (object_key)
)`,
		`CREATE INDEX photos_owner_created_at_id_idx ON photos (owner, created_at, id)`,
	}
	return database.ExecEach(tx, statements...)
}
