//go:build integration

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/internal/testenv"
)

// marketStocks is the size of the market these tests run: issue 25's
// 10,000 stocks, stock1..stock10000.
const marketStocks = 10000

// market is a CSV of two trading days of every stock of the market and
// what it says of any one stock.
type market struct {
	stocksFile, csv string
	day1, day2      domain.Day
}

// newMarket writes the stock list and the CSV: day 1 has two minutes of
// each stock; day 2 has a minute of four ticks (an open, a high, a low and
// a close that differ), a minute without a tick and one more minute.
// Recent days, so that PRICE_HISTORY_DAYS (30) keeps day 1.
func newMarket(t *testing.T) market {
	t.Helper()
	dir := t.TempDir()
	day2 := domain.DayOf(time.Now().UTC())
	m := market{stocksFile: filepath.Join(dir, "stocks.txt"), csv: filepath.Join(dir, "market.csv"), day1: day2.AddDays(-1), day2: day2}
	var names, rows strings.Builder
	names.WriteString("# the market of issue 25\n")
	rows.WriteString("Date,Time,Stock,Price\n")
	for i := 1; i <= marketStocks; i++ {
		fmt.Fprintf(&names, "stock%d\n", i)
		p1, a := m.prices(i)
		fmt.Fprintf(&rows, "%s,090010,stock%d,%d\n%s,090130,stock%d,%d\n", m.day1, i, p1, m.day1, i, p1+5)
		for _, tk := range []struct {
			at    string
			price int64
		}{{"090005", a}, {"090020", a + 30}, {"090040", a - 10}, {"090050", a + 7}, {"090215", a + 9}} {
			fmt.Fprintf(&rows, "%s,%s,stock%d,%d\n", m.day2, tk.at, i, tk.price)
		}
	}
	require.NoError(t, os.WriteFile(m.stocksFile, []byte(names.String()), 0o600))
	require.NoError(t, os.WriteFile(m.csv, []byte(rows.String()), 0o600))
	return m
}

// prices are stock i's first price of day 1 and its open of day 2.
func (market) prices(i int) (day1, day2 int64) { return 1000 + int64(i%500), 2000 + int64(i%700) }

// marketEnv is the configuration every command of a market run shares.
func (m market) env(extra map[string]string) map[string]string {
	return merged(map[string]string{"STOCKS_FILE": m.stocksFile, "PRICE_CSV": m.csv, "SEED_USERS": "user1:1000000",
		"ORDER_STORE": "memory", "LOG_LEVEL": "warn", "STREAM_LIMIT_PER_CLIENT": "8"}, extra)
}

// TestMarketOfTenThousandStocks runs the main paths with 10,000 stocks in
// STOCKS_FILE on the memory stores, on a throwaway Redis and on a
// throwaway Redis Cluster: a CSV of two days of every stock is ingested,
// and a stock far into the list has its prices, candles and days, an
// earlier day on asking, and is bought at its latest close. On Redis, a
// stream of that stock gets the minute of a later ingest.
func TestMarketOfTenThousandStocks(t *testing.T) {
	m := newMarket(t)
	t.Run("memory", func(t *testing.T) {
		base, _ := startService(t, m.env(nil)) // stockd: the file is ingested before it serves
		m.check(t, base)
	})
	t.Run("redis", func(t *testing.T) {
		env := m.env(map[string]string{"PRICE_STORE": "redis", "REDIS_ADDR": testenv.StartRedis(t).Addr})
		m.ingest(t, env)
		base := serveFor(t, env)
		m.check(t, base)
		m.checkStream(t, env, base)
	})
	t.Run("cluster", func(t *testing.T) {
		env := m.env(map[string]string{"PRICE_STORE": "redis", "REDIS_ADDR": strings.Join(testenv.RedisCluster(t), ",")})
		m.ingest(t, env)
		base := serveFor(t, env)
		m.check(t, base)
		m.checkStream(t, env, base)
	})
}

// ingest runs `stockd update` on the market's file and `stockd seed-users`.
func (m market) ingest(t *testing.T, env map[string]string) {
	t.Helper()
	require.NoError(t, run(t.Context(), []string{"update"}, envOf(env), io.Discard, io.Discard))
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
}

// check asks the API for what the file says of stocks at both ends of the
// list and in the middle, and buys one of them.
func (m market) check(t *testing.T, base string) {
	t.Helper()
	for _, i := range []int{1, marketStocks / 2, marketStocks - 1, marketStocks} {
		stock := "stock" + strconv.Itoa(i)
		p1, a := m.prices(i)
		code, latest := getJSON(t, base+"/api/stocks/"+stock+"/prices")
		require.Equal(t, http.StatusOK, code, "%s: %v", stock, latest)
		assert.Equal(t, m.day2.String(), latest["date"], stock)
		assert.Equal(t, []any{"090000", "090100", "090200"}, latest["time"], stock)
		assert.Equal(t, floats(a+7, a+7, a+9), latest["price"], "%s: closes, 09:01 carried", stock)
		assert.Equal(t, floats(a, a+7, a+9), latest["open"], stock)
		assert.Equal(t, floats(a+30, a+7, a+9), latest["high"], stock)
		assert.Equal(t, floats(a-10, a+7, a+9), latest["low"], stock)

		code, earlier := getJSON(t, base+"/api/stocks/"+stock+"/prices?date="+m.day1.String())
		require.Equal(t, http.StatusOK, code, "%s: %v", stock, earlier)
		assert.Equal(t, []any{"090000", "090100"}, earlier["time"], stock)
		assert.Equal(t, floats(p1, p1+5), earlier["price"], stock)

		code, days := getJSON(t, base+"/api/stocks/"+stock+"/days")
		require.Equal(t, http.StatusOK, code, "%s: %v", stock, days)
		assert.Equal(t, []any{m.day1.String(), m.day2.String()}, days["days"], stock)
	}
	code, page := getJSON(t, base+"/api/stocks?limit=100&q=stock99")
	require.Equal(t, http.StatusOK, code, "%v", page)
	results := page["results"].([]any)
	require.Len(t, results, 100)
	assert.Equal(t, "stock99", results[0].(map[string]any)["stock"], "name order: stock99 before stock990")
	assert.NotNil(t, page["next"], "stock99, stock990..stock999 and stock9900..stock9999: more than a page")

	code, unknown := getJSON(t, base+"/api/stocks/stock"+strconv.Itoa(marketStocks+1)+"/prices")
	assert.Equal(t, http.StatusNotFound, code, "%v", unknown)

	// A buy of a stock far into the list, at its latest close.
	far := marketStocks - 1
	_, a := m.prices(far)
	code, res := postJSON(t, base+"/api/buy-stock", fmt.Sprintf(`{"user":"user1","stockname":"stock%d","quantity":10}`, far))
	require.Equal(t, http.StatusCreated, code, "%v", res)
	assert.Equal(t, "Accept", res["result"])
	assert.Equal(t, float64(a+9), res["order"].(map[string]any)["price"])
	assert.Equal(t, float64(1000000-10*(a+9)), res["credit"])
	code, unknownBuy := postJSON(t, base+"/api/buy-stock", fmt.Sprintf(`{"user":"user1","stockname":"stock%d","quantity":1}`, marketStocks+1))
	assert.Equal(t, http.StatusUnprocessableEntity, code, "%v", unknownBuy)
}

// checkStream opens one stream of two stocks at both ends of the list and
// runs the updater on a file of one more tick of the far one: its minute
// event comes, naming the stock. Watch returns once the feed listens, so
// the first write after the series is seen.
func (m market) checkStream(t *testing.T, env map[string]string, base string) {
	t.Helper()
	stock := "stock" + strconv.Itoa(marketStocks-1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/stream?stocks=stock1,"+stock, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	events := sseEvents(resp)
	for range 2 {
		ev := <-events
		require.Equal(t, "series", ev[0], ev[1])
	}

	const price = 5000
	path := filepath.Join(t.TempDir(), "tick.csv")
	require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, "Date,Time,Stock,Price\n%s,090301,%s,%d\n", m.day2, stock, price), 0o600))
	require.NoError(t, run(t.Context(), []string{"update"}, envOf(env, map[string]string{"PRICE_CSV": path}), io.Discard, io.Discard))
	assert.True(t, minuteShown(events, `"stock":"`+stock+`","date":"`+m.day2.String()+`","time":"090300"`, `"price":`+strconv.Itoa(price), 10*time.Second),
		"the minute of a later ingest on the stream")
}

// sseEvents reads a stream's events ([name, data]) until it ends.
func sseEvents(resp *http.Response) <-chan [2]string {
	events := make(chan [2]string, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var name string
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(line, "event: "); ok {
				name = n
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				events <- [2]string{name, d}
			}
		}
	}()
	return events
}

// minuteShown waits, up to within, for a minute event whose data holds
// every one of parts.
func minuteShown(events <-chan [2]string, part1, part2 string, within time.Duration) bool {
	timeout := time.After(within)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return false
			}
			if ev[0] == "minute" && strings.Contains(ev[1], part1) && strings.Contains(ev[1], part2) {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

func floats(vs ...int64) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = float64(v)
	}
	return out
}
