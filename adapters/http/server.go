// Package http is the Echo driver of the service: it turns HTTP requests
// into use case calls and their results and errors into JSON responses.
package http

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"stockd/api"
	"stockd/app"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 1 << 20

// Check is one dependency /readyz asks about.
type Check struct {
	Name string
	Ping func(context.Context) error
}

// Deps is what the server drives.
type Deps struct {
	BuyStock   *app.BuyStock
	ListOrders *app.ListOrders
	GetPrices  *app.GetPrices
	Tokens     *app.Tokens // nil when AUTH=off
	RateLimit  int         // requests per second per user (or address); 0 is off
	Checks     []Check
	Registry   *prometheus.Registry // where /metrics reads from and the server's metrics go
	Logger     *slog.Logger

	// ListStocks serves GET /api/stocks and WatchPrices the live stream;
	// StreamPing is how often a quiet stream sends a comment (0 is
	// DefaultStreamPing).
	ListStocks  *app.ListStocks
	WatchPrices *app.WatchPrices
	StreamPing  time.Duration
}

// NewHandler builds the Echo router with every route of the API and the
// operations routes.
func NewHandler(d Deps) *echo.Echo {
	e := newRouter(d.Checks, d.Registry, d.Logger)
	h := &handlers{buy: d.BuyStock, list: d.ListOrders, orders: newOrdersCounter(d.Registry)}
	p := newPriceHandlers(d)
	// The guard is set per route: a group-wide middleware would make Echo
	// answer 404 where the contract wants 405 (another method on a route).
	guard := newGuard(d.Tokens, d.RateLimit).middleware
	e.POST("/api/buy-stock", h.buyStock, guard)
	e.GET("/api/orders", h.listOrders, guard)
	e.GET("/api/stocks", p.listStocks, guard)
	e.GET("/api/stocks/:stock/prices", p.stockPrices, guard)
	e.GET("/api/stocks/:stock/stream", p.stream, guard)
	e.GET("/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", api.OpenAPI) })
	return e
}

// NewOpsHandler serves only /healthz, /readyz and /metrics: what the
// standalone price updater exposes.
func NewOpsHandler(checks []Check, reg *prometheus.Registry, log *slog.Logger) *echo.Echo {
	return newRouter(checks, reg, log)
}

// newRouter is the Echo instance every server shares: the error mapper,
// request ids, metrics, access log, panic recovery, a deadline per request,
// and the operations routes.
func newRouter(checks []Check, reg *prometheus.Registry, log *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The peer address, not X-Forwarded-For: a client must not pick the
	// address it is rate-limited as. Behind a proxy, set a trusting
	// extractor here.
	e.IPExtractor = echo.ExtractIPDirect()
	m := newMetrics(reg)
	e.HTTPErrorHandler = errorHandler(log, m)

	e.Use(middleware.RequestID())
	e.Use(m.middleware)
	e.Use(accessLog(log))
	e.Use(middleware.Recover())
	e.Use(requestDeadline(RequestTimeout))

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", readyz(checks))
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	return e
}

// NewServer wraps handler in a server with timeouts, so that a slow or
// stalled client cannot hold a connection forever.
func NewServer(addr string, handler http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

// RequestTimeout bounds the work of one request, well inside the server's
// write timeout, so that a store that hangs becomes a 503, not a hang.
const RequestTimeout = 10 * time.Second

func requestDeadline(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

func readyz(checks []Check) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		status, results := http.StatusOK, make(map[string]string, len(checks))
		for _, ch := range checks {
			if err := ch.Ping(ctx); err != nil {
				status, results[ch.Name] = http.StatusServiceUnavailable, err.Error()
				continue
			}
			results[ch.Name] = "ok"
		}
		word := "ready"
		if status != http.StatusOK {
			word = "unavailable"
		}
		return c.JSON(status, map[string]any{"status": word, "checks": results})
	}
}

func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRoutePath: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("request_id", v.RequestID), slog.String("method", v.Method),
				slog.String("uri", v.URI), slog.String("route", v.RoutePath),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency))
			return nil
		},
	})
}
