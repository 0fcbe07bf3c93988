package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"gorm.io/gorm"
)

// Migration is one step in a component's schema history.
//
// Up runs inside a transaction that also records the step, so it either
// happens completely or not at all (PostgreSQL and SQLite both roll back
// DDL). Consequently Up must not use statements PostgreSQL refuses inside a
// transaction, such as CREATE INDEX CONCURRENTLY. Up must use only tx, never
// the *DB it came from: it would run outside the transaction, and with
// SQLite, whose single write lock the migration holds, it would block until
// it timed out.
//
// Once released, a migration is frozen: fix mistakes with a new migration.
//
// Portable choices: CreateTable, AddColumn and CreateIndex from tx.Migrator()
// on struct types declared inside Up, or plain SQL both dialects accept
// (ALTER TABLE ... ADD/DROP/RENAME COLUMN all work on PostgreSQL and on the
// embedded SQLite). Beware gorm's SQLite DropColumn and AlterColumn: they
// rebuild the whole table from the CREATE TABLE text SQLite stored, and
// DropColumn silently does nothing when that text names columns without
// quotes (as hand-written SQL usually does). Prefer ALTER TABLE for those.
type Migration struct {
	// Version is the step's position, 1 for the first; versions run 1..n.
	Version int
	// Name is a short snake_case description ("create_users"), recorded
	// with the version so edits to history are caught.
	Name string
	// Up applies the step using tx.
	Up func(tx *gorm.DB) error
}

// ExecEach runs SQL statements in order, one per Exec: PostgreSQL's extended
// protocol, which pgx uses, refuses several statements in one string. It is
// the body of most migration steps.
func ExecEach(tx *gorm.DB, statements ...string) error {
	for _, sql := range statements {
		if err := tx.Exec(sql).Error; err != nil {
			return err
		}
	}
	return nil
}

// ExecStatements is a migration step (an Up) made of SQL statements that
// read the same on every dialect.
func ExecStatements(statements ...string) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error { return ExecEach(tx, statements...) }
}

// ErrInvalidMigrations reports a migration list that is wrong before any
// database is involved: versions not 1..n in order, a missing name or Up, a
// bad component name.
var ErrInvalidMigrations = errors.New("invalid migration list")

// ErrHistoryMismatch reports a database whose recorded migrations disagree
// with the code: a recorded name differs (history was edited), or the
// database is at a version the code does not know (it was migrated by a
// newer Pinhole).
var ErrHistoryMismatch = errors.New("migration history does not match the code")

// schemaMigration is a row of schema_migrations: component's migration
// Version, called Name, ran at AppliedAt.
type schemaMigration struct {
	Component string    `gorm:"primaryKey;size:100"`
	Version   int       `gorm:"primaryKey;autoIncrement:false"`
	Name      string    `gorm:"size:255;not null"`
	AppliedAt time.Time `gorm:"not null"`
}

// TableName spells the table's name out so that it never depends on gorm's
// naming strategy.
func (schemaMigration) TableName() string { return "schema_migrations" }

// Migrate brings component's tables up to date: it applies, in order, every
// migration in migrations that schema_migrations does not record yet, and
// returns how many it applied.
//
// Each migration runs in its own transaction together with its bookkeeping
// row, so a failure leaves the schema at the previous version and the next
// run retries the failed step. Running Migrate again is a no-op; running it
// with a longer list upgrades the database. Several replicas may call it at
// once: on PostgreSQL a transaction-scoped advisory lock per component lets
// one of them apply each step; SQLite serialises writers by itself.
//
// On SQLite, migrations run with foreign key enforcement off (see
// migrationSession for why) and PRAGMA foreign_key_check before each commit,
// so they still cannot leave a row pointing at nothing.
func Migrate(ctx context.Context, db *DB, component string, migrations []Migration) (applied int, err error) {
	if err := validate(component, migrations); err != nil {
		return 0, err
	}
	err = db.migrationSession(ctx, func(conn *gorm.DB) error {
		if err := createBookkeeping(conn, db.Dialect); err != nil {
			return fmt.Errorf("database: create schema_migrations: %w", err)
		}
		for {
			// One transaction per step: lock, re-read the history (another
			// replica may have moved it on while we waited), apply the next
			// step, record it.
			done := false
			stepErr := conn.Transaction(func(tx *gorm.DB) error {
				if err := lock(tx, db.Dialect, "component/"+component); err != nil {
					return err
				}
				var recorded []schemaMigration
				if err := tx.Where("component = ?", component).Order("version").Find(&recorded).Error; err != nil {
					return fmt.Errorf("database: read %s migration history: %w", component, err)
				}
				if err := checkHistory(component, recorded, migrations); err != nil {
					return err
				}
				if len(recorded) == len(migrations) {
					done = true
					return nil
				}
				m := migrations[len(recorded)]
				if err := m.Up(tx); err != nil {
					return fmt.Errorf("database: %s migration %d (%s): %w", component, m.Version, m.Name, err)
				}
				if db.Dialect == SQLite {
					if err := checkForeignKeys(tx); err != nil {
						return fmt.Errorf("database: %s migration %d (%s): %w", component, m.Version, m.Name, err)
					}
				}
				row := schemaMigration{Component: component, Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}
				if err := tx.Create(&row).Error; err != nil {
					return fmt.Errorf("database: record %s migration %d: %w", component, m.Version, err)
				}
				return nil
			})
			if stepErr != nil {
				return stepErr
			}
			if done {
				return nil
			}
			applied++
		}
	})
	return applied, err
}

// Version reports the last migration of component recorded in the database,
// 0 if none has run.
func Version(ctx context.Context, db *DB, component string) (int, error) {
	gdb := db.WithContext(ctx)
	if !gdb.Migrator().HasTable(&schemaMigration{}) {
		// HasTable also says false when the database is down; tell the two
		// apart rather than report version 0 for an unreachable database.
		if err := db.Ping(ctx); err != nil {
			return 0, fmt.Errorf("database: read %s schema version: %w", component, err)
		}
		return 0, nil
	}
	var v int
	err := gdb.Model(&schemaMigration{}).
		Where("component = ?", component).
		Select("COALESCE(MAX(version), 0)").
		Scan(&v).Error
	if err != nil {
		return 0, fmt.Errorf("database: read %s schema version: %w", component, err)
	}
	return v, nil
}

func validate(component string, migrations []Migration) error {
	if component == "" || len(component) > 100 {
		return fmt.Errorf("database: component name must be 1 to 100 bytes, got %q: %w", component, ErrInvalidMigrations)
	}
	for i, m := range migrations {
		if m.Version != i+1 {
			return fmt.Errorf("database: %s migration #%d has version %d, want %d (versions run 1..n in order, without gaps): %w",
				component, i+1, m.Version, i+1, ErrInvalidMigrations)
		}
		if m.Name == "" || len(m.Name) > 255 {
			return fmt.Errorf("database: %s migration %d needs a name of 1 to 255 bytes: %w", component, m.Version, ErrInvalidMigrations)
		}
		if m.Up == nil {
			return fmt.Errorf("database: %s migration %d (%s) has no Up function: %w", component, m.Version, m.Name, ErrInvalidMigrations)
		}
	}
	return nil
}

// checkHistory compares what the database recorded with the code's list.
// recorded is ordered by version.
func checkHistory(component string, recorded []schemaMigration, migrations []Migration) error {
	for i, r := range recorded {
		if r.Version != i+1 {
			return fmt.Errorf("database: %s has migration %d recorded where %d was expected: %w", component, r.Version, i+1, ErrHistoryMismatch)
		}
		if i >= len(migrations) {
			return fmt.Errorf("database: %s is at version %d but this build knows only %d migrations (was it migrated by a newer Pinhole?): %w",
				component, recorded[len(recorded)-1].Version, len(migrations), ErrHistoryMismatch)
		}
		if want := migrations[i].Name; r.Name != want {
			return fmt.Errorf("database: %s migration %d was applied as %q but the code now calls it %q; never edit an applied migration, add a new one: %w",
				component, r.Version, r.Name, want, ErrHistoryMismatch)
		}
	}
	return nil
}

// createBookkeeping creates schema_migrations if needed. Two replicas
// creating it at once would collide even with IF NOT EXISTS on PostgreSQL
// (a race on its catalog), hence the lock.
func createBookkeeping(conn *gorm.DB, dialect Dialect) error {
	return conn.Transaction(func(tx *gorm.DB) error {
		if err := lock(tx, dialect, "bookkeeping"); err != nil {
			return err
		}
		if tx.Migrator().HasTable(&schemaMigration{}) {
			return nil
		}
		return tx.Migrator().CreateTable(&schemaMigration{})
	})
}

// lock serialises migrators of the same name until tx ends. PostgreSQL
// needs an advisory lock; SQLite transactions here begin IMMEDIATE, which
// already holds the database's single write lock.
func lock(tx *gorm.DB, dialect Dialect, name string) error {
	if dialect != Postgres {
		return nil
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", lockKey(name)).Error; err != nil {
		return fmt.Errorf("database: lock migrations (%s): %w", name, err)
	}
	return nil
}

// lockKey maps a lock name to PostgreSQL's 64-bit advisory lock key space.
// The prefix keeps Pinhole's keys apart from any other user of advisory
// locks in the same database.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("pinhole/schema_migrations/" + name))
	return int64(h.Sum64())
}

// migrationSession runs fn with a session suitable for migrating.
//
// On SQLite that is one pinned connection with foreign keys switched off,
// which is SQLite's documented recipe for schema changes: gorm's Migrator
// changes a column by rebuilding the table (create a copy, DROP the
// original, rename), and with foreign keys on, that DROP deletes the rows of
// every child table declared ON DELETE CASCADE. The switch must happen
// outside a transaction (inside one it is silently ignored), hence the
// pinned connection. Migrate runs PRAGMA foreign_key_check before each
// commit instead, so a migration still cannot leave dangling references.
func (db *DB) migrationSession(ctx context.Context, fn func(conn *gorm.DB) error) error {
	if db.Dialect != SQLite {
		return fn(db.WithContext(ctx))
	}
	return db.WithContext(ctx).Connection(func(pinned *gorm.DB) (err error) {
		conn := pinned.WithContext(ctx)
		if err := conn.Exec("PRAGMA foreign_keys = OFF").Error; err != nil {
			return fmt.Errorf("database: disable foreign keys for migration: %w", err)
		}
		defer func() {
			// Restore even if ctx is cancelled: this connection goes back to
			// the pool and must enforce foreign keys for the next user.
			restore := conn.WithContext(context.WithoutCancel(ctx)).Exec("PRAGMA foreign_keys = ON").Error
			if restore == nil {
				return
			}
			// Could not restore it: make database/sql throw the connection
			// away instead of pooling it.
			if c, ok := conn.Statement.ConnPool.(*sql.Conn); ok {
				_ = c.Raw(func(any) error { return driver.ErrBadConn })
			}
			err = errors.Join(err, fmt.Errorf("database: re-enable foreign keys after migration: %w", restore))
		}()
		return fn(conn)
	})
}

// checkForeignKeys fails if any row references a missing parent row.
func checkForeignKeys(tx *gorm.DB) error {
	rows, err := tx.Raw("PRAGMA foreign_key_check").Rows()
	if err != nil {
		return fmt.Errorf("check foreign keys: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		var (
			table, parent string
			rowid, fkid   sql.NullInt64
		)
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return fmt.Errorf("check foreign keys: %w", err)
		}
		return fmt.Errorf("%s row %d references a missing row in %s: %w", table, rowid.Int64, parent, gorm.ErrForeignKeyViolated)
	}
	return rows.Err()
}
