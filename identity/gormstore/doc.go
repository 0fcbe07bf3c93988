// Package gormstore keeps the user pool in SQL: it implements identity.Store
// with gorm, on PostgreSQL and on the embedded SQLite, with the same code and
// the same schema.
//
// In the Cognito picture this is the user pool's database: users and their
// attributes, one-time codes, sessions and their refresh-token families, the
// throttle counters that must hold across replicas, the audit trail, and the
// private keys that sign the pool's JWTs. The domain rules live in package
// identity; this package only stores and finds, and does the few things that
// must happen inside the database to be correct under concurrency (counting
// attempts, locking a refresh token).
//
// # Using it
//
//	db, err := database.Open(ctx, os.Getenv("DATABASE_URL"), database.Options{})
//	...
//	if err := gormstore.Migrate(ctx, db); err != nil { ... }
//	pool, err := identity.New(ctx, cfg, gormstore.New(db), mailer, hasher, log)
//
// # Conventions
//
//   - "Not there" is an error satisfying errors.Is(err, identity.ErrNotFound),
//     from lookups, from writes aimed at a missing row (UpdateUser,
//     TouchSession, RevokeSession, MarkRefreshTokenRotated, AddCodeAttempt,
//     DeleteCode, RetireKey) and from inserts that name a missing parent (a
//     code or session of an unknown user, a refresh token of an unknown
//     session). When the missing thing is a user, the error is also
//     identity.ErrUserNotFound. ClearAttempts and DeleteKey are the
//     exceptions: forgetting what is not there is not an error.
//   - A duplicate email returns identity.ErrEmailTaken.
//   - Times are stored in UTC at microsecond precision, PostgreSQL's, so a
//     value reads back the same on both databases (SQLite keeps times as
//     text, and text sorts by instant only when every value has the same
//     offset). The store writes the times it is given, because the domain
//     owns the clock; it fills in only a zero CreatedAt or Event.At, and
//     stamps throttle rows with the server's time for housekeeping.
//   - Every error is wrapped with the operation that failed
//     ("gormstore: create user: ..."), except that Tx returns the error of
//     the function it ran unchanged.
//
// # Schema
//
// The tables are created by Migrations, the "identity" component's history
// (see internal/database.Migrate). The row structs in this package mirror the
// latest schema; the migrations spell out their own SQL so that history never
// changes when the row structs do.
package gormstore
