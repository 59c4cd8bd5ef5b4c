package http

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"stockd/web"
)

// dashboardPolicy lets the page load nothing but the service's own files and
// talk to nothing but the service's own API: the dashboard must work where
// no other host can be reached, and a page that tried would be a defect the
// browser reports.
const dashboardPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// registerDashboard serves the dashboard (package web) at GET /, the API
// description rendered at GET /docs, and their files under /static/. Both
// pages are under the same policy.
func registerDashboard(e *echo.Echo) {
	index, docs := mustRead("index.html"), mustRead("docs.html")
	headers := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", dashboardPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			// The files have no modification time in the binary: ask the
			// browser to check again rather than keep a stale page after an
			// upgrade.
			h.Set("Cache-Control", "no-cache")
			return next(c)
		}
	}
	e.GET("/", func(c echo.Context) error {
		return c.HTMLBlob(http.StatusOK, index)
	}, headers, etagged)
	e.GET("/docs", func(c echo.Context) error {
		return c.HTMLBlob(http.StatusOK, docs)
	}, headers, etagged)
	e.GET("/static/*", staticFiles("/static/", web.Files), headers, etagged)
}

func mustRead(name string) []byte {
	b, err := fs.ReadFile(web.Files, name)
	if err != nil {
		// The pages are embedded at compile time: only a broken build gets here.
		panic(err)
	}
	return b
}
