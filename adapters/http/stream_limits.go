package http

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of the stream limits (STREAM_LIMIT_PER_CLIENT, STREAM_LIMIT) and
// of a stream's lifetime.
const (
	DefaultStreamLimitPerClient = 32
	DefaultStreamLimit          = 10000
	// DefaultStreamLifetime is how long a stream lasts before the server
	// ends it with a reconnection hint. A browser reconnects by itself and
	// gets a fresh series; the bound means no connection is held forever,
	// and load spreads again over the processes behind a balancer.
	DefaultStreamLifetime = 15 * time.Minute
)

// errStreamRotated is why a stream is ended at the end of its lifetime.
var errStreamRotated = errors.New("the stream reached its lifetime")

// streamGate counts the open streams, per client address and in all, and
// refuses one past either limit, so that one client (or a crowd) cannot
// take the descriptors the rest of the API needs. It also gives each
// stream its lifetime and ends it when the server stops.
type streamGate struct {
	perClient, total int
	lifetime         time.Duration
	stopping         context.Context // nil: nothing ends the streams but their lifetime

	mu     sync.Mutex
	open   map[string]int // by client address
	inAll  int
	gauge  func(float64) // the open streams, for /metrics
	refuse func(reason string)
}

func newStreamGate(d Deps) *streamGate {
	open := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "stockd_streams_open",
		Help: "Price streams open now.",
	})
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stockd_streams_refused_total",
		Help: "Price streams refused at a limit: client (STREAM_LIMIT_PER_CLIENT) or total (STREAM_LIMIT).",
	}, []string{"limit"})
	d.Registry.MustRegister(open, refused)
	refused.WithLabelValues("client")
	refused.WithLabelValues("total")
	g := &streamGate{
		perClient: d.StreamLimitPerClient, total: d.StreamLimit, lifetime: d.StreamLifetime,
		open: make(map[string]int), gauge: open.Set,
		refuse: func(limit string) { refused.WithLabelValues(limit).Inc() },
	}
	if g.perClient <= 0 {
		g.perClient = DefaultStreamLimitPerClient
	}
	if g.total <= 0 {
		g.total = DefaultStreamLimit
	}
	if g.lifetime <= 0 {
		g.lifetime = DefaultStreamLifetime
	}
	if d.Draining != nil {
		g.stopping = d.Draining.streamsContext()
	}
	return g
}

// acquire takes a place for a stream of client, or says which limit is
// reached.
func (g *streamGate) acquire(client string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.open[client] >= g.perClient:
		g.refuse("client")
		return fail(probTooManyStreams, "", nil)
	case g.inAll >= g.total:
		g.refuse("total")
		return fail(probStreamsFull, "", nil)
	}
	g.open[client]++
	g.inAll++
	g.gauge(float64(g.inAll))
	return nil
}

func (g *streamGate) release(client string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open[client]--; g.open[client] <= 0 {
		delete(g.open, client) // the map holds only clients with streams
	}
	g.inAll--
	g.gauge(float64(g.inAll))
}

// admit is the stream route's middleware: it takes a place (or answers
// 429/503), and gives the handler a context that also ends, with a cause
// the handler tells apart, at the stream's lifetime or when the server
// stops. The lifetime is cut by up to a tenth at random, so that streams
// opened together do not all reconnect together.
func (g *streamGate) admit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		client := c.RealIP()
		if err := g.acquire(client); err != nil {
			return err
		}
		defer g.release(client)
		lifetime := g.lifetime - rand.N(g.lifetime/10+1)
		ctx, cancel := context.WithTimeoutCause(c.Request().Context(), lifetime, errStreamRotated)
		defer cancel()
		if g.stopping != nil {
			ctx2, cancel2 := context.WithCancelCause(ctx)
			defer cancel2(nil)
			stop := context.AfterFunc(g.stopping, func() { cancel2(errServerStopping) })
			defer stop()
			ctx = ctx2
		}
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// streamEnded reports whether the server, not the client, ended the
// stream of ctx: then the client is told when to come back.
func streamEnded(ctx context.Context) bool {
	cause := context.Cause(ctx)
	return errors.Is(cause, errStreamRotated) || errors.Is(cause, errServerStopping)
}

// reconnectHint is the SSE field that sets how long a browser waits before
// it reconnects: 1 to 4 s at random, so that the thousands of streams a
// deploy ends come back spread over a few seconds rather than at once.
func reconnectHint() []byte {
	ms := 1000 + rand.N(3000)
	return []byte("retry: " + strconv.Itoa(ms) + "\n\n")
}
