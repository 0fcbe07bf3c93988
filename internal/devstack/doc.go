// Package devstack starts the real services Pinhole leans on (MinIO for the
// identity pool's object storage, PostgreSQL for the user pool, Mailpit for
// the mail that sign-up and recovery send) as child processes on loopback.
//
// It exists so that `pinhole dev` and the test suite share one launcher:
// whatever works on a developer's laptop is exactly what the integration
// tests exercise, with no Docker engine required. Each service is a plain
// program found on disk (PostgreSQL from the OS packages, MinIO and Mailpit
// built from pinned Go modules into ./bin by [Tool.Ensure]).
//
// Every child gets its own process group and, on Linux, a parent-death
// signal, so a crashed test binary or a killed `pinhole dev` cannot leave a
// database or object store running in the background. The context passed to
// a Start function bounds only the start-up wait; a started service runs
// until its Stop or Close method is called, which keeps shutdown explicit
// and ordered (t.Cleanup, deferred Close) rather than a side effect of some
// context being cancelled elsewhere.
package devstack
