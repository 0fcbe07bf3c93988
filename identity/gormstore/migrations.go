package gormstore

import (
	"fmt"
	"strings"
	"text/template"

	"gorm.io/gorm"

	"github.com/pinhole/pinhole/internal/database"
)

// Migrations is the user pool's schema history, recorded as component
// "identity" (Component). Add a step at the end to change the schema; never
// edit a step once it has been released, because databases that ran it will
// not run it again (see database.Migration).
//
// The tables come from hand-written SQL, so later steps must change columns
// with ALTER TABLE rather than gorm's Migrator: on SQLite its DropColumn and
// AlterColumn rebuild a table by parsing the stored CREATE TABLE text, and
// quietly do nothing with unquoted column names like the ones below.
var Migrations = []database.Migration{
	{Version: 1, Name: "create_user_pool", Up: createUserPool},
	{Version: 2, Name: "audit_events_at_index", Up: database.ExecStatements(
		// Purge deletes audit events past their retention. The trail is the
		// one large table it cleans, and rows are only ever appended, in
		// time order: this index grows at its right edge, which is cheap.
		//
		// Sessions and refresh tokens get no such index, on purpose. Every
		// refresh updates its session row and its token row, and each extra
		// index on those tables is more work on every refresh: PostgreSQL
		// updates a row in place (a HOT update) only when no indexed column
		// changes and the page has room, and otherwise writes an entry into
		// every index. With indexes on sessions(expires_at),
		// sessions(revoked_at) and a partial one on the tokens that hold a
		// sealed successor, BenchmarkRefresh/postgres ran about 9% slower
		// (1,646 against 1,805 refreshes/s, three alternating runs); with
		// this one alone it is on par (1,503 against 1,476, four runs).
		// Purge scans sessions instead: ended ones leave within the hour,
		// so the table holds about the live sessions.
		`CREATE INDEX audit_events_at_idx ON audit_events (at)`,
	)},
}

// createUserPool is migration 1: every table of the user pool.
//
// It is written as SQL rather than derived from the row structs: this text is
// history and must never change, while the structs follow the latest schema.
// Reading it also shows exactly what is in the database, constraints
// included, which gorm's struct tags hide. The two dialects differ only in a
// few type names, filled in from columnTypes.
//
// Why some things are the way they are:
//
//   - users.groups is a JSON array in a text column, not a join table. Groups
//     have no life of their own yet (no description, precedence or role, as
//     Cognito groups have) and are only ever read with their user, to go
//     into tokens. When the pool grows group administration ("who is in
//     admins?"), a groups table and a user_groups join table replace it.
//   - users.attributes is a JSON object for the same reason: custom
//     attributes are declared in configuration, not in the schema, and are
//     read and written with their user.
//   - codes, sessions and refresh_tokens go when their user (or session)
//     goes: ON DELETE CASCADE. audit_events has no foreign key on purpose:
//     the trail must outlive the user, and records attempts on accounts that
//     do not exist (sub is NULL then).
//   - codes.link_hash is unique across purposes: it is the hash of a 256-bit
//     random token, so a clash is a bug worth failing on.
//   - audit_events(sub, at) serves "a user's recent activity", the only
//     query the pool makes of the trail.
func createUserPool(tx *gorm.DB) error {
	types, ok := columnTypes[tx.Dialector.Name()]
	if !ok {
		return fmt.Errorf("no column types for dialect %q", tx.Dialector.Name())
	}
	statements := []string{`
CREATE TABLE users (
	sub                   VARCHAR(36)  NOT NULL PRIMARY KEY,
	email                 VARCHAR(254) NOT NULL,
	email_verified        BOOLEAN      NOT NULL DEFAULT FALSE,
	pending_email         VARCHAR(254) NOT NULL DEFAULT '',
	phone_number          VARCHAR(16)  NOT NULL DEFAULT '',
	phone_number_verified BOOLEAN      NOT NULL DEFAULT FALSE,
	password_hash         TEXT         NOT NULL,
	status                VARCHAR(16)  NOT NULL,
	attributes            TEXT         NOT NULL DEFAULT '{}',
	groups                TEXT         NOT NULL DEFAULT '[]',
	password_changed_at   {{.Time}},
	created_at            {{.Time}}    NOT NULL,
	updated_at            {{.Time}}    NOT NULL,
	CONSTRAINT users_email_key UNIQUE (email)
)`, `
CREATE TABLE codes (
	sub        VARCHAR(36) NOT NULL REFERENCES users (sub) ON DELETE CASCADE,
	purpose    VARCHAR(32) NOT NULL,
	code_hash  {{.Bytes}}  NOT NULL,
	link_hash  {{.Bytes}}  NOT NULL,
	attempts   INTEGER     NOT NULL DEFAULT 0,
	expires_at {{.Time}}   NOT NULL,
	created_at {{.Time}}   NOT NULL,
	PRIMARY KEY (sub, purpose)
)`,
		`CREATE UNIQUE INDEX codes_link_hash_key ON codes (link_hash)`, `
CREATE TABLE sessions (
	id           VARCHAR(64) NOT NULL PRIMARY KEY,
	sub          VARCHAR(36) NOT NULL REFERENCES users (sub) ON DELETE CASCADE,
	auth_time    {{.Time}}   NOT NULL,
	created_at   {{.Time}}   NOT NULL,
	last_used_at {{.Time}}   NOT NULL,
	expires_at   {{.Time}}   NOT NULL,
	revoked_at   {{.Time}},
	ip           TEXT        NOT NULL DEFAULT '',
	user_agent   TEXT        NOT NULL DEFAULT ''
)`,
		`CREATE INDEX sessions_sub_idx ON sessions (sub)`, `
CREATE TABLE refresh_tokens (
	hash             {{.Bytes}}  NOT NULL PRIMARY KEY,
	session_id       VARCHAR(64) NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	created_at       {{.Time}}   NOT NULL,
	rotated_at       {{.Time}},
	successor_sealed {{.Bytes}}
)`,
		`CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id)`, `
CREATE TABLE throttle_windows (
	key      TEXT     NOT NULL PRIMARY KEY,
	count    INTEGER  NOT NULL,
	reset_at {{.Time}} NOT NULL
)`, `
CREATE TABLE throttle_attempts (
	key          TEXT     NOT NULL PRIMARY KEY,
	failures     INTEGER  NOT NULL,
	locked_until {{.Time}},
	updated_at   {{.Time}} NOT NULL
)`, `
CREATE TABLE audit_events (
	id         {{.AutoID}},
	at         {{.Time}}   NOT NULL,
	sub        VARCHAR(36),
	kind       VARCHAR(64) NOT NULL,
	outcome    VARCHAR(16) NOT NULL,
	session_id VARCHAR(64) NOT NULL DEFAULT '',
	ip         TEXT        NOT NULL DEFAULT '',
	user_agent TEXT        NOT NULL DEFAULT '',
	detail     TEXT        NOT NULL DEFAULT ''
)`,
		`CREATE INDEX audit_events_sub_at_idx ON audit_events (sub, at)`, `
CREATE TABLE signing_keys (
	id          VARCHAR(64) NOT NULL PRIMARY KEY,
	private_der {{.Bytes}}  NOT NULL,
	created_at  {{.Time}}   NOT NULL,
	retired_at  {{.Time}}
)`,
	}
	for i, text := range statements {
		sql, err := expand(text, types)
		if err != nil {
			return err
		}
		statements[i] = sql
	}
	return database.ExecEach(tx, statements...)
}

// sqlTypes are the column types the two dialects spell differently.
type sqlTypes struct {
	// Bytes holds []byte: hashes, sealed tokens, DER keys.
	Bytes string
	// Time holds a time.Time. SQLite has no time type; the driver writes
	// text and turns it back into time.Time only for columns declared
	// DATETIME (or DATE, TIMESTAMP).
	Time string
	// AutoID is a whole column definition: an integer primary key numbered
	// by the database.
	AutoID string
}

// columnTypes is keyed by gorm's dialector name. Migrations use it to write
// portable DDL, so it may gain dialects but its entries must never change.
var columnTypes = map[string]sqlTypes{
	"postgres": {
		Bytes:  "BYTEA",
		Time:   "TIMESTAMPTZ",
		AutoID: "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	},
	"sqlite": {
		Bytes: "BLOB",
		Time:  "DATETIME",
		// AUTOINCREMENT never reuses the id of a deleted row, so ids keep
		// increasing even after old events are purged.
		AutoID: "INTEGER PRIMARY KEY AUTOINCREMENT",
	},
}

// expand fills the dialect's types into a statement's {{.Bytes}},
// {{.Time}} and {{.AutoID}}.
func expand(text string, types sqlTypes) (string, error) {
	t, err := template.New("ddl").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, types); err != nil {
		return "", err
	}
	return b.String(), nil
}
