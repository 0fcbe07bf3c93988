package app

import (
	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/static"
)

// routes is the one place that lists every URL Pinhole answers. Read it first
// to find the handler behind any page or API call.
func (s *server) routes(e *echo.Echo) {
	// Operations.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)

	// Assets, embedded in the binary.
	assets := e.Group("/static", cacheAssets)
	assets.StaticFS("/", static.FS)

	// Pages.
	e.GET("/", s.handleHome)

	// Anything else under /api is a JSON 404, everything else an HTML one; the
	// error handler tells them apart by path.
	e.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// cacheAssets lets browsers keep assets briefly. They are not fingerprinted, so
// the lifetime stays short enough that a deploy shows up within minutes.
func cacheAssets(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		return next(c)
	}
}
