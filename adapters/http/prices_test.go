package http_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	httpapi "stockd/adapters/http"
	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
)

// priceServer is the API on memory stores, with stock1 priced at 09:00
// and 09:02 and stock2 without a price.
type priceServer struct {
	prices  *memory.PriceStore
	handler http.Handler
}

func newPriceServer(t *testing.T, ping time.Duration, opts ...func(*httpapi.Deps)) *priceServer {
	t.Helper()
	stocks, err := domain.NewStocks([]string{"stock1", "stock2"})
	require.NoError(t, err)
	prices := memory.NewPriceStore()
	b := domain.NewTickBatch()
	for _, tk := range []domain.Tick{
		{Stock: "stock1", At: 9 * 3600, Price: 100}, {Stock: "stock1", At: 9*3600 + 30, Price: 90},
		{Stock: "stock1", At: 9*3600 + 10, Price: 120}, {Stock: "stock1", At: 9*3600 + 150, Price: 110},
	} {
		b.Add(tk)
	}
	require.NoError(t, prices.Merge(t.Context(), b.Histories()))
	get, err := app.NewGetPrices(stocks, prices)
	require.NoError(t, err)
	list, err := app.NewListStocks(stocks, prices)
	require.NoError(t, err)
	watch, err := app.NewWatchPrices(stocks, prices, prices.Feed())
	require.NoError(t, err)
	deps := httpapi.Deps{
		GetPrices: get, ListStocks: list, WatchPrices: watch, StreamPing: ping,
		Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&deps)
	}
	return &priceServer{prices: prices, handler: httpapi.NewHandler(deps)}
}

func (s *priceServer) get(t *testing.T, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestListStocks(t *testing.T) {
	t.Parallel()
	rec := newPriceServer(t, 0).get(t, "/api/stocks")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"results": [
		{"stock": "stock1", "time": "090200", "price": 110},
		{"stock": "stock2", "time": null, "price": null}]}`, rec.Body.String())
}

func TestPricesWithCandlesAndWindow(t *testing.T) {
	t.Parallel()
	s := newPriceServer(t, 0)
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"", `{"stock": "stock1", "time": ["090000", "090100", "090200"], "price": [90, 90, 110],
			"open": [100, 90, 110], "high": [120, 90, 110], "low": [90, 90, 110]}`},
		{"?from=090100", `{"stock": "stock1", "time": ["090100", "090200"], "price": [90, 110],
			"open": [90, 110], "high": [90, 110], "low": [90, 110]}`},
		{"?from=090000&to=090100", `{"stock": "stock1", "time": ["090000", "090100"], "price": [90, 90],
			"open": [100, 90], "high": [120, 90], "low": [90, 90]}`},
		{"?to=090059", `{"stock": "stock1", "time": ["090000"], "price": [90], "open": [100], "high": [120], "low": [90]}`},
		{"?from=100000", `{"stock": "stock1", "time": [], "price": [], "open": [], "high": [], "low": []}`},
	} {
		rec := s.get(t, "/api/stocks/Stock1/prices"+tc.query)
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", tc.query, rec.Body.String())
		assert.JSONEq(t, tc.want, rec.Body.String(), tc.query)
	}
	rec := s.get(t, "/api/stocks/stock2/prices")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"stock": "stock2", "time": [], "price": [], "open": [], "high": [], "low": []}`, rec.Body.String())

	for _, bad := range []string{"?from=9", "?from=250000", "?to=0900", "?from=09:00:00", "?from=", "?from=090200&to=090100", "?to=%zz"} {
		rec := s.get(t, "/api/stocks/stock1/prices"+bad)
		assert.Equal(t, http.StatusBadRequest, rec.Code, "%s: %s", bad, rec.Body.String())
		assertProblem(t, rec, http.StatusBadRequest, "bad-query")
	}
	assert.Equal(t, http.StatusNotFound, s.get(t, "/api/stocks/stock9/prices").Code)
}

// sseEvent is one Server-Sent Event: its name (empty for a comment) and
// its data, or the reconnection delay of a retry field.
type sseEvent struct{ name, data, retry, id string }

// readEvents reads a stream's events into a channel until the body ends.
func readEvents(body io.Reader) <-chan sseEvent {
	events := make(chan sseEvent, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				events <- ev
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ev.data = line
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "retry: "):
				ev.retry = strings.TrimPrefix(line, "retry: ")
			}
		}
	}()
	return events
}

func next(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		require.True(t, ok, "the stream ended")
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return sseEvent{}
	}
}

// TestStream: the series first, then a minute event for every minute a
// merge changes, pings while quiet, and a closed connection frees the
// watch and every goroutine.
func TestStream(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := newPriceServer(t, 50*time.Millisecond)
	srv := httptest.NewServer(s.handler)
	defer srv.Close()

	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/stocks/stock1/stream", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := readEvents(resp.Body)

	first := next(t, events)
	require.Equal(t, "series", first.name)
	assert.JSONEq(t, s.get(t, "/api/stocks/stock1/prices").Body.String(), first.data, "the series event is the body of /prices")
	require.Equal(t, 1, s.prices.Feed().Watchers())

	ping := next(t, events)
	assert.Equal(t, sseEvent{data: ": ping"}, ping)

	b := domain.NewTickBatch()
	b.Add(domain.Tick{Stock: "stock1", At: 9*3600 + 70, Price: 95})   // 09:01 gets its own tick
	b.Add(domain.Tick{Stock: "stock1", At: 9*3600 + 200, Price: 130}) // 09:03 is new
	b.Add(domain.Tick{Stock: "stock2", At: 9 * 3600, Price: 7})       // another stock: not on this stream
	require.NoError(t, s.prices.Merge(t.Context(), b.Histories()))
	var minutes []string
	for len(minutes) < 2 {
		ev := next(t, events)
		if ev.name == "" {
			continue // a ping
		}
		require.Equal(t, "minute", ev.name)
		minutes = append(minutes, ev.data)
	}
	assert.JSONEq(t, `{"time": "090100", "price": 95, "open": 95, "high": 95, "low": 95}`, minutes[0])
	assert.JSONEq(t, `{"time": "090300", "price": 130, "open": 130, "high": 130, "low": 130}`, minutes[1])

	cancel()
	require.Eventually(t, func() bool { return s.prices.Feed().Watchers() == 0 }, 5*time.Second, time.Millisecond,
		"a closed connection frees its watch")
}

func TestStreamUnknownStock(t *testing.T) {
	t.Parallel()
	s := newPriceServer(t, 0)
	rec := s.get(t, "/api/stocks/stock9/stream")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, 0, s.prices.Feed().Watchers())
}

// TestStreamEndsWhenDropped: when the feed drops a watch (a slow client,
// or a feed that lost changes), the stream ends, so that the client
// reconnects and starts from a fresh series.
func TestStreamEndsWhenDropped(t *testing.T) {
	s := newPriceServer(t, time.Hour)
	srv := httptest.NewServer(s.handler)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api/stocks/stock1/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	events := readEvents(resp.Body)
	require.Equal(t, "series", next(t, events).name)
	s.prices.Feed().DropAll()
	select {
	case _, ok := <-events:
		for ok {
			_, ok = <-events
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end")
	}
}
