package app

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
)

// Pinger is a dependency that can say whether it is reachable. The database
// and object storage both satisfy it; /readyz asks each one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the collaborators the web layer needs. They are built (and closed)
// by the caller, so tests can hand in whatever real or fake parts they need.
type Deps struct {
	Config  Config
	Logger  *slog.Logger
	DB      Pinger
	Storage Pinger
	// Identity is the user pool.
	Identity *identity.Service
}

// server carries the dependencies every handler shares.
type server struct {
	cfg     Config
	log     *slog.Logger
	db      Pinger
	storage Pinger
	ids     *identity.Service
}

// NewServer builds the Echo instance with every route and middleware wired.
// It does not listen: the caller owns the http.Server and its lifetime.
func NewServer(deps Deps) *echo.Echo {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{cfg: deps.Config, log: deps.Logger, db: deps.DB, storage: deps.Storage, ids: deps.Identity}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	s.useMiddleware(e)
	s.routes(e)
	return e
}
