package http

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This test is inside the package: it drives registerDashboard alone, so it
// needs none of the API's ports.
func dashboardServer() *echo.Echo {
	e := echo.New()
	registerDashboard(e)
	return e
}

func get(e *echo.Echo, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestDashboardPageAtRoot(t *testing.T) {
	t.Parallel()
	rec := get(dashboardServer(), "/")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/html; charset=UTF-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, dashboardPolicy, rec.Header().Get("Content-Security-Policy"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	body := rec.Body.String()
	assert.Contains(t, body, "<title>stockd")
	assert.Contains(t, body, `id="buy-form"`)
	assert.Contains(t, body, `id="orders-table"`)
}

// GET /docs is the API description rendered by the vendored Swagger UI,
// under the dashboard's policy: no other host, no inline script.
func TestDocsPage(t *testing.T) {
	t.Parallel()
	rec := get(dashboardServer(), "/docs")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/html; charset=UTF-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, dashboardPolicy, rec.Header().Get("Content-Security-Policy"))
	body := rec.Body.String()
	assert.Contains(t, body, `src="/static/vendor/swagger-ui-bundle.js"`)
	assert.Contains(t, body, `src="/static/docs.js"`)
	assert.NotRegexp(t, `<script(?: [^>]*)?>[^<]`, body, "no inline script: the policy would refuse it")
}

// Every file the pages name must be served, with a type the browser accepts
// under nosniff: a renamed file would otherwise leave a blank page.
func TestDashboardServesWhatThePageNames(t *testing.T) {
	t.Parallel()
	e := dashboardServer()
	page := get(e, "/").Body.String() + get(e, "/docs").Body.String()
	// What the browser loads with the page (links to other pages are
	// other routes, tested with them).
	refs := regexp.MustCompile(`<(?:script|link)[^>]* (?:src|href)="(/[^"]*)"`).FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, refs)
	wantType := map[string]string{".js": "text/javascript", ".css": "text/css"}
	for _, ref := range refs {
		path := ref[1]
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			rec := get(e, path)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Positive(t, rec.Body.Len())
			for ext, typ := range wantType {
				if strings.HasSuffix(path, ext) {
					assert.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), typ), "%s served as %q", path, rec.Header().Get("Content-Type"))
				}
			}
			assert.Equal(t, dashboardPolicy, rec.Header().Get("Content-Security-Policy"))
		})
	}
}

func TestDashboardUnknownFileIsNotFound(t *testing.T) {
	t.Parallel()
	e := dashboardServer()
	for _, target := range []string{"/static/nope.js", "/static/../embed.go", "/nope"} {
		assert.Equal(t, http.StatusNotFound, get(e, target).Code, target)
	}
}
