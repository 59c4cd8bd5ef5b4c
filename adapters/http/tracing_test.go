package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"stockd/ports"
)

// A caller's W3C traceparent: its trace id and the id of its span.
const (
	callerTrace       = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan        = "00f067aa0ba902b7"
	callerTraceparent = "00-" + callerTrace + "-" + callerSpan + "-01"
)

// recorded is a tracer provider whose finished spans the returned recorder holds.
func recorded(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	return tp, spans
}

// attrsOf is a span's attributes by key.
func attrsOf(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value
	}
	return out
}

// TestRequestSpanContinuesTheCallersTrace: with tracing on, a request is
// one server span named by its route, the child of the caller's
// traceparent, with the method, route and status; its access log line
// carries the span's trace and span ids. A probe has no span.
func TestRequestSpanContinuesTheCallersTrace(t *testing.T) {
	t.Parallel()
	tp, spans := recorded(t)
	f := newFixture(t, withTracing(tp))
	rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":2}`,
		"X-Request-Id", "traced-1", "Traceparent", callerTraceparent)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	f.do(t, http.MethodGet, "/healthz", "")

	ended := spans.Ended()
	require.Len(t, ended, 1, "one span: the buy, not the probe")
	span := ended[0]
	assert.Equal(t, "POST /api/buy-stock", span.Name())
	assert.Equal(t, trace.SpanKindServer, span.SpanKind())
	assert.Equal(t, callerTrace, span.SpanContext().TraceID().String())
	assert.Equal(t, callerSpan, span.Parent().SpanID().String())
	assert.True(t, span.Parent().IsRemote())
	attrs := attrsOf(span)
	assert.Equal(t, "POST", attrs["http.request.method"].AsString())
	assert.Equal(t, "/api/buy-stock", attrs["http.route"].AsString())
	assert.Equal(t, int64(http.StatusCreated), attrs["http.response.status_code"].AsInt64())
	assert.Equal(t, codes.Unset, span.Status().Code)

	lines := logLines(t, f.logs, "traced-1")
	require.Len(t, lines, 1)
	assert.Equal(t, callerTrace, lines[0]["trace_id"])
	assert.Equal(t, span.SpanContext().SpanID().String(), lines[0]["span_id"])
}

// TestFailedRequestSpanIsAnError: a 5xx marks the server span as failed,
// with the status the error mapper chose; a 4xx does not.
func TestFailedRequestSpanIsAnError(t *testing.T) {
	t.Parallel()
	tp, spans := recorded(t)
	f := newFixture(t, withTracing(tp))
	f.prices.err.set(ports.ErrUnavailable)
	require.Equal(t, http.StatusServiceUnavailable, f.do(t, http.MethodGet, "/api/stocks/stock1/prices", "").Code)
	f.prices.err.set(nil)
	require.Equal(t, http.StatusNotFound, f.do(t, http.MethodGet, "/api/stocks/nope/prices", "").Code)

	ended := spans.Ended()
	require.Len(t, ended, 2)
	assert.Equal(t, "GET /api/stocks/:stock/prices", ended[0].Name())
	assert.Equal(t, int64(503), attrsOf(ended[0])["http.response.status_code"].AsInt64())
	assert.Equal(t, codes.Error, ended[0].Status().Code)
	assert.Equal(t, int64(404), attrsOf(ended[1])["http.response.status_code"].AsInt64())
	assert.Equal(t, codes.Unset, ended[1].Status().Code)
}

// TestUntracedRequestIgnoresTraceparent: with tracing off (no provider),
// an incoming traceparent leaves no trace id in the log, since no span
// was started for the request.
func TestUntracedRequestIgnoresTraceparent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.do(t, http.MethodGet, "/api/orders", "", "X-Request-Id", "untraced-1", "Traceparent", callerTraceparent)
	lines := logLines(t, f.logs, "untraced-1")
	require.Len(t, lines, 1)
	assert.NotContains(t, lines[0], "trace_id")
	assert.NotContains(t, lines[0], "span_id")
}
