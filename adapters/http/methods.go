package http

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// closeAfterChunked closes the connection after answering a request that
// came with Transfer-Encoding. net/http drops a Content-Length sent beside
// it before any handler sees it, so such a request cannot be refused here;
// but a proxy that trusted the Content-Length may have put another request
// behind it on the same connection, and closing is what RFC 9112 (6.1)
// asks for. JSON clients rarely send chunked bodies, so little is lost.
func closeAfterChunked(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(c.Request().TransferEncoding) > 0 {
			c.Response().Header().Set(echo.HeaderConnection, "close")
		}
		return next(c)
	}
}

// headKey marks, in the context, a HEAD request routed as a GET.
const headKey = "stockd.head"

// headAsGet routes a HEAD request to the GET route of its path, so that
// HEAD works wherever GET does (RFC 9110 9.3.2) without a second route for
// each, and drops the body the GET handler writes. It runs before routing;
// restoreHead gives the request its method back once the route is found,
// so that handlers, logs and metrics see HEAD.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodHead {
			// The router reads the method of this very request value.
			r.Method = http.MethodGet
			c.Set(headKey, true)
			c.Response().Writer = &headWriter{ResponseWriter: c.Response().Writer}
		}
		return next(c)
	}
}

func restoreHead(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if head, _ := c.Get(headKey).(bool); head {
			c.Request().Method = http.MethodHead
		}
		return next(c)
	}
}

// headWriter drops the body of a HEAD answer. net/http drops it too on a
// real connection; doing it here makes every ResponseWriter (a test's
// recorder, a middleware's buffer) agree.
type headWriter struct{ http.ResponseWriter }

func (w *headWriter) Write(b []byte) (int, error) { return len(b), nil }

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines).
func (w *headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
