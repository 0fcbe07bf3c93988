// Package app is Pinhole's web adapter: it turns HTTP requests (JSON API and
// templ pages) into calls on the user pool (package identity) and the identity
// pool (package storage), and their results back into responses.
//
// routes.go lists every URL; handlers are grouped by feature; errors.go is the
// one table that maps domain errors to a status, a stable code and a safe
// message. Nothing in here is an identity or storage rule: those live in their
// own packages so they can be read and tested without a web server.
package app
