package http

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"stockd/domain"
)

// metrics are those of every server: latency, and 503s for a store outage.
type metrics struct {
	latency     *prometheus.HistogramVec
	storeErrors *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stockd_http_request_duration_seconds",
			Help:    "Latency of HTTP requests by route, method and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "status"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockd_store_unavailable_total",
			Help: "Requests answered 503 because a backing store was unavailable, by route.",
		}, []string{"route"}),
	}
	reg.MustRegister(m.latency, m.storeErrors)
	return m
}

// newOrdersCounter counts judged orders by status, both present at 0 from
// the start.
func newOrdersCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stockd_orders_total",
		Help: "Judged buy orders by status.",
	}, []string{"status"})
	reg.MustRegister(c)
	for _, s := range []domain.Status{domain.Accepted, domain.Denied} {
		c.WithLabelValues(string(s))
	}
	return c
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
		m.latency.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		return err
	}
}
