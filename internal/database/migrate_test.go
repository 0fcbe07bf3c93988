package database_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

// The "notes" component is a small example of how an owner of tables writes
// its migrations: each step declares the frozen struct it needs (never the
// live model, which keeps changing) or uses SQL both dialects accept.

func createNotes(tx *gorm.DB) error {
	type note struct {
		ID   int64  `gorm:"primaryKey"`
		Body string `gorm:"not null"`
	}
	return tx.Table("notes").Migrator().CreateTable(&note{})
}

func addNotesAuthor(tx *gorm.DB) error {
	type note struct {
		Author string `gorm:"size:100;not null;default:anonymous"`
	}
	return tx.Table("notes").Migrator().AddColumn(&note{}, "Author")
}

// indexNotesAuthor is plain SQL, the way most steps are written.
var indexNotesAuthor = database.ExecStatements(
	"CREATE INDEX notes_author ON notes (author)",
	"CREATE INDEX notes_body ON notes (body)",
)

func notesV1() []database.Migration {
	return []database.Migration{
		{Version: 1, Name: "create_notes", Up: createNotes},
	}
}

func notesV2() []database.Migration {
	return append(notesV1(), database.Migration{Version: 2, Name: "add_notes_author", Up: addNotesAuthor})
}

func notesV3() []database.Migration {
	return append(notesV2(), database.Migration{Version: 3, Name: "index_notes_author", Up: indexNotesAuthor})
}

// mustMigrate runs Migrate and checks how many steps it applied.
func mustMigrate(t *testing.T, db *database.DB, component string, migrations []database.Migration, wantApplied int) {
	t.Helper()
	applied, err := database.Migrate(testenv.Context(t), db, component, migrations)
	if err != nil {
		t.Fatalf("Migrate(%s): %v", component, err)
	}
	if applied != wantApplied {
		t.Fatalf("Migrate(%s) applied %d migrations, want %d", component, applied, wantApplied)
	}
}

// wantVersion checks the version recorded for component.
func wantVersion(t *testing.T, db *database.DB, component string, want int) {
	t.Helper()
	got, err := database.Version(testenv.Context(t), db, component)
	if err != nil {
		t.Fatalf("Version(%s): %v", component, err)
	}
	if got != want {
		t.Fatalf("Version(%s) = %d, want %d", component, got, want)
	}
}

// wantTable checks whether table exists.
func wantTable(t *testing.T, db *database.DB, table string, want bool) {
	t.Helper()
	if got := db.WithContext(testenv.Context(t)).Migrator().HasTable(table); got != want {
		t.Fatalf("HasTable(%s) = %v, want %v", table, got, want)
	}
}

// countRows counts the rows of table matching where.
func countRows(t *testing.T, db *database.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.WithContext(testenv.Context(t)).Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestMigrateFreshDatabase(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		wantVersion(t, db, "notes", 0)

		mustMigrate(t, db, "notes", notesV3(), 3)
		wantVersion(t, db, "notes", 3)
		wantTable(t, db, "notes", true)
		// Step 3 is several statements: every one of them ran.
		for _, index := range []string{"notes_author", "notes_body"} {
			if !db.Migrator().HasIndex("notes", index) {
				t.Errorf("index %s is missing after migrating", index)
			}
		}
		if got := countRows(t, db, "schema_migrations", "component = ?", "notes"); got != 3 {
			t.Errorf("schema_migrations has %d rows for notes, want 3", got)
		}

		// The second run finds nothing to do.
		mustMigrate(t, db, "notes", notesV3(), 0)
		wantVersion(t, db, "notes", 3)
	})
}

func TestMigrateUpgradeKeepsData(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		ctx := testenv.Context(t)

		mustMigrate(t, db, "notes", notesV1(), 1)
		if err := db.WithContext(ctx).Exec("INSERT INTO notes (body) VALUES (?)", "hello").Error; err != nil {
			t.Fatalf("insert note: %v", err)
		}

		// A later build ships two more migrations.
		mustMigrate(t, db, "notes", notesV3(), 2)
		wantVersion(t, db, "notes", 3)

		var got struct{ Body, Author string }
		if err := db.WithContext(ctx).Table("notes").Select("body, author").Take(&got).Error; err != nil {
			t.Fatalf("read note: %v", err)
		}
		if got.Body != "hello" || got.Author != "anonymous" {
			t.Errorf("note after upgrade = %+v, want body hello, author anonymous", got)
		}
	})
}

func TestMigrateFailureRollsBack(t *testing.T) {
	t.Parallel()
	createTags := func(tx *gorm.DB) error {
		return tx.Exec("CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(50) NOT NULL)").Error
	}
	broken := append(notesV1(), database.Migration{Version: 2, Name: "create_tags", Up: func(tx *gorm.DB) error {
		if err := createTags(tx); err != nil {
			return err
		}
		// The second statement fails: the table created above must go too.
		return tx.Exec("INSERT INTO no_such_table (id) VALUES (1)").Error
	}})
	fixed := append(notesV1(), database.Migration{Version: 2, Name: "create_tags", Up: createTags})

	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)

		applied, err := database.Migrate(testenv.Context(t), db, "notes", broken)
		if err == nil {
			t.Fatal("Migrate with a failing migration: got nil error, want one")
		}
		if !strings.Contains(err.Error(), "notes migration 2 (create_tags)") {
			t.Errorf("error %q does not name the failing migration", err)
		}
		if applied != 1 {
			t.Errorf("applied = %d, want 1 (the good first migration)", applied)
		}
		wantVersion(t, db, "notes", 1)
		wantTable(t, db, "tags", false)

		// Once fixed, the next run retries the step.
		mustMigrate(t, db, "notes", fixed, 1)
		wantVersion(t, db, "notes", 2)
		wantTable(t, db, "tags", true)
	})
}

func TestMigrateRejectsEditedHistory(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		mustMigrate(t, db, "notes", notesV2(), 2)

		edited := notesV3()
		edited[1].Name = "add_author_to_notes"
		applied, err := database.Migrate(testenv.Context(t), db, "notes", edited)
		if !errors.Is(err, database.ErrHistoryMismatch) {
			t.Fatalf("Migrate with an edited name: got error %v, want ErrHistoryMismatch", err)
		}
		for _, name := range []string{`"add_notes_author"`, `"add_author_to_notes"`} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not mention %s", err, name)
			}
		}
		if applied != 0 {
			t.Errorf("applied = %d, want 0", applied)
		}
		wantVersion(t, db, "notes", 2)
	})
}

func TestMigrateRejectsDatabaseNewerThanCode(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		mustMigrate(t, db, "notes", notesV3(), 3)

		_, err := database.Migrate(testenv.Context(t), db, "notes", notesV1())
		if !errors.Is(err, database.ErrHistoryMismatch) {
			t.Fatalf("Migrate with an older list: got error %v, want ErrHistoryMismatch", err)
		}
		wantVersion(t, db, "notes", 3)
	})
}

func TestMigrateRejectsInvalidList(t *testing.T) {
	t.Parallel()
	up := func(*gorm.DB) error { return nil }
	tests := []struct {
		name       string
		component  string
		migrations []database.Migration
	}{
		{"empty component", "", []database.Migration{{Version: 1, Name: "a", Up: up}}},
		{"component too long", strings.Repeat("c", 101), []database.Migration{{Version: 1, Name: "a", Up: up}}},
		{"starts at 0", "notes", []database.Migration{{Version: 0, Name: "a", Up: up}}},
		{"starts at 2", "notes", []database.Migration{{Version: 2, Name: "a", Up: up}}},
		{"gap", "notes", []database.Migration{{Version: 1, Name: "a", Up: up}, {Version: 3, Name: "c", Up: up}}},
		{"duplicate", "notes", []database.Migration{{Version: 1, Name: "a", Up: up}, {Version: 1, Name: "b", Up: up}}},
		{"descending", "notes", []database.Migration{{Version: 2, Name: "b", Up: up}, {Version: 1, Name: "a", Up: up}}},
		{"missing name", "notes", []database.Migration{{Version: 1, Up: up}}},
		{"missing Up", "notes", []database.Migration{{Version: 1, Name: "a"}}},
	}
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				applied, err := database.Migrate(testenv.Context(t), db, tt.component, tt.migrations)
				if !errors.Is(err, database.ErrInvalidMigrations) {
					t.Errorf("got error %v, want ErrInvalidMigrations", err)
				}
				if applied != 0 {
					t.Errorf("applied = %d, want 0", applied)
				}
			})
		}
		// Validation happens before the database is touched.
		wantTable(t, db, "schema_migrations", false)
	})
}

func TestMigrateComponentsAreIndependent(t *testing.T) {
	t.Parallel()
	tags := []database.Migration{{Version: 1, Name: "create_tags", Up: func(tx *gorm.DB) error {
		type tag struct {
			ID    int64  `gorm:"primaryKey"`
			Label string `gorm:"size:50;not null"`
		}
		return tx.Table("tags").Migrator().CreateTable(&tag{})
	}}}
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		mustMigrate(t, db, "notes", notesV3(), 3)
		mustMigrate(t, db, "tags", tags, 1)
		wantVersion(t, db, "notes", 3)
		wantVersion(t, db, "tags", 1)
		wantVersion(t, db, "nobody", 0)
	})
}

func TestMigrateConcurrentReplicas(t *testing.T) {
	t.Parallel()
	const replicas = 6
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		// Each goroutine is a replica starting up with its own pool.
		dbs := make([]*database.DB, replicas)
		for i := range dbs {
			dbs[i] = testenv.OpenDB(t, url)
		}
		ctx := testenv.Context(t)

		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			applied = make([]int, replicas)
			errs    = make([]error, replicas)
		)
		for i, db := range dbs {
			wg.Go(func() {
				<-start
				applied[i], errs[i] = database.Migrate(ctx, db, "notes", notesV3())
			})
		}
		close(start)
		wg.Wait()

		total := 0
		for i := range replicas {
			if errs[i] != nil {
				t.Errorf("replica %d: %v", i, errs[i])
			}
			total += applied[i]
		}
		if total != 3 {
			t.Errorf("replicas applied %d migrations in total (%v), want 3", total, applied)
		}
		wantVersion(t, dbs[0], "notes", 3)
		if got := countRows(t, dbs[0], "schema_migrations", "component = ?", "notes"); got != 3 {
			t.Errorf("schema_migrations has %d rows for notes, want 3", got)
		}
	})
}

// Different components migrating at once on a fresh database all race to
// create schema_migrations.
func TestMigrateConcurrentComponents(t *testing.T) {
	t.Parallel()
	const components = 6
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := testenv.Context(t)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, components)
		for i := range components {
			db := testenv.OpenDB(t, url)
			wg.Go(func() {
				<-start
				table := fmt.Sprintf("things_%d", i)
				_, errs[i] = database.Migrate(ctx, db, table, []database.Migration{{
					Version: 1, Name: "create_" + table,
					Up: func(tx *gorm.DB) error {
						return tx.Exec("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY)").Error
					},
				}})
			})
		}
		close(start)
		wg.Wait()

		db := testenv.OpenDB(t, url)
		for i, err := range errs {
			if err != nil {
				t.Errorf("component %d: %v", i, err)
				continue
			}
			wantVersion(t, db, fmt.Sprintf("things_%d", i), 1)
		}
	})
}

// The "family" component has a foreign key with ON DELETE CASCADE, the shape
// that makes SQLite table rebuilds dangerous.
func createFamily(tx *gorm.DB) error {
	type parent struct {
		ID       int64
		Name     string `gorm:"size:100;not null"`
		Nickname string `gorm:"size:100"`
	}
	type child struct {
		ID       int64
		ParentID int64  `gorm:"not null"`
		Parent   parent `gorm:"constraint:OnDelete:CASCADE"`
	}
	return tx.Migrator().CreateTable(&parent{}, &child{})
}

// On SQLite gorm drops a column by rebuilding the table: copy, DROP the
// original, rename. With foreign keys on, that DROP would cascade to children.
func TestMigrateTableRebuildKeepsChildRows(t *testing.T) {
	t.Parallel()
	family := []database.Migration{
		{Version: 1, Name: "create_family", Up: createFamily},
		{Version: 2, Name: "drop_parents_nickname", Up: func(tx *gorm.DB) error {
			type parent struct{ Nickname string }
			return tx.Table("parents").Migrator().DropColumn(&parent{}, "Nickname")
		}},
	}
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		ctx := testenv.Context(t)
		mustMigrate(t, db, "family", family[:1], 1)
		for _, stmt := range []string{
			"INSERT INTO parents (id, name, nickname) VALUES (1, 'Ada', 'A')",
			"INSERT INTO children (id, parent_id) VALUES (10, 1)",
		} {
			if err := db.WithContext(ctx).Exec(stmt).Error; err != nil {
				t.Fatalf("seed: %v", err)
			}
		}

		mustMigrate(t, db, "family", family, 1)

		if db.WithContext(ctx).Migrator().HasColumn("parents", "nickname") {
			t.Error("parents.nickname still exists after the migration dropped it")
		}
		if got := countRows(t, db, "children", "parent_id = ?", 1); got != 1 {
			t.Errorf("children of parent 1 after the rebuild: got %d, want 1", got)
		}
		// Foreign keys are enforced again afterwards (the migration
		// connection went back to the pool with them on).
		for range 4 {
			err := db.WithContext(ctx).Exec("INSERT INTO children (id, parent_id) VALUES (11, 999)").Error
			if !errors.Is(err, gorm.ErrForeignKeyViolated) {
				t.Fatalf("insert orphan child after migration: got error %v, want ErrForeignKeyViolated", err)
			}
		}
	})
}

func TestMigrateRejectsDanglingReferences(t *testing.T) {
	t.Parallel()
	family := []database.Migration{
		{Version: 1, Name: "create_family", Up: createFamily},
		{Version: 2, Name: "insert_orphan", Up: func(tx *gorm.DB) error {
			return tx.Exec("INSERT INTO children (id, parent_id) VALUES (1, 42)").Error
		}},
	}
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.OpenDB(t, url)
		applied, err := database.Migrate(testenv.Context(t), db, "family", family)
		if !errors.Is(err, gorm.ErrForeignKeyViolated) {
			t.Fatalf("Migrate inserting an orphan row: got error %v, want ErrForeignKeyViolated", err)
		}
		if applied != 1 {
			t.Errorf("applied = %d, want 1", applied)
		}
		wantVersion(t, db, "family", 1)
		if got := countRows(t, db, "children", "1 = 1"); got != 0 {
			t.Errorf("children rows after the failed migration: got %d, want 0", got)
		}
	})
}

func TestMigrateInMemorySQLite(t *testing.T) {
	t.Parallel()
	// One connection only: Migrate must not need a second one (it would
	// wait forever), neither alone nor with several callers queued.
	db := testenv.OpenDB(t, "sqlite::memory:")
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		wg.Go(func() {
			applied, err := database.Migrate(testenv.Context(t), db, "notes", notesV3())
			if err != nil {
				t.Errorf("Migrate: %v", err)
			}
			mu.Lock()
			total += applied
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 3 {
		t.Errorf("applied %d migrations in total, want 3", total)
	}
	wantVersion(t, db, "notes", 3)
}

func TestVersionReportsUnreachableDatabase(t *testing.T) {
	t.Parallel()
	db, err := database.Open(testenv.Context(t), "sqlite::memory:", database.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if v, err := database.Version(testenv.Context(t), db, "notes"); err == nil {
		t.Errorf("Version on a closed database = %d, nil; want an error", v)
	}
}
