//go:build integration

package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	httpapi "stockd/adapters/http"
	"stockd/internal/config"
)

// TestABuyIsOneTraceAcrossTheStores: on Redis and PostgreSQL, a buy sent
// with a W3C traceparent is a server span continuing the caller's trace,
// with the Redis debit as its child and the group commit that stored the
// order run by it (parent) and linked to it.
func TestABuyIsOneTraceAcrossTheStores(t *testing.T) {
	w := newRealWorld(t)
	path := writeCSV(t, "Time,Stock,Price\n90006,stock1,1054\n")
	env := envOf(w.env(map[string]string{"PRICE_CSV": path, "SEED_USERS": "user1:10540"}))
	require.NoError(t, run(t.Context(), []string{"seed-users"}, env, io.Discard, io.Discard))
	require.NoError(t, run(t.Context(), []string{"update"}, env, io.Discard, io.Discard))

	cfg, err := config.Parse(env)
	require.NoError(t, err)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	st, err := openStores(t.Context(), cfg, log, uses{orders: true, longRunning: true}, tp)
	require.NoError(t, err)
	defer st.close()
	h, err := newHandler(cfg, st, log, newRegistry(), &httpapi.Draining{}, tp)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	const caller = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/buy-stock",
		strings.NewReader(`{"user":"user1","stockname":"stock1","quantity":1}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Traceparent", "00-"+caller+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		byName[s.Name()] = s
	}
	server, debit, flush := byName["POST /api/buy-stock"], byName["redis debit"], byName["postgres group commit"]
	require.NotNil(t, server, "spans: %v", byName)
	require.NotNil(t, debit, "spans: %v", byName)
	require.NotNil(t, flush, "spans: %v", byName)
	assert.Equal(t, caller, server.SpanContext().TraceID().String())
	assert.Equal(t, server.SpanContext().SpanID(), debit.Parent().SpanID(), "the debit is the request's child")
	assert.Equal(t, caller, debit.SpanContext().TraceID().String())
	assert.Equal(t, server.SpanContext().SpanID(), flush.Parent().SpanID(), "the flush is run by the request")
	require.Len(t, flush.Links(), 1)
	assert.Equal(t, server.SpanContext().SpanID(), flush.Links()[0].SpanContext.SpanID())
}
