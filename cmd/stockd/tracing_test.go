package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collector is a stand-in OTLP/HTTP collector: it keeps the body of every
// export it is sent.
type collector struct {
	url     string
	mu      sync.Mutex
	exports [][]byte
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" {
			c.mu.Lock()
			c.exports = append(c.exports, body)
			c.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

func (c *collector) received() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exports
}

// tracedRequest sends GET /api/stocks with a caller's traceparent and
// returns the trace id it names.
func tracedRequest(t *testing.T, base string) string {
	t.Helper()
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, err := http.NewRequest(http.MethodGet, base+"/api/stocks", nil)
	require.NoError(t, err)
	req.Header.Set("Traceparent", "00-"+trace+"-00f067aa0ba902b7-01")
	req.Header.Set("X-Request-Id", "traced-request")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return trace
}

// TestTracingExportsToTheCollectorOfTheEnvironment: with
// OTEL_EXPORTER_OTLP_ENDPOINT set, a request's access line carries the
// caller's trace id, and its span reaches the collector by the time the
// service has stopped (the last spans are flushed on the way out).
func TestTracingExportsToTheCollectorOfTheEnvironment(t *testing.T) {
	c := newCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", c.url) // read by the SDK itself
	base, stop, logs := startLogged(t, []string{"serve"}, map[string]string{"SHUTDOWN_DELAY": "0", "OTEL_EXPORTER_OTLP_ENDPOINT": c.url})

	trace := tracedRequest(t, base)
	lines := logLines(t, logs, `"traced-request"`)
	require.Len(t, lines, 1)
	assert.Equal(t, trace, lines[0]["trace_id"])
	assert.NotEmpty(t, lines[0]["span_id"])

	require.NoError(t, stop())
	exported := bytes.Join(c.received(), nil)
	assert.Contains(t, string(exported), "GET /api/stocks", "the request's span, by its route")
	assert.Contains(t, string(exported), "stockd", "the service's name")
}

// TestTracingOffStartsNothing: without OTEL_EXPORTER_OTLP_ENDPOINT in the
// configuration nothing is traced or exported, even with a collector the
// SDK could find in the process environment, and a caller's traceparent
// leaves no trace id in the log.
func TestTracingOffStartsNothing(t *testing.T) {
	c := newCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", c.url) // what the SDK would read
	base, stop, logs := startLogged(t, []string{"serve"}, map[string]string{"SHUTDOWN_DELAY": "0"})

	tracedRequest(t, base)
	lines := logLines(t, logs, `"traced-request"`)
	require.Len(t, lines, 1)
	assert.NotContains(t, lines[0], "trace_id")

	require.NoError(t, stop())
	assert.Empty(t, c.received(), "no export")
}
