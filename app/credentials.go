package app

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/storage"
)

// The identity pool's one endpoint (SPEC §3): a signed-in user's session is
// exchanged for temporary MinIO credentials that reach only their folder.
// The browser signs its uploads with them, so photo bytes never pass through
// the app.

// handleCredentials answers POST /api/credentials. The sub comes from the
// verified access token (requireAuth), never from the request, and the
// session id keys the broker's cache, so one session costs at most one STS
// call per ~48 minutes however often its pages ask. Every vend, granted or
// not, goes into the user's audit trail.
func (s *server) handleCredentials(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	creds, err := s.broker.Vend(ctx, p.Sub, p.SessionID)
	if err != nil {
		// The audit detail is the error code the caller saw, so the
		// activity list can say why.
		s.ids.RecordEvent(ctx, p, identity.EventCredentialsVend, identity.OutcomeFailure, publicError(err).Code, requestMeta(c))
		return err
	}
	s.ids.RecordEvent(ctx, p, identity.EventCredentialsVend, identity.OutcomeSuccess, "", requestMeta(c))
	return c.JSON(http.StatusOK, creds)
}

// forgetCredentials drops the broker's cached credentials of sessions that
// just ended. It is tidiness, not the security boundary: a vend needs an
// active session, so an ended session's entry could never be handed out
// again anyway. Nor can it recall credentials already handed out; STS
// credentials stay valid until their expiration (an hour by default),
// which is why their lifetime is kept short (see the README).
func (s *server) forgetCredentials(sessionIDs ...string) {
	if s.broker == nil {
		return
	}
	for _, id := range sessionIDs {
		s.broker.Forget(id)
	}
}

// signOutEverywhere ends every session of the caller (this one included)
// and forgets their cached credentials. The sessions are listed first,
// because afterwards there are none left to list.
func (s *server) signOutEverywhere(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	sessions, err := s.ids.Sessions(ctx, p)
	if err != nil {
		return err
	}
	if err := s.ids.GlobalSignOut(ctx, p, requestMeta(c)); err != nil {
		return err
	}
	for _, sess := range sessions {
		s.forgetCredentials(sess.ID)
	}
	return nil
}

// needStorage guards the routes that need the broker and the gallery, so a
// server built without them (tests of the user pool alone) answers 503
// instead of panicking.
func (s *server) needStorage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.broker == nil || s.gallery == nil {
			return errStorageNotConfigured
		}
		return next(c)
	}
}

var errStorageNotConfigured = errors.Join(storage.ErrUnavailable, errNotConfigured)
