package http_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpapi "stockd/adapters/http"
	"stockd/internal/testenv"
	"stockd/ports"
)

// logLines are the JSON lines of logs that carry request_id id.
func logLines(t *testing.T, logs *testenv.LogBuffer, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(l, `"`+id+`"`) {
			continue
		}
		var line map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &line), l)
		out = append(out, line)
	}
	return out
}

// TestFailedRequestIsOneLogLine: a request that fails is the access line
// alone, at ERROR for a 5xx, with the error in it once; a client error is
// one INFO line with its error.
func TestFailedRequestIsOneLogLine(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.prices.err.set(fmt.Errorf("%w: redis: dial tcp 127.0.0.1:1: connect: connection refused", ports.ErrUnavailable))
	rec := f.do(t, http.MethodGet, "/api/stocks/stock1/prices", "", "X-Request-Id", "fail-1")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)

	lines := logLines(t, f.logs, "fail-1")
	require.Len(t, lines, 1, f.logs.String())
	line := lines[0]
	assert.Equal(t, "ERROR", line["level"])
	assert.Equal(t, "request", line["msg"])
	assert.Equal(t, float64(503), line["status"])
	msg, _ := line["error"].(string)
	assert.Equal(t, 1, strings.Count(msg, "read prices of stock1"), msg)
	assert.Equal(t, 1, strings.Count(msg, "store unavailable"), msg)
	assert.Equal(t, 1, strings.Count(msg, "connection refused"), msg)

	rec = f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":0}`, "X-Request-Id", "fail-2")
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	lines = logLines(t, f.logs, "fail-2")
	require.Len(t, lines, 1, f.logs.String())
	assert.Equal(t, "INFO", lines[0]["level"])
	assert.NotEmpty(t, lines[0]["error"])

	f.do(t, http.MethodGet, "/api/orders", "", "X-Request-Id", "ok-1")
	lines = logLines(t, f.logs, "ok-1")
	require.Len(t, lines, 1)
	assert.NotContains(t, lines[0], "error", "a request that did not fail has no error field")
}

// TestProbesLogAtDebug: health probes and metric scrapes, every few
// seconds from an orchestrator, are logged at DEBUG; an API request at
// INFO.
func TestProbesLogAtDebug(t *testing.T) {
	t.Parallel()
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var logs testenv.LogBuffer
		h := httpapi.NewOpsHandler(nil, prometheus.NewRegistry(), slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: level})))
		for _, path := range []string{"/healthz", "/readyz", "/metrics", "/nothing"} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("X-Request-Id", "probe"+strings.ReplaceAll(path, "/", "-"))
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			lines := logLines(t, &logs, "probe"+strings.ReplaceAll(path, "/", "-"))
			if level == slog.LevelInfo {
				assert.Empty(t, lines, "%s at INFO", path)
				continue
			}
			require.Len(t, lines, 1, path)
			assert.Equal(t, "DEBUG", lines[0]["level"], path)
		}
		lines := logLines(t, &logs, "probe-nothing")
		require.Len(t, lines, 1, "any other request")
		assert.Equal(t, "INFO", lines[0]["level"])
	}
}
