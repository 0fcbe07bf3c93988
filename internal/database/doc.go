// Package database is how Pinhole reaches its SQL database: one connection
// pool, opened through gorm, shared by every part of the app that keeps state
// (the user pool's users, sessions and signing keys; the photo index; audit
// events; throttling counters).
//
// Two databases are supported and tested with the same suite:
//
//   - the embedded default, a SQLite file under ./.data/ (pure Go, no cgo), so
//     `make run` works on a machine with nothing but Go installed;
//   - PostgreSQL, chosen with DATABASE_URL=postgres://..., for production and
//     for running several replicas against one database.
//
// Open hides the differences that matter at connection time (DSN syntax,
// SQLite pragmas, pool sizes, a fail-fast ping). Everything above this package
// talks to a *gorm.DB and, where SQL differs between the two, looks at
// DB.Dialect.
//
// # Where the schema lives
//
// This package owns no tables except its own bookkeeping table,
// schema_migrations. Each owner of tables declares its schema as an ordered
// list of Migration values next to its store code (for example
// identity/<store>/migrations.go) and calls Migrate with its own component
// name ("identity", "photos", ...) when it starts.
//
// Versions are counted per component rather than globally so that packages
// evolve independently: the user pool can add its fifth migration without
// knowing or caring how many the photo store has, two people adding
// migrations to different packages never collide on a version number, and the
// identity package keeps importing nothing else of ours.
//
// A migration is history: once it has run anywhere it must never change,
// because databases that already applied it will not run it again. That is
// why Migrate refuses a recorded version whose name differs from the code,
// and why a migration should declare its own frozen struct types (or plain
// SQL) instead of reusing the live model, which keeps changing after the
// migration is written.
package database
