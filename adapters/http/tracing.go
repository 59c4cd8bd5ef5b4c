package http

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the spans this package starts.
const tracerName = "stockd/adapters/http"

// traceRequests gives every request but a probe or a scrape a server span,
// the child of the caller's W3C traceparent when it sends one. The span is
// named by the route template ("POST /api/buy-stock"), not the path, so
// that a thousand stocks stay one name; its attributes are the method, the
// route and the status the error handler wrote. It sits outside the access
// log, which then writes the span's ids.
func traceRequests(tp trace.TracerProvider) echo.MiddlewareFunc {
	tracer := tp.Tracer(tracerName)
	traceContext := propagation.TraceContext{}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			route := c.Path()
			if probeRoutes[route] {
				return next(c)
			}
			req := c.Request()
			ctx := traceContext.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			name := req.Method
			if route != "" {
				name += " " + route
			}
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(semconv.HTTPRequestMethodKey.String(req.Method), semconv.HTTPRoute(route)))
			defer span.End()
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			status := c.Response().Status
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			// A 4xx is the client's doing: the server span is an error only
			// for a 5xx (OpenTelemetry's HTTP conventions).
			if status >= http.StatusInternalServerError {
				span.SetStatus(codes.Error, http.StatusText(status))
				if err != nil {
					span.RecordError(err)
				}
			}
			return err
		}
	}
}
