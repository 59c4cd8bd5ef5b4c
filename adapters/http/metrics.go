package http

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"stockd/domain"
)

// metrics are those of every server: latency, 503s for a store outage,
// and panics. Names and labels follow the Prometheus conventions (units in
// names, `code` for the status as promhttp has it).
type metrics struct {
	latency     *prometheus.HistogramVec
	storeErrors *prometheus.CounterVec
	panics      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stockd_http_request_duration_seconds",
			Help:    "Latency of HTTP requests by method, route and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route", "code"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockd_store_unavailable_total",
			Help: "Requests answered 503 because a backing store was unavailable, by route.",
		}, []string{"route"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockd_http_panics_total",
			Help: "Handler panics recovered and answered 500.",
		}),
	}
	reg.MustRegister(m.latency, m.storeErrors, m.panics)
	return m
}

// initRoutes creates the store-error series of every API route at 0, so
// that rate() works from the first scrape.
func (m *metrics) initRoutes(routes []*echo.Route) {
	for _, r := range routes {
		if strings.HasPrefix(r.Path, "/api/") {
			m.storeErrors.WithLabelValues(r.Path)
		}
	}
}

// orderMetrics count what BuyStock answered: judged orders by status, and
// apart from them the replays of an Idempotency-Key, which judge nothing
// (counting them as orders made the metric exceed the table).
type orderMetrics struct {
	judged  *prometheus.CounterVec
	replays prometheus.Counter
}

// newOrdersCounter registers the order metrics, every series present at 0
// from the start.
func newOrdersCounter(reg prometheus.Registerer) *orderMetrics {
	m := &orderMetrics{
		judged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockd_orders_total",
			Help: "Judged buy orders by status (a replayed Idempotency-Key is not a new order).",
		}, []string{"status"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockd_idempotent_replays_total",
			Help: "Buy requests answered with the recorded outcome of their Idempotency-Key.",
		}),
	}
	reg.MustRegister(m.judged, m.replays)
	for _, s := range []domain.Status{domain.Accepted, domain.Denied} {
		m.judged.WithLabelValues(string(s))
	}
	return m
}

// count counts one BuyStock answer.
func (m *orderMetrics) count(order domain.Order, replayed bool) {
	if replayed {
		m.replays.Inc()
		return
	}
	m.judged.WithLabelValues(string(order.Status())).Inc()
}

// middleware observes every request, labelled by its route template rather
// than its path, so that the number of series stays bounded.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status = statusOf(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.latency.WithLabelValues(methodLabel(c.Request().Method), route, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		return err
	}
}

// methodLabel keeps the method label bounded: a client may send any token
// as a method, and each would be a new series.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}
