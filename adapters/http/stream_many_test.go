package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	httpapi "stockd/adapters/http"
	"stockd/domain"
	"stockd/internal/domaintest"
)

// serveEvents serves h for the streams of one test. The server closes
// after the test's streams are cancelled (cleanups run last first), and
// with leaks set no goroutine of the test outlives it.
func serveEvents(t *testing.T, h http.Handler, leaks bool) *httptest.Server {
	t.Helper()
	if leaks {
		ignore := goleak.IgnoreCurrent()
		t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// openEvents opens target on srv with a Last-Event-ID ("" for none) and
// returns its status and events.
func openEvents(t *testing.T, srv *httptest.Server, target, lastID string) (int, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+target, nil)
	require.NoError(t, err)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp.StatusCode, readEvents(resp.Body)
}

// stockOf is the stock an event's data names.
func stockOf(t *testing.T, ev sseEvent) string {
	t.Helper()
	var d struct{ Stock string }
	require.NoError(t, json.Unmarshal([]byte(ev.data), &d), ev.data)
	return d.Stock
}

// TestOneStreamOfManyStocks: a series per stock, in the order asked, then
// every stock's minutes on the one stream, each naming its stock, the last
// event of each write with the id of every stock; one watch for all.
func TestOneStreamOfManyStocks(t *testing.T) {
	s := newPriceServer(t, time.Hour)
	srv := serveEvents(t, s.handler, true)

	status, events := openEvents(t, srv, "/api/stream?stocks=STOCK2,stock1", "")
	require.Equal(t, http.StatusOK, status)
	first, second := next(t, events), next(t, events)
	assert.Equal(t, "series", first.name)
	assert.JSONEq(t, s.get(t, "/api/stocks/stock2/prices").Body.String(), first.data)
	assert.Empty(t, first.id, "one id, on the last event of the write")
	assert.Equal(t, "series", second.name)
	assert.JSONEq(t, s.get(t, "/api/stocks/stock1/prices").Body.String(), second.data)
	assert.True(t, strings.HasPrefix(second.id, "m"), "id %q", second.id)
	assert.Equal(t, 1, s.prices.Feed().Watchers(), "one watch for the stream, whatever its stocks")

	merge(t, s.prices,
		domaintest.Tick("stock2", march3, 9*3600+5, 7),
		domaintest.Tick("stock1", march3, 9*3600+200, 130),
	)
	got := map[string]sseEvent{}
	var lastID string
	for len(got) < 2 {
		ev := next(t, events)
		require.Equal(t, "minute", ev.name, ev.data)
		got[stockOf(t, ev)] = ev
		if ev.id != "" {
			lastID = ev.id
		}
	}
	assert.JSONEq(t, `{"stock": "stock2", "date": "2026-03-03", "time": "090000", "price": 7, "open": 7, "high": 7, "low": 7}`, got["stock2"].data)
	assert.JSONEq(t, `{"stock": "stock1", "date": "2026-03-03", "time": "090300", "price": 130, "open": 130, "high": 130, "low": 130}`, got["stock1"].data)
	require.NotEmpty(t, lastID, "the write's last event carries the id")

	// Away: stock1's 09:03 changes; stock2 does not move.
	merge(t, s.prices, domaintest.Tick("stock1", march3, 9*3600+230, 135))
	status, resumed := openEvents(t, srv, "/api/stream?stocks=stock2,stock1", lastID)
	require.Equal(t, http.StatusOK, status)
	ev := next(t, resumed)
	assert.Equal(t, "minute", ev.name, "stock2 missed nothing but its newest minute, which is sent again")
	assert.Equal(t, "stock2", stockOf(t, ev))
	ev = next(t, resumed)
	assert.JSONEq(t, `{"stock": "stock1", "date": "2026-03-03", "time": "090300", "price": 135, "open": 130, "high": 135, "low": 130}`, ev.data,
		"only what stock1 missed, not its series")
	assert.NotEmpty(t, ev.id)

	// An id of another list of stocks, or none of ours, resumes nothing.
	for _, id := range []string{lastID, "m", "mAAAA", "nonsense", strings.Replace(lastID, "m", "x", 1)} {
		_, fresh := openEvents(t, srv, "/api/stream?stocks=stock1,stock2", id)
		assert.Equal(t, "series", next(t, fresh).name, "Last-Event-ID %q", id)
	}

	// A late tick while watching: that stock's client-side minutes are no
	// longer known, so it gets its series when it comes back; the other
	// stock resumes.
	merge(t, s.prices, domaintest.Tick("stock1", march3, 9*3600+90, 91))
	ev = next(t, events)
	for ev.id == "" {
		ev = next(t, events)
	}
	_, after := openEvents(t, srv, "/api/stream?stocks=stock2,stock1", ev.id)
	first, second = next(t, after), next(t, after)
	assert.Equal(t, []string{"minute", "series"}, []string{first.name, second.name})
	assert.Equal(t, "stock1", stockOf(t, second))
}

func TestStreamOfManyRefusesWhatItCannotServe(t *testing.T) {
	t.Parallel()
	s := newPriceServer(t, time.Hour)
	for _, target := range []string{"/api/stream", "/api/stream?stocks=", "/api/stream?stocks=stock1,,stock2",
		"/api/stream?stocks=a%20b", "/api/stream?stocks=" + strings.Repeat("stock1,", 1000) + "stock1", "/api/stream?stocks=%zz"} {
		assertProblem(t, s.get(t, target), http.StatusBadRequest)
	}
	rec := s.get(t, "/api/stream?stocks=stock1,stock9")
	assertProblem(t, rec, http.StatusNotFound, "unknown-stock")
	assert.Contains(t, rec.Body.String(), "stock9")
	assert.Equal(t, 0, s.prices.Feed().Watchers())
}

// TestStreamOfManyIsOneStreamAgainstTheLimits: a stream of many stocks
// takes one place of STREAM_LIMIT_PER_CLIENT, and shares the places with
// the streams of one stock.
func TestStreamOfManyIsOneStreamAgainstTheLimits(t *testing.T) {
	s := newPriceServer(t, time.Hour, func(d *httpapi.Deps) { d.StreamLimitPerClient = 2 })
	srv := serveEvents(t, s.handler, true)
	status, events := openEvents(t, srv, "/api/stream?stocks=stock1,stock2", "")
	require.Equal(t, http.StatusOK, status)
	next(t, events)
	status, events = openEvents(t, srv, "/api/stocks/stock1/stream", "")
	require.Equal(t, http.StatusOK, status)
	next(t, events)
	status, _ = openEvents(t, srv, "/api/stream?stocks=stock1", "")
	assert.Equal(t, http.StatusTooManyRequests, status)
}

// TestManyStreamIDsOfAThousandStocks: the id of a stream of the most
// stocks a request may name stays within the request header bound, and
// resumes each stock.
func TestManyStreamIDsOfAThousandStocks(t *testing.T) {
	t.Parallel()
	names := market(httpapi.MaxStocksPerRequest)
	s := newMarketServer(t, names)
	srv := serveEvents(t, s.handler, false)
	target := "/api/stream?stocks=" + strings.Join(names, ",")
	status, events := openEvents(t, srv, target, "")
	require.Equal(t, http.StatusOK, status)
	var last sseEvent
	for range names {
		last = next(t, events)
		require.Equal(t, "series", last.name)
	}
	require.NotEmpty(t, last.id)
	assert.Less(t, len(last.id), httpapi.MaxHeaderBytes/2)
	var ticks []domain.Tick
	for i := range 3 {
		ticks = append(ticks, domaintest.Tick(names[2*i], march3, 9*3600+31*60, 5))
	}
	merge(t, s.prices, ticks...)
	_, resumed := openEvents(t, srv, target, last.id)
	kinds := map[string][]string{}
	for range len(names) + len(ticks) { // a ticked stock's 09:30 again, and its 09:31
		ev := next(t, resumed)
		stock := stockOf(t, ev)
		kinds[stock] = append(kinds[stock], ev.name)
	}
	for i, n := range names {
		switch {
		case i < 2*len(ticks) && i%2 == 0:
			assert.Equal(t, []string{"minute", "minute"}, kinds[n], "%s resumes with its newest minute again and the new one", n)
		case i%2 == 0:
			assert.Equal(t, []string{"minute"}, kinds[n], "%s had a series: it resumes", n)
		default:
			assert.Equal(t, []string{"series"}, kinds[n], "%s had none: a fresh one", n)
		}
	}
}
