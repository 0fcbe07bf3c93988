package app

import (
	"context"
	"log/slog"
	"net"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/storage"
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
	// Broker vends per-user storage credentials (the identity pool) and
	// Photos is the photo service. Tests of the user pool alone may leave
	// them nil; the photo routes then answer 503 storage_unavailable.
	Broker *storage.Broker
	Photos *storage.Gallery
}

// server carries the dependencies every handler shares.
type server struct {
	cfg     Config
	log     *slog.Logger
	db      Pinger
	storage Pinger
	ids     *identity.Service
	broker  *storage.Broker
	gallery *storage.Gallery
}

// ipExtractor decides where c.RealIP() comes from. By default it is the TCP
// peer: forwarding headers are trivial to forge, and trusting them would let
// anyone escape per-IP throttling and write any address into the audit
// trail. Behind a reverse proxy, name its networks and X-Forwarded-For is
// read, trusting only hops inside them.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// NewServer builds the Echo instance with every route and middleware wired.
// It does not listen: the caller owns the http.Server and its lifetime.
func NewServer(deps Deps) *echo.Echo {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{
		cfg: deps.Config, log: deps.Logger, db: deps.DB, storage: deps.Storage, ids: deps.Identity,
		broker: deps.Broker, gallery: deps.Photos,
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(deps.Config.TrustedProxies)
	s.useMiddleware(e)
	s.routes(e)
	return e
}
