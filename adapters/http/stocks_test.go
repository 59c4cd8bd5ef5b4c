package http_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpapi "stockd/adapters/http"
	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
	"stockd/internal/domaintest"
)

// newMarketServer serves the price routes for names, with every stock whose
// index is even priced at 1000 + its index, on march3 at 09:30.
func newMarketServer(t *testing.T, names []string) *priceServer {
	t.Helper()
	stocks, err := domain.NewStocks(names)
	require.NoError(t, err)
	prices := memory.NewPriceStore()
	var ticks []domain.Tick
	for i, n := range names {
		if i%2 == 0 {
			ticks = append(ticks, domaintest.Tick(n, march3, 9*3600+30*60+7, int64(1000+i)))
		}
	}
	merge(t, prices, ticks...)
	list, err := app.NewListStocks(stocks, prices)
	require.NoError(t, err)
	watch, err := app.NewWatchPrices(stocks, prices, prices.Feed())
	require.NoError(t, err)
	get, err := app.NewGetPrices(stocks, prices)
	require.NoError(t, err)
	return &priceServer{prices: prices, handler: httpapi.NewHandler(httpapi.Deps{
		ListStocks: list, WatchPrices: watch, GetPrices: get, CursorKey: []byte("a key for the stocks tests"),
		Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})}
}

type stocksPage struct {
	Zone    string `json:"zone"`
	Results []struct {
		Stock string  `json:"stock"`
		Date  *string `json:"date"`
		Time  *string `json:"time"`
		Price *int64  `json:"price"`
	} `json:"results"`
	Next *string `json:"next"`
}

func (p stocksPage) names() []string {
	out := make([]string, len(p.Results))
	for i, r := range p.Results {
		out[i] = r.Stock
	}
	return out
}

func getStocks(t *testing.T, s *priceServer, query string) stocksPage {
	t.Helper()
	rec := s.get(t, "/api/stocks"+query)
	require.Equal(t, http.StatusOK, rec.Code, "%s: %s", query, rec.Body.String())
	var p stocksPage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	if p.Next != nil {
		assert.Contains(t, rec.Header().Get("Link"), "cursor="+url.QueryEscape(*p.Next), query)
	} else {
		assert.Empty(t, rec.Header().Get("Link"), query)
	}
	return p
}

// market is n names, configured out of name order.
func market(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("s%05d", (i*7919)%n)
	}
	return names
}

// TestStocksPagedInNameOrder: limit and cursor walk every stock once, in
// name order, each with its quote; the cursor carries the prefix.
func TestStocksPagedInNameOrder(t *testing.T) {
	t.Parallel()
	names := market(2500)
	s := newMarketServer(t, names)
	priced := map[string]int64{}
	for i, n := range names {
		if i%2 == 0 {
			priced[n] = int64(1000 + i)
		}
	}

	var walked []string
	query := "?limit=1000"
	for pages := 0; ; pages++ {
		require.Less(t, pages, 4, "the walk does not end")
		p := getStocks(t, s, query)
		for _, r := range p.Results {
			if want, ok := priced[r.Stock]; ok {
				require.NotNil(t, r.Price, r.Stock)
				assert.Equal(t, want, *r.Price, r.Stock)
				assert.Equal(t, "093000", *r.Time, "the minute of the close, not its second")
				assert.Equal(t, "2026-03-03", *r.Date)
			} else {
				assert.Nil(t, r.Price, r.Stock)
			}
		}
		walked = append(walked, p.names()...)
		if p.Next == nil {
			break
		}
		query = "?limit=1000&cursor=" + url.QueryEscape(*p.Next)
	}
	require.Len(t, walked, 2500)
	for i := 1; i < len(walked); i++ {
		require.Less(t, walked[i-1], walked[i], "name order, each once")
	}

	// A prefix, paged: the cursor goes on within it, with or without q.
	p := getStocks(t, s, "?q=S012&limit=7")
	assert.Equal(t, []string{"s01200", "s01201", "s01202", "s01203", "s01204", "s01205", "s01206"}, p.names())
	require.NotNil(t, p.Next)
	rest := getStocks(t, s, "?limit=100&cursor="+url.QueryEscape(*p.Next))
	assert.Equal(t, "s01207", rest.names()[0])
	assert.Equal(t, "s01299", rest.names()[len(rest.names())-1])
	assert.Nil(t, rest.Next, "the last of the prefix")
	assert.Len(t, getStocks(t, s, "?q=s012").Results, 100, "q alone: every stock of the prefix")
	assert.Empty(t, getStocks(t, s, "?q=zz&limit=5").Results)

	// Everything, as before: in the configured order, not paged.
	all := getStocks(t, s, "")
	assert.Equal(t, names, all.names())
	assert.Nil(t, all.Next)
}

func TestStocksNamed(t *testing.T) {
	t.Parallel()
	s := newMarketServer(t, market(100))
	p := getStocks(t, s, "?stocks=S00042,s00007,s00042")
	assert.Equal(t, []string{"s00042", "s00007"}, p.names(), "in the order asked, each once")

	rec := s.get(t, "/api/stocks?stocks=s00042,nope")
	assertProblem(t, rec, http.StatusNotFound, "unknown-stock")
	assert.Contains(t, rec.Body.String(), `nope`)
}

func TestStocksListingRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	s := newMarketServer(t, market(10))
	first := getStocks(t, s, "?q=s&limit=2")
	require.NotNil(t, first.Next)
	for _, tc := range []struct{ query, slug string }{
		{"?limit=0", "bad-limit"},
		{"?limit=1001", "bad-limit"},
		{"?limit=+5", "bad-limit"},
		{"?limit=1e2", "bad-limit"},
		{"?cursor=abc", "bad-cursor"},
		{"?cursor=" + url.QueryEscape((*first.Next)[:len(*first.Next)-2]), "bad-cursor"},
		{"?q=t&cursor=" + url.QueryEscape(*first.Next), "bad-cursor"},
		{"?q=a%20b", "bad-query"},
		{"?q=_s", "bad-query"},
		{"?q=" + strings.Repeat("s", 33), "bad-query"},
		{"?stocks=", "bad-query"},
		{"?stocks=s00001,,s00002", "bad-query"},
		{"?stocks=s00001&stocks=s00002", "bad-query"},
		{"?stocks=s00001&limit=5", "bad-query"},
		{"?stocks=a/b", "bad-query"},
		{"?stocks=" + strings.Repeat("s00001,", 1000) + "s00001", "bad-query"},
		{"?limit=%zz", "bad-query"},
	} {
		rec := s.get(t, "/api/stocks"+tc.query)
		assertProblem(t, rec, http.StatusBadRequest, tc.slug)
	}
	rec := s.get(t, "/api/stocks?limit=2&cursor="+url.QueryEscape(*first.Next))
	require.Equal(t, http.StatusOK, rec.Code)
}
