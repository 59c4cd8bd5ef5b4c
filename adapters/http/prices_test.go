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
	"stockd/internal/domaintest"
)

// priceServer is the API on memory stores, with stock1 priced at 09:00
// and 09:02 on 2026-03-03 (its latest day) and at 10:00 on 2026-03-02, and
// stock2 without a price; the market is in Europe/Berlin.
type priceServer struct {
	prices  *memory.PriceStore
	handler http.Handler
}

var (
	march2 = domaintest.Day("2026-03-02")
	march3 = domaintest.Day("2026-03-03")
	march4 = domaintest.Day("2026-03-04")
)

// merge merges ticks (stock, day, seconds, price) in one batch.
func merge(t *testing.T, prices *memory.PriceStore, ticks ...domain.Tick) {
	t.Helper()
	b := domain.NewTickBatch()
	for _, tk := range ticks {
		tk, err := domain.NewTick(tk.Stock(), tk.Day(), tk.At(), tk.Price())
		require.NoError(t, err)
		b.Add(tk)
	}
	require.NoError(t, prices.Merge(t.Context(), b.Histories()))
}

func newPriceServer(t *testing.T, ping time.Duration, opts ...func(*httpapi.Deps)) *priceServer {
	t.Helper()
	stocks, err := domain.NewStocks([]string{"stock1", "stock2"})
	require.NoError(t, err)
	prices := memory.NewPriceStore()
	merge(t, prices,
		domaintest.Tick("stock1", march3, 9*3600, 100), domaintest.Tick("stock1", march3, 9*3600+30, 90),
		domaintest.Tick("stock1", march3, 9*3600+10, 120), domaintest.Tick("stock1", march3, 9*3600+150, 110),
		domaintest.Tick("stock1", march2, 10*3600, 70),
	)
	get, err := app.NewGetPrices(stocks, prices)
	require.NoError(t, err)
	days, err := app.NewListDays(stocks, prices)
	require.NoError(t, err)
	list, err := app.NewListStocks(stocks, prices)
	require.NoError(t, err)
	watch, err := app.NewWatchPrices(stocks, prices, prices.Feed())
	require.NoError(t, err)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	deps := httpapi.Deps{
		GetPrices: get, ListDays: days, ListStocks: list, WatchPrices: watch, StreamPing: ping, Zone: berlin,
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
	assert.JSONEq(t, `{"zone": "Europe/Berlin", "results": [
		{"stock": "stock1", "date": "2026-03-03", "time": "090200", "price": 110},
		{"stock": "stock2", "date": null, "time": null, "price": null}], "next": null}`, rec.Body.String())
}

func TestPricesWithCandlesAndWindow(t *testing.T) {
	t.Parallel()
	s := newPriceServer(t, 0)
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"", `{"stock": "stock1", "date": "2026-03-03", "time": ["090000", "090100", "090200"], "price": [90, 90, 110],
			"open": [100, 90, 110], "high": [120, 90, 110], "low": [90, 90, 110]}`},
		{"?from=090100", `{"stock": "stock1", "date": "2026-03-03", "time": ["090100", "090200"], "price": [90, 110],
			"open": [90, 110], "high": [90, 110], "low": [90, 110]}`},
		{"?from=090000&to=090100", `{"stock": "stock1", "date": "2026-03-03", "time": ["090000", "090100"], "price": [90, 90],
			"open": [100, 90], "high": [120, 90], "low": [90, 90]}`},
		{"?to=090059", `{"stock": "stock1", "date": "2026-03-03", "time": ["090000"], "price": [90], "open": [100], "high": [120], "low": [90]}`},
		{"?from=100000", `{"stock": "stock1", "date": "2026-03-03", "time": [], "price": [], "open": [], "high": [], "low": []}`},
	} {
		rec := s.get(t, "/api/stocks/Stock1/prices"+tc.query)
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", tc.query, rec.Body.String())
		assert.JSONEq(t, tc.want, rec.Body.String(), tc.query)
	}
	rec := s.get(t, "/api/stocks/stock2/prices")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"stock": "stock2", "date": null, "time": [], "price": [], "open": [], "high": [], "low": []}`, rec.Body.String())

	for _, bad := range []string{"?from=9", "?from=250000", "?to=0900", "?from=09:00:00", "?from=", "?from=090200&to=090100", "?to=%zz"} {
		rec := s.get(t, "/api/stocks/stock1/prices"+bad)
		assert.Equal(t, http.StatusBadRequest, rec.Code, "%s: %s", bad, rec.Body.String())
		assertProblem(t, rec, http.StatusBadRequest, "bad-query")
	}
	assert.Equal(t, http.StatusNotFound, s.get(t, "/api/stocks/stock9/prices").Code)
}

// TestPricesOfADay: ?date= serves that day (and from/to cut within it),
// the latest day when absent; a day not kept is 404 day-not-found, a
// malformed date 400 bad-date.
func TestPricesOfADay(t *testing.T) {
	t.Parallel()
	s := newPriceServer(t, 0)
	for _, tc := range []struct{ query, want string }{
		{"?date=2026-03-02", `{"stock": "stock1", "date": "2026-03-02", "time": ["100000"], "price": [70], "open": [70], "high": [70], "low": [70]}`},
		{"?date=2026-03-02&to=095959", `{"stock": "stock1", "date": "2026-03-02", "time": [], "price": [], "open": [], "high": [], "low": []}`},
		{"?date=2026-03-03&from=090200", `{"stock": "stock1", "date": "2026-03-03", "time": ["090200"], "price": [110], "open": [110], "high": [110], "low": [110]}`},
	} {
		rec := s.get(t, "/api/stocks/stock1/prices"+tc.query)
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", tc.query, rec.Body.String())
		assert.JSONEq(t, tc.want, rec.Body.String(), tc.query)
	}
	for _, target := range []string{"/api/stocks/stock1/prices?date=2026-03-01", "/api/stocks/STOCK2/prices?date=2026-03-03"} {
		rec := s.get(t, target)
		assertProblem(t, rec, http.StatusNotFound, "day-not-found")
		stock := strings.ToLower(strings.Split(target, "/")[3])
		assert.Contains(t, rec.Body.String(), stock+" has no prices of", "the detail names the stock")
		assert.Contains(t, rec.Body.String(), "/api/stocks/"+stock+"/days")
	}
	for _, bad := range []string{"", "2026-3-2", "20260302", "2026-02-30", "2026-13-01", "tomorrow", "2026-03-02T00:00:00Z"} {
		rec := s.get(t, "/api/stocks/stock1/prices?date="+bad)
		assertProblem(t, rec, http.StatusBadRequest, "bad-date")
	}
	// The stock is checked before the day: an unknown one is 404 unknown-stock.
	assertProblem(t, s.get(t, "/api/stocks/stock9/prices?date=2026-03-02"), http.StatusNotFound, "unknown-stock")
}

func TestStockDays(t *testing.T) {
	t.Parallel()
	s := newPriceServer(t, 0)
	rec := s.get(t, "/api/stocks/Stock1/days")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"stock": "stock1", "days": ["2026-03-02", "2026-03-03"]}`, rec.Body.String())

	merge(t, s.prices, domaintest.Tick("stock1", march4, 9*3600, 1))
	assert.JSONEq(t, `{"stock": "stock1", "days": ["2026-03-02", "2026-03-03", "2026-03-04"]}`, s.get(t, "/api/stocks/stock1/days").Body.String())

	rec = s.get(t, "/api/stocks/stock2/days")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"stock": "stock2", "days": []}`, rec.Body.String())
	assertProblem(t, s.get(t, "/api/stocks/stock9/days"), http.StatusNotFound, "unknown-stock")
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

	merge(t, s.prices,
		domaintest.Tick("stock1", march3, 9*3600+70, 95),   // 09:01 gets its own tick
		domaintest.Tick("stock1", march3, 9*3600+200, 130), // 09:03 is new
		domaintest.Tick("stock2", march3, 9*3600, 7),       // another stock: not on this stream
	)
	minutes := nextMinutes(t, events, 2)
	assert.JSONEq(t, `{"date": "2026-03-03", "time": "090100", "price": 95, "open": 95, "high": 95, "low": 95}`, minutes[0])
	assert.JSONEq(t, `{"date": "2026-03-03", "time": "090300", "price": 130, "open": 130, "high": 130, "low": 130}`, minutes[1])

	// A tick of an earlier day sends nothing; the next day's first tick
	// comes with its date. Both in one write: the late one must not show.
	merge(t, s.prices,
		domaintest.Tick("stock1", march2, 9*3600, 55),
		domaintest.Tick("stock1", march4, 8*3600+5, 140),
	)
	assert.JSONEq(t, `{"date": "2026-03-04", "time": "080000", "price": 140, "open": 140, "high": 140, "low": 140}`, nextMinutes(t, events, 1)[0])
	merge(t, s.prices, domaintest.Tick("stock1", march3, 15*3600, 66))
	merge(t, s.prices, domaintest.Tick("stock1", march4, 8*3600+65, 141))
	assert.JSONEq(t, `{"date": "2026-03-04", "time": "080100", "price": 141, "open": 141, "high": 141, "low": 141}`, nextMinutes(t, events, 1)[0],
		"the tick of 2026-03-03, now an earlier day, sent nothing")

	cancel()
	require.Eventually(t, func() bool { return s.prices.Feed().Watchers() == 0 }, 5*time.Second, time.Millisecond,
		"a closed connection frees its watch")
}

// nextMinutes reads the next n minute events' data, skipping pings.
func nextMinutes(t *testing.T, events <-chan sseEvent, n int) []string {
	t.Helper()
	var minutes []string
	for len(minutes) < n {
		ev := next(t, events)
		if ev.name == "" {
			continue // a ping
		}
		require.Equal(t, "minute", ev.name, ev.data)
		minutes = append(minutes, ev.data)
	}
	return minutes
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
