package app

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/views"
)

// handleHome serves the landing page.
func (s *server) handleHome(c echo.Context) error {
	return render(c, http.StatusOK, views.Home(views.Nav{}))
}

// render writes a templ component. It renders into a buffer first so that a
// failing component becomes a proper error page instead of half a page with a
// 200 status already sent.
func render(c echo.Context, status int, page templ.Component) error {
	var buf bytes.Buffer
	if err := page.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("app: render page: %w", err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}
