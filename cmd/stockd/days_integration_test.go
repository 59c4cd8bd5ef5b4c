//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/domain"
	"stockd/internal/testenv"
)

// storedSeries is the JSON under a stock's key or a day key.
type storedSeries struct {
	Date  string   `json:"date"`
	Time  []string `json:"time"`
	Price []int64  `json:"price"`
}

func (w *realWorld) series(t *testing.T, key string) storedSeries {
	t.Helper()
	var s storedSeries
	require.NoError(t, json.Unmarshal([]byte(w.get(t, key)), &s), key)
	return s
}

// TestTwoTradingDaysEndToEnd is the second morning on the real
// binary: day 1 is ingested from a CSV without dates (PRICE_DATE), then
// day 2 arrives from Kafka in records without a date, whose timestamps
// fall on day 2 in APP_TIMEZONE (Tokyo) though still on day 1 in UTC. Day
// 2's first ticks are earlier in their day than day 1's close; they must
// still be the latest price, and a buy is judged at day 2's price.
func TestTwoTradingDaysEndToEnd(t *testing.T) {
	w := newRealWorld(t)
	bin := buildBinary(t)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	// Recent days, so that day 1 is kept (PRICE_HISTORY_DAYS=30) when it
	// moves to its own key.
	day2 := domain.DayOf(time.Now().In(tokyo))
	day1 := day2.AddDays(-1)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "main_topic"))
	require.NoError(t, err)
	defer cluster.Close()
	brokers := strings.Join(cluster.ListenAddrs(), ",")

	env := append(os.Environ(), "PRICE_STORE=redis", "ORDER_STORE=postgres", "REDIS_ADDR="+w.redisAddr,
		"DATABASE_URL="+w.dbURL, "APP_TIMEZONE=Asia/Tokyo", "LOG_LEVEL=warn", "SEED_USERS=user1:1000000",
		"KAFKA_BROKERS="+brokers, "KAFKA_TOPIC=main_topic", "KAFKA_GROUP=days-e2e")
	stockd := func(args []string, extra ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(append([]string{}, env...), extra...)
		return cmd
	}
	out, err := stockd([]string{"seed-users"}).CombinedOutput()
	require.NoError(t, err, "stockd seed-users: %s", out)

	// Day 1 from a file without dates: PRICE_DATE says which day it is.
	csvPath := writeCSV(t, "Time,Stock,Price\n090056,stock1,1000\n095956,stock1,1124\n")
	out, err = stockd([]string{"update"}, "PRICE_SOURCE=csv", "PRICE_CSV="+csvPath, "PRICE_DATE="+day1.String()).CombinedOutput()
	require.NoError(t, err, "stockd update (csv): %s", out)
	s := w.series(t, "stock1")
	assert.Equal(t, day1.String(), s.Date)
	assert.Equal(t, int64(1124), s.Price[len(s.Price)-1])

	// Day 2 from Kafka: no "date" in the values; the record timestamps
	// are 08:30 on day 2 in Tokyo, 23:30 of day 1 in UTC.
	y, m, d := day2.Date()
	stamp := time.Date(y, m, d, 8, 30, 0, 0, tokyo)
	require.Equal(t, day1, domain.DayOf(stamp.UTC()), "the timestamp is on day 1 in UTC")
	producer, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.DefaultProduceTopic("main_topic"))
	require.NoError(t, err)
	defer producer.Close()
	for _, v := range []string{
		`{"stock": "stock1", "time": "090005", "price": 5000}`,
		`{"stock": "stock1", "time": "090010", "price": 5100}`,
	} {
		rec := &kgo.Record{Key: []byte("stock1"), Value: []byte(v), Timestamp: stamp}
		require.NoError(t, producer.ProduceSync(t.Context(), rec).FirstErr())
	}
	update := stockd([]string{"update"}, "PRICE_SOURCE=kafka", "UPDATER_ADDR="+testenv.FreeAddr(t))
	update.Stderr = os.Stderr
	require.NoError(t, update.Start())
	t.Cleanup(func() { _ = update.Process.Kill(); _, _ = update.Process.Wait() })
	require.Eventually(t, func() bool {
		v, err := w.rdb.Do(t.Context(), w.rdb.B().Get().Key("stock1").Build()).ToString()
		return err == nil && strings.Contains(v, `"date":"`+day2.String()+`"`) && strings.Contains(v, "5100")
	}, 30*time.Second, 50*time.Millisecond, "the kafka updater starts day 2")
	require.NoError(t, update.Process.Signal(syscall.SIGTERM))
	require.NoError(t, update.Wait(), "SIGTERM: commit and exit 0")

	// Redis: day 2 under stock1, day 1 moved to its day key, expiring
	// PRICE_HISTORY_DAYS (30) full days after day 1 ends in Tokyo.
	s = w.series(t, "stock1")
	assert.Equal(t, storedSeries{Date: day2.String(), Time: []string{"090000"}, Price: []int64{5100}}, s)
	dayKey := "stockd:day:{stock1}:" + day1.String()
	moved := w.series(t, dayKey)
	assert.Equal(t, day1.String(), moved.Date)
	assert.Equal(t, int64(1124), moved.Price[len(moved.Price)-1])
	assert.Len(t, moved.Time, 60, "09:00 to 09:59 of day 1")
	expireAt, err := w.rdb.Do(t.Context(), w.rdb.B().Expiretime().Key(dayKey).Build()).AsInt64()
	require.NoError(t, err)
	assert.Equal(t, day1.ExpiresAt(30, tokyo).Unix(), expireAt)
	ttl, err := w.rdb.Do(t.Context(), w.rdb.B().Ttl().Key("stock1").Build()).AsInt64()
	require.NoError(t, err)
	assert.Equal(t, int64(-1), ttl, "the latest day never expires")

	// The API, from `stockd serve`: day 2 is the latest, day 1 on asking.
	addr := testenv.FreeAddr(t)
	serve := stockd([]string{"serve"}, "HTTP_ADDR="+addr)
	serve.Stderr = os.Stderr
	require.NoError(t, serve.Start())
	t.Cleanup(func() { _ = serve.Process.Kill(); _, _ = serve.Process.Wait() })
	base := "http://" + addr
	waitHealthy(t, base, 20*time.Second)

	code, prices := getJSON(t, base+"/api/stocks/stock1/prices")
	require.Equal(t, http.StatusOK, code, prices)
	assert.Equal(t, day2.String(), prices["date"])
	assert.Equal(t, []any{5100.0}, prices["price"])
	code, prices = getJSON(t, base+"/api/stocks/stock1/prices?date="+day1.String())
	require.Equal(t, http.StatusOK, code, prices)
	assert.Equal(t, day1.String(), prices["date"])
	assert.Equal(t, 1124.0, prices["price"].([]any)[59])
	code, days := getJSON(t, base+"/api/stocks/stock1/days")
	require.Equal(t, http.StatusOK, code, days)
	assert.Equal(t, []any{day1.String(), day2.String()}, days["days"])
	code, listed := getJSON(t, base+"/api/stocks")
	require.Equal(t, http.StatusOK, code, listed)
	assert.Equal(t, map[string]any{"stock": "stock1", "date": day2.String(), "time": "090000", "price": 5100.0}, listed["results"].([]any)[0])

	code, res := postJSON(t, base+"/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":10}`)
	require.Equal(t, http.StatusCreated, code, res)
	assert.Equal(t, "Accept", res["result"])
	assert.Equal(t, 5100.0, res["order"].(map[string]any)["price"], "judged at day 2's price, not day 1's close")
	assert.Equal(t, 1000000.0-51000, res["credit"])
	assert.JSONEq(t, `{"credit": 949000}`, w.get(t, "user1"))
	assert.Equal(t, 1, w.countOrders(t, "price = 5100 AND quantity = 10"))
}

// TestStalePriceIsRefused: with MAX_PRICE_AGE, a buy on yesterday's close
// is a 409 stale-price, with and without an Idempotency-Key, and writes
// nothing: no debit, no order, no pending record, no key kept. Once a
// fresh tick is ingested, the same request is accepted.
func TestStalePriceIsRefused(t *testing.T) {
	w := newRealWorld(t)
	// A fresh tick a minute ago, and yesterday's close; both in UTC, so
	// that a minute ago may well be yesterday too near midnight.
	fresh := time.Now().UTC().Add(-time.Minute)
	yesterday := domain.DayOf(fresh).AddDays(-1)
	stale := writeCSV(t, "Time,Stock,Price\n095956,stock1,1124\n")
	env := w.env(map[string]string{"PRICE_CSV": stale, "PRICE_DATE": yesterday.String(), "MAX_PRICE_AGE": "15m", "SEED_USERS": "user1:100000"})
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
	base, stop := startService(t, env)
	keysBefore := w.keys(t)

	body := `{"user":"user1","stockname":"stock1","quantity":1}`
	code, problem := postJSON(t, base+"/api/buy-stock", body)
	assert.Equal(t, http.StatusConflict, code, problem)
	assert.True(t, strings.HasSuffix(fmt.Sprint(problem["type"]), "stale-price"), "problem type %v", problem["type"])
	code, problem = postWithKey(t, base+"/api/buy-stock", body, "stale-1")
	assert.Equal(t, http.StatusConflict, code, problem)
	assert.True(t, strings.HasSuffix(fmt.Sprint(problem["type"]), "stale-price"), "problem type %v", problem["type"])

	assert.JSONEq(t, `{"credit": 100000}`, w.get(t, "user1"), "nothing debited")
	assert.Equal(t, 0, w.countOrders(t, "true"), "no order recorded")
	assert.ElementsMatch(t, keysBefore, w.keys(t), "no key written in Redis: no pending order, no idempotency record")

	// A fresh tick, ingested by the updater into the same Redis: the same
	// request, same key, is judged now.
	now := writeCSV(t, fmt.Sprintf("Time,Stock,Price\n%s,stock1,900\n", domain.TimeOfDay(fresh.Hour()*3600+fresh.Minute()*60+fresh.Second())))
	require.NoError(t, run(t.Context(), []string{"update"}, envOf(env, map[string]string{"PRICE_CSV": now, "PRICE_DATE": domain.DayOf(fresh).String()}), io.Discard, io.Discard))
	code, res := postWithKey(t, base+"/api/buy-stock", body, "stale-1")
	require.Equal(t, http.StatusCreated, code, res)
	assert.Equal(t, 900.0, res["order"].(map[string]any)["price"])
	require.NoError(t, stop())
}

func (w *realWorld) keys(t *testing.T) []string {
	t.Helper()
	keys, err := w.rdb.Do(t.Context(), w.rdb.B().Keys().Pattern("*").Build()).AsStrSlice()
	require.NoError(t, err)
	return keys
}

func postWithKey(t *testing.T, url, body, key string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var v map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return resp.StatusCode, v
}
