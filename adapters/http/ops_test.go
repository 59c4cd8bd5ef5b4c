package http_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/ports"
)

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	plain := regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	for _, tt := range []struct {
		name, sent string
		kept       bool
	}{
		{"plain", "req-1.2_3", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"none", "", false},
		{"65 characters", strings.Repeat("a", 65), false},
		{"500 KB", strings.Repeat("a", 500_000), false},
		{"a space", "a b", false},
		{"a quote", `a"b`, false},
		{"not ASCII", "réq", false},
	} {
		rec := f.do(t, http.MethodGet, "/api/stocks/stock9/prices", "", "X-Request-Id", tt.sent)
		id := rec.Header().Get("X-Request-Id")
		assert.Regexp(t, plain, id, tt.name)
		if tt.kept {
			assert.Equal(t, tt.sent, id, tt.name)
		} else {
			assert.NotEqual(t, tt.sent, id, tt.name)
		}
		assert.Equal(t, id, decode[map[string]any](t, rec)["request_id"], tt.name)
		assert.Less(t, rec.Body.Len(), 1024, tt.name)
	}
	assert.NotContains(t, f.logs.String(), strings.Repeat("a", 65), "the log repeats no long id")

	a := f.do(t, http.MethodGet, "/healthz", "").Header().Get("X-Request-Id")
	b := f.do(t, http.MethodGet, "/healthz", "").Header().Get("X-Request-Id")
	assert.NotEqual(t, a, b, "generated ids differ")
}

func TestPanicIsA500ProblemAndCounted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.handler.GET("/test/panic", func(echo.Context) error { panic("secret internal state") })

	rec := f.do(t, http.MethodGet, "/test/panic", "", "X-Request-Id", "panic-1")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	assertProblem(t, rec, http.StatusInternalServerError, "internal")
	assert.Equal(t, "panic-1", decode[map[string]any](t, rec)["request_id"])
	assert.NotContains(t, rec.Body.String(), "secret")

	metrics := f.do(t, http.MethodGet, "/metrics", "").Body.String()
	assert.Contains(t, metrics, "stockd_http_panics_total 1")
	assert.Contains(t, metrics, `stockd_http_request_duration_seconds_count{code="500",method="GET",route="/test/panic"} 1`)
	assert.Contains(t, f.logs.String(), `"error":"internal: panic: secret internal state"`)
	assert.Contains(t, f.logs.String(), `"stack":"goroutine `)
	assert.Contains(t, f.logs.String(), `"request_id":"panic-1"`)

	require.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/healthz", "").Code, "the server goes on")
}

func TestMetricsPassPromlint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Touch every metric family first, so that each shows up.
	f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1}`)
	f.prices.err.set(ports.ErrUnavailable)
	f.do(t, http.MethodGet, "/api/stocks/stock1/prices", "")
	rec := f.do(t, http.MethodGet, "/metrics", "")
	require.Equal(t, http.StatusOK, rec.Code)
	problems, err := promlint.New(strings.NewReader(rec.Body.String())).Lint()
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Contains(t, rec.Body.String(), `stockd_store_unavailable_total{route="/api/stocks/:stock/prices"} 1`)
	assert.Contains(t, rec.Body.String(), `stockd_store_unavailable_total{route="/api/orders"} 0`)
}

func TestAccessLogFields(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.do(t, http.MethodGet, "/api/orders?limit=1&x="+strings.Repeat("q", 5000), "", "X-Request-Id", "log-1")
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(f.logs.String()), "\n") {
		if strings.Contains(l, `"request_id":"log-1"`) && strings.Contains(l, `"msg":"request"`) {
			require.NoError(t, json.Unmarshal([]byte(l), &line))
			assert.Less(t, len(l), 2048, "the uri is cut")
		}
	}
	require.NotNil(t, line, f.logs.String())
	for _, field := range []string{"time", "level", "msg", "request_id", "method", "uri", "route", "status", "latency_ms", "remote_ip", "bytes_out"} {
		assert.Contains(t, line, field)
	}
	assert.IsType(t, float64(0), line["latency_ms"])
	assert.NotContains(t, line, "latency")
	assert.Equal(t, "/api/orders", line["route"])
	assert.Equal(t, float64(200), line["status"])
}

// A body that does not arrive within the server's read timeout is a 408,
// and the answer names no address (the error behind it does).
func TestSlowBodyIsATimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := httptest.NewUnstartedServer(f.handler)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = fmt.Fprint(conn, "POST /api/buy-stock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"user\":")
	require.NoError(t, err)
	// The rest never comes: the read deadline fires on the server.
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestTimeout, resp.StatusCode, string(body))
	assert.Contains(t, string(body), "/problems/timeout")
	assert.NotContains(t, string(body), "127.0.0.1")
	assert.NotContains(t, string(body), "tcp")
	f.assertUnchanged(t)
}

func TestProblemTypesAreServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rec := f.do(t, http.MethodGet, "/problems/no-price", "")
	require.Equal(t, http.StatusOK, rec.Code)
	p := decode[map[string]any](t, rec)
	assert.Equal(t, "/problems/no-price", p["type"])
	assert.Equal(t, float64(409), p["status"])
	rec = f.do(t, http.MethodGet, "/problems/nothing", "")
	assertProblem(t, rec, http.StatusNotFound, "not-found")
}
