// Package http is the Echo driver of the service: it turns HTTP requests
// into use case calls and their results and errors into JSON responses.
package http

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"stockd/api"
	"stockd/app"
	"stockd/ports"
)

// Check is one dependency /readyz asks about.
type Check struct {
	Name string
	Ping func(context.Context) error
}

// Deps is what the server drives.
type Deps struct {
	BuyStock     *app.BuyStock
	SellStock    *app.SellStock
	GetPositions *app.GetPositions
	ListOrders   *app.ListOrders
	GetOrder     *app.GetOrder
	GetPrices    *app.GetPrices
	GetUser      *app.GetUser
	Tokens       *app.Tokens // nil when AUTH=off
	// AddressLimiter limits requests per peer address in this process,
	// before any token lookup; UserLimiter limits them per token user and
	// is shared by every API process. Nil is no limit.
	AddressLimiter ports.RateLimiter
	UserLimiter    ports.RateLimiter
	// CursorKey authenticates paging cursors. Every process serving the
	// API must have the same one, or a cursor from one is refused by
	// another. When it is empty, CursorSecret fetches the shared one (kept
	// in the order store) on first use; with neither, a random key serves
	// this process alone.
	CursorKey    []byte
	CursorSecret func(context.Context) ([]byte, error)
	// CORSOrigins are the browser origins allowed to call the API from
	// their pages; none (the default) answers OPTIONS with 405.
	CORSOrigins []string
	Checks      []Check
	Registry    *prometheus.Registry // where /metrics reads from and the server's metrics go
	Logger      *slog.Logger

	// ListStocks serves GET /api/stocks, ListDays a stock's days and
	// WatchPrices the live stream; StreamPing is how often a stream sends
	// a comment (0 is DefaultStreamPing).
	ListStocks  *app.ListStocks
	ListDays    *app.ListDays
	WatchPrices *app.WatchPrices
	StreamPing  time.Duration
	// Zone is the market's time zone (APP_TIMEZONE; nil is UTC), in which
	// the price routes' days and times are; GET /api/stocks names it.
	Zone *time.Location

	// StreamLimitPerClient and StreamLimit bound the open streams per
	// client address and in all (0: the defaults); StreamLifetime is how
	// long a stream lasts before it is ended with a reconnection hint (0:
	// DefaultStreamLifetime). Draining, when not nil, is the one Serve is
	// given: its shutdown ends the streams.
	StreamLimitPerClient int
	StreamLimit          int
	StreamLifetime       time.Duration
	Draining             *Draining
	// TrustedProxies are the load balancers (TRUSTED_PROXIES) whose
	// X-Forwarded-For names the client; none: the peer is the client.
	TrustedProxies []*net.IPNet
	// TracerProvider, when set, gives each API request a server span (see
	// traceRequests); nil (tracing off) adds nothing.
	TracerProvider trace.TracerProvider
}

// NewHandler builds the Echo router with every route of the API and the
// operations routes.
func NewHandler(d Deps) *echo.Echo {
	e, m := newRouter(d.Checks, d.Registry, d.Logger, d.CORSOrigins, d.TracerProvider)
	if len(d.TrustedProxies) > 0 {
		e.IPExtractor = clientBehind(d.TrustedProxies)
	}
	cursors := cursorCodecsOf(d)
	h := &handlers{buy: d.BuyStock, sell: d.SellStock, positions: d.GetPositions, list: d.ListOrders, get: d.GetOrder, users: d.GetUser,
		cursors: cursors, orders: newOrdersCounter(d.Registry)}
	p := newPriceHandlers(d, cursors)
	// The guard is set per route: a group-wide middleware would make Echo
	// answer 404 where the contract wants 405 (another method on a route).
	guard := newGuard(d.Tokens, d.AddressLimiter, d.UserLimiter, d.Logger, time.Now).middleware
	e.POST("/api/buy-stock", h.buyStock, guard)
	e.GET("/api/orders", h.listOrders, guard)
	e.GET("/api/orders/:id", h.getOrder, guard)
	e.GET("/api/users/:user", h.getUser, guard)
	e.POST("/api/sell-stock", h.sellStock, guard)
	e.GET("/api/users/:user/positions", h.getPositions, guard)
	e.GET("/api/stocks", p.listStocks, guard)
	e.GET("/api/stocks/:stock/prices", p.stockPrices, guard, etagged)
	e.GET("/api/stocks/:stock/days", p.stockDays, guard, etagged)
	// One gate for both stream routes: a stream of many stocks is one
	// stream against the limits.
	streams := newStreamGate(d).admit
	e.GET("/api/stocks/:stock/stream", p.stream, guard, streams)
	e.GET("/api/stream", p.streamMany, guard, streams)
	e.GET("/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", api.OpenAPI) })
	e.GET("/problems/:type", problemDocs)
	registerDashboard(e)
	m.initRoutes(e.Routes()) // after every route: their metric series start at 0
	return e
}

// NewOpsHandler serves only /healthz, /readyz and /metrics: what the
// standalone price updater exposes.
func NewOpsHandler(checks []Check, reg *prometheus.Registry, log *slog.Logger) *echo.Echo {
	e, _ := newRouter(checks, reg, log, nil, nil)
	return e
}

// clientBehind reads the client's address from X-Forwarded-For, believing
// only the hops that are trusted balancers (the rightmost address that is
// not one is the client), and no private or loopback range by default as
// Echo would: a client that reaches the API directly cannot pick the
// address its limits count.
func clientBehind(trusted []*net.IPNet) echo.IPExtractor {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// newRouter is the Echo instance every server shares: request ids,
// a span per request when tp is set, metrics, access log, panic recovery, CORS when origins are given, a
// deadline per request, the error mapper, and the operations routes.
func newRouter(checks []Check, reg *prometheus.Registry, log *slog.Logger, corsOrigins []string, tp trace.TracerProvider) (*echo.Echo, *metrics) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Pre(closeAfterChunked, headAsGet)
	// The peer address, not X-Forwarded-For: a client must not pick the
	// address it is rate-limited as. Behind a load balancer, the API's
	// router believes the balancer instead (Deps.TrustedProxies).
	e.IPExtractor = echo.ExtractIPDirect()
	m := newMetrics(reg)
	e.HTTPErrorHandler = errorHandler(m)

	e.Use(restoreHead)
	e.Use(requestIDs)
	if tp != nil {
		e.Use(traceRequests(tp))
	}
	e.Use(m.middleware)
	e.Use(accessLog(log))
	e.Use(recoverPanics(m.panics))
	if len(corsOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  corsOrigins,
			AllowMethods:  []string{http.MethodGet, http.MethodHead, http.MethodPost},
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, "Idempotency-Key", echo.HeaderXRequestID},
			ExposeHeaders: []string{echo.HeaderXRequestID, "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", echo.HeaderLocation, "Link", "ETag"},
			MaxAge:        600,
		}))
	}
	e.Use(allowHeader(len(corsOrigins) > 0))
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{
		// A stream must reach its client event by event; /metrics
		// compresses itself.
		Skipper: func(c echo.Context) bool {
			return isStream(c) || c.Path() == "/metrics"
		},
		// Below this, the gzip header and the CPU cost more than they save.
		MinLength: 1024,
	}))
	e.Use(requestDeadline(RequestTimeout))

	e.GET("/healthz", healthz)
	e.GET("/readyz", readyz(checks, log))
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	return e, m
}

// isStream reports whether c is of a stream route.
func isStream(c echo.Context) bool {
	return c.Path() == "/api/stocks/:stock/stream" || c.Path() == "/api/stream"
}

// cursorCodecsOf is the configured key, the shared secret fetched on first
// use, or a random key for this process alone, said in the log because
// paging across processes then fails.
func cursorCodecsOf(d Deps) *cursorCodecs {
	switch {
	case len(d.CursorKey) > 0:
		return staticCursorCodecs(d.CursorKey)
	case d.CursorSecret != nil:
		return &cursorCodecs{fetch: d.CursorSecret}
	}
	d.Logger.Warn("no cursor key configured: paging cursors are valid in this process only")
	return staticCursorCodecs([]byte(rand.Text()))
}

// MaxHeaderBytes bounds the request line and headers of a request; a
// larger one is answered 431 by net/http. Without a bound, a few clients
// sending megabytes of headers each take hundreds of MB of memory.
const MaxHeaderBytes = 32 << 10

// NewServer wraps handler in a server with timeouts, so that a slow or
// stalled client cannot hold a connection forever, and a bound on headers.
// The server's own errors (a failed accept, a superfluous WriteHeader) go
// to log as JSON like every other line.
func NewServer(addr string, handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// net/http lets 4096 bytes more than MaxHeaderBytes through;
		// taking them off makes the bound the documented 32 KiB.
		MaxHeaderBytes: MaxHeaderBytes - 4096,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// RequestTimeout bounds the work of one request, well inside the server's
// write timeout, so that a store that hangs becomes a 503, not a hang.
const RequestTimeout = 10 * time.Second

func requestDeadline(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// A stream lasts as long as its client; each of its writes
			// is bounded instead (see stream).
			if isStream(c) {
				return next(c)
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// maxRequestID bounds a client's X-Request-Id: a longer one, or one with
// other characters than [A-Za-z0-9._-], is replaced by a generated one
// rather than repeated in headers, bodies and logs.
const maxRequestID = 64

// requestIDs gives every request an id, the client's when it is short and
// plain.
func requestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !plainRequestID(id) {
			id = rand.Text()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func plainRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// panicked is the error of a request whose handler panicked: the access
// log writes its stack beside it.
type panicked struct {
	value any
	stack []byte
}

func (p *panicked) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// recoverPanics turns a panic in a handler into a 500 problem with the
// request id, logged with its stack (by the access log) and counted, so
// that one bad request neither kills the process nor goes unnoticed.
func recoverPanics(panics prometheus.Counter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				if r == http.ErrAbortHandler {
					panic(r) // net/http's way to abort a response: not a bug
				}
				panics.Inc()
				err = fail(probInternal, "", &panicked{value: r, stack: debug.Stack()})
			}()
			return next(c)
		}
	}
}

// allowHeader answers for the methods a route does not have: 405 with an
// Allow header everywhere; OPTIONS is 405 too unless CORS is on, and Allow
// then does not list it.
func allowHeader(optionsAllowed bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			allow, ok := c.Get(echo.ContextKeyHeaderAllow).(string)
			if !ok {
				return next(c) // a route has this method
			}
			methods := strings.Split(allow, ", ")
			if !optionsAllowed {
				methods = slices.DeleteFunc(methods, func(m string) bool { return m == http.MethodOptions })
			}
			if slices.Contains(methods, http.MethodGet) && !slices.Contains(methods, http.MethodHead) {
				methods = append(methods, http.MethodHead) // headAsGet answers it
			}
			allow = strings.Join(methods, ", ")
			var err error
			if c.Request().Method == http.MethodOptions && !optionsAllowed {
				err = fail(probMethod, "", nil)
			} else {
				err = next(c)
			}
			// After next: the router's own 405 handler sets its list.
			c.Response().Header().Set(echo.HeaderAllow, allow)
			return err
		}
	}
}

// respondJSON writes v, or for HEAD the same status and type without it.
func respondJSON(c echo.Context, status int, v any) error {
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		return c.NoContent(status)
	}
	return c.JSON(status, v)
}

func healthz(c echo.Context) error {
	return respondJSON(c, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers whether every check passes, naming each check (the
// adapter: redis, postgres, kafka) and only "ok" or "unavailable": the
// reason names addresses, users and databases, which are for the log, not
// for anyone who can reach the port.
func readyz(checks []Check, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		status, results := http.StatusOK, make(map[string]string, len(checks))
		for _, ch := range checks {
			if err := ch.Ping(ctx); err != nil {
				status, results[ch.Name] = http.StatusServiceUnavailable, "unavailable"
				log.WarnContext(c.Request().Context(), "not ready", "check", ch.Name, "error", err,
					"request_id", requestID(c))
				continue
			}
			results[ch.Name] = "ok"
		}
		word := "ready"
		if status != http.StatusOK {
			word = "unavailable"
		}
		return respondJSON(c, status, map[string]any{"status": word, "checks": results})
	}
}

// maxLoggedURI bounds the uri field of the access log.
const maxLoggedURI = 1024

// probeRoutes are what orchestrators and scrapers call every few
// seconds: their lines go at DEBUG, or they would bury the requests.
var probeRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// accessLog writes one line per request, and it is the only line of a
// failed one. Its fields: request_id, method, uri (cut to 1 KiB), route
// (the template, "" when none matched), status, latency_ms (float
// milliseconds), remote_ip, bytes_out, and for a request that failed,
// error (and stack after a panic), and trace_id and span_id when the
// request has a span (tracing on). Its level: ERROR for a 5xx (but for a
// client that went away), DEBUG for a probe or a scrape, else INFO.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRoutePath: true,
		LogRemoteIP: true, LogResponseSize: true, LogError: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			switch {
			case v.Status >= 500 && !errors.Is(v.Error, context.Canceled):
				level = slog.LevelError
			case probeRoutes[v.RoutePath]:
				level = slog.LevelDebug
			}
			ctx := c.Request().Context()
			if !log.Enabled(ctx, level) {
				return nil
			}
			uri := v.URI
			if len(uri) > maxLoggedURI {
				uri = uri[:maxLoggedURI] + "..."
			}
			attrs := []slog.Attr{
				slog.String("request_id", requestID(c)), slog.String("method", v.Method),
				slog.String("uri", uri), slog.String("route", v.RoutePath),
				slog.Int("status", v.Status),
				slog.Float64("latency_ms", float64(v.Latency.Microseconds())/1000),
				slog.String("remote_ip", v.RemoteIP), slog.Int64("bytes_out", v.ResponseSize),
			}
			if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
				attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
			}
			if v.Error != nil {
				attrs = append(attrs, slog.String("error", v.Error.Error()))
				var p *panicked
				if errors.As(v.Error, &p) {
					attrs = append(attrs, slog.String("stack", string(p.stack)))
				}
			}
			log.LogAttrs(ctx, level, "request", attrs...)
			return nil
		},
	})
}
