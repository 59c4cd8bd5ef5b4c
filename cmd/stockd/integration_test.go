//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/adapters/postgres"
	"stockd/adapters/redis"
	"stockd/app"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

type realWorld struct {
	redisAddr string
	dbURL     string
	rdb       rueidis.Client
}

func newRealWorld(t *testing.T) *realWorld {
	t.Helper()
	srv := testenv.StartRedis(t)
	w := &realWorld{redisAddr: srv.Addr, dbURL: testenv.Postgres(t)}
	c, err := redis.Open([]string{srv.Addr})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	w.rdb = c
	return w
}

func (w *realWorld) env(extra map[string]string) map[string]string {
	return merged(map[string]string{"PRICE_STORE": "redis", "ORDER_STORE": "postgres", "REDIS_ADDR": w.redisAddr, "DATABASE_URL": w.dbURL}, extra)
}

func (w *realWorld) get(t *testing.T, key string) string {
	t.Helper()
	v, err := w.rdb.Do(t.Context(), w.rdb.B().Get().Key(key).Build()).ToString()
	require.NoError(t, err)
	return v
}

func (w *realWorld) countOrders(t *testing.T, where string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), w.dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var n int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM orders WHERE `+where).Scan(&n))
	return n
}

// TestUpdateWritesTheContractSeries runs `stockd update` on a file in the
// original wide layout and checks the stored JSON against hand-computed
// closes and carried minutes.
func TestUpdateWritesTheContractSeries(t *testing.T) {
	w := newRealWorld(t)
	path := writeCSV(t, "Time,Stock1,Stock2,Stock3\n90031,1041,,\n90041,1008,,\n90006,,,1734\n"+
		"90134,992,,\n90154,1054,,\n90149,1014,,\n92805,,,1984\n93001,,,1877\n")
	require.NoError(t, run(t.Context(), []string{"update"}, envOf(w.env(map[string]string{"PRICE_CSV": path})), io.Discard, io.Discard))

	var s1 map[string]any
	require.NoError(t, json.Unmarshal([]byte(w.get(t, "stock1")), &s1))
	assert.Equal(t, []any{"090000", "090100"}, s1["time"])
	assert.Equal(t, []any{1008.0, 1054.0}, s1["price"])

	var s3 struct {
		Time  []string `json:"time"`
		Price []int64  `json:"price"`
	}
	require.NoError(t, json.Unmarshal([]byte(w.get(t, "stock3")), &s3))
	require.Len(t, s3.Time, 31)
	assert.Equal(t, "092800", s3.Time[28])
	assert.Equal(t, int64(1984), s3.Price[28])
	assert.Equal(t, "092900", s3.Time[29])
	assert.Equal(t, int64(1984), s3.Price[29], "09:29 carries 09:28's close")
	assert.Equal(t, int64(1877), s3.Price[30])

	// Applying the same file again changes no byte.
	before := w.get(t, "stock3")
	require.NoError(t, run(t.Context(), []string{"update"}, envOf(w.env(map[string]string{"PRICE_CSV": path})), io.Discard, io.Discard))
	assert.Equal(t, before, w.get(t, "stock3"))

	// A file with a bad row changes nothing.
	bad := writeCSV(t, "Time,Stock,Price\n90006,stock3,1\n90007,stock3,0\n")
	require.Error(t, run(t.Context(), []string{"update"}, envOf(w.env(map[string]string{"PRICE_CSV": bad})), io.Discard, io.Discard))
	assert.Equal(t, before, w.get(t, "stock3"))
}

// TestConcurrentBuysOnRealStores: 50 concurrent orders against a credit
// that covers exactly 10 of them.
func TestConcurrentBuysOnRealStores(t *testing.T) {
	w := newRealWorld(t)
	path := writeCSV(t, "Time,Stock,Price\n90006,stock1,1054\n")
	env := w.env(map[string]string{"PRICE_CSV": path, "SEED_USERS": "user1:10540,user2:5"})
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
	base, stop := startService(t, env)

	count := postConcurrently(t, base+"/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1}`, 50)
	assert.Equal(t, map[any]int{201: 50, "Accept": 10, "Deny": 40}, count)
	assert.JSONEq(t, `{"credit": 0}`, w.get(t, "user1"))
	assert.Equal(t, 50, w.countOrders(t, "true"))
	assert.Equal(t, 10, w.countOrders(t, "status = 'accepted'"))
	require.NoError(t, stop())
}

// TestConcurrentSalesOfOnePositionOnRealStores: 10 shares held, 50
// concurrent sales of one: exactly 10 accepted, every share paid once, and
// the books agree (credit, quantity, one order per sale).
func TestConcurrentSalesOfOnePositionOnRealStores(t *testing.T) {
	w := newRealWorld(t)
	path := writeCSV(t, "Time,Stock,Price\n90006,stock1,1054\n")
	env := w.env(map[string]string{"PRICE_CSV": path, "SEED_USERS": "user1:10540"})
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
	base, stop := startService(t, env)
	code, res := postJSON(t, base+"/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":10}`)
	require.Equal(t, http.StatusCreated, code)
	require.Equal(t, "Accept", res["result"])

	count := postConcurrently(t, base+"/api/sell-stock", `{"user":"user1","stockname":"stock1","quantity":1}`, 50)
	assert.Equal(t, map[any]int{201: 50, "Accept": 10, "Deny": 40}, count)
	assert.JSONEq(t, `{"credit": 10540}`, w.get(t, "user1"), "every share sold once, at 1054")
	assert.Empty(t, w.held(t, "user1"), "nothing left")
	assert.Empty(t, w.ledger(t, "user1"))
	assert.Equal(t, 51, w.countOrders(t, "true"))
	assert.Equal(t, 10, w.countOrders(t, "status = 'accepted' AND side = 'sell'"))
	require.NoError(t, stop())
}

// postConcurrently posts body to url n times at once and counts the
// answers' statuses and results.
func postConcurrently(t *testing.T, url, body string, n int) map[any]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	count := map[any]int{}
	for range n {
		wg.Go(func() {
			code, res := postJSON(t, url, body)
			mu.Lock()
			defer mu.Unlock()
			count[code]++
			count[res["result"]]++
		})
	}
	wg.Wait()
	return count
}

// TestCrashBetweenDebitAndInsert leaves a debit with no order, as a process
// killed between the two would, and shows the settler of the next start
// records it once.
func TestCrashBetweenDebitAndInsert(t *testing.T) {
	w := newRealWorld(t)
	credits := redis.NewCreditStore(w.rdb)
	require.NoError(t, credits.SetCredit(t.Context(), "user1", 1000))
	pool, err := postgres.Open(w.dbURL)
	require.NoError(t, err)
	defer pool.Close()
	orders := postgres.NewOrderRepository(pool)

	created := time.Now().Add(-time.Minute)
	buy, err := domain.NewBuy("user1", "stock1", 3)
	require.NoError(t, err)
	o, err := buy.AtPrice("crash-1", 100, created)
	require.NoError(t, err)
	_, err = credits.Debit(t.Context(), ports.DebitRequest{Order: o})
	require.NoError(t, err)
	// ... and here the process died.

	settle, err := app.NewSettlePendingOrders(credits, orders, redis.NewIdempotencyStore(w.rdb), memory.SystemClock{}, 30*time.Second, nil)
	require.NoError(t, err)
	n, err := settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 1, w.countOrders(t, "order_key = 'crash-1' AND quantity = 3"))
	assert.JSONEq(t, `{"credit": 700}`, w.get(t, "user1"))
}

// TestOutagesAreFastAndTemporary takes Redis and then PostgreSQL away
// behind proxies: requests fail with 503 problems, /readyz names the
// dependency, nothing changes, and the service recovers by itself.
func TestOutagesAreFastAndTemporary(t *testing.T) {
	w := newRealWorld(t)
	redisProxy := testenv.StartProxy(t, w.redisAddr)
	u, err := url.Parse(w.dbURL)
	require.NoError(t, err)
	pgProxy := testenv.StartProxy(t, u.Host)
	u.Host = pgProxy.Addr
	path := writeCSV(t, "Time,Stock,Price\n90006,stock1,10\n")
	env := w.env(map[string]string{"PRICE_CSV": path, "SEED_USERS": "user1:1000", "REDIS_ADDR": redisProxy.Addr, "DATABASE_URL": u.String()})
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
	base, stop := startService(t, env)
	buy := `{"user":"user1","stockname":"stock1","quantity":10}`

	for _, tc := range []struct {
		name  string
		proxy *testenv.Proxy
	}{{"redis", redisProxy}, {"postgres", pgProxy}} {
		tc.proxy.SetDown(true)
		start := time.Now()
		code, problem := postJSON(t, base+"/api/buy-stock", buy)
		assert.Equal(t, http.StatusServiceUnavailable, code, "%s down: %v", tc.name, problem)
		assert.Less(t, time.Since(start), 10*time.Second, "fails within the request deadline, no hang")
		assert.Equal(t, 503.0, problem["status"])

		code, ready := getJSON(t, base+"/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Equal(t, "unavailable", ready["checks"].(map[string]any)[tc.name], "readyz names %s", tc.name)
		body, _ := json.Marshal(ready)
		for _, secret := range []string{tc.proxy.Addr, "127.0.0.1", "postgres@", "dbname", "stockd_"} {
			assert.NotContains(t, string(body), secret, "/readyz names the adapter only")
		}

		tc.proxy.SetDown(false)
		require.Eventually(t, func() bool {
			resp, err := http.Get(base + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, 15*time.Second, 100*time.Millisecond, "%s back: ready again", tc.name)
	}
	// The postgres outage happened after the debit of an accepted order:
	// one debit (100) and no lost money; the settler records it within its
	// grace period plus a tick, which the test does not wait for: the
	// pending record is what proves it was kept.
	code, res := postJSON(t, base+"/api/buy-stock", buy)
	require.Equal(t, http.StatusCreated, code, res)
	credit := res["credit"].(float64)
	// Stopped first: a recorded order's pending record is forgotten a
	// moment after its answer (redis.LaterSettler), at the latest when
	// the service stops.
	require.NoError(t, stop())
	pending, err := redis.NewCreditStore(w.rdb).PendingOrders(t.Context())
	require.NoError(t, err)
	accepted := w.countOrders(t, "status = 'accepted'")
	assert.Equal(t, 1000.0-100*float64(accepted+len(pending)), credit, "every debit is an order, recorded or pending")
}

func TestServeRefusesASchemaBehind(t *testing.T) {
	w := newRealWorld(t)
	err := run(t.Context(), []string{"serve"}, envOf(w.env(map[string]string{"DATABASE_URL": testenv.EmptyDatabase(t)})), io.Discard, io.Discard)
	require.ErrorIs(t, err, postgres.ErrSchemaBehind)
	assert.Contains(t, err.Error(), "stockd migrate")
}

// TestTokensEndToEnd: `stockd token` prints a token once and stores only
// its hash; `serve` with AUTH=tokens takes it, and refuses others.
func TestTokensEndToEnd(t *testing.T) {
	w := newRealWorld(t)
	path := writeCSV(t, "Time,Stock,Price\n90006,stock1,10\n")
	env := w.env(map[string]string{"PRICE_CSV": path, "SEED_USERS": "user1:1000,user2:1000", "AUTH": "tokens"})
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
	require.NoError(t, run(t.Context(), []string{"update"}, envOf(env), io.Discard, io.Discard))
	for _, nobody := range []string{"nobody", "stock1"} {
		var none strings.Builder
		err := run(t.Context(), []string{"token", nobody}, envOf(env), &none, io.Discard)
		require.ErrorIs(t, err, ports.ErrUserNotFound, "a token only for a user that exists")
		assert.Empty(t, none.String())
	}
	var out strings.Builder
	require.NoError(t, run(t.Context(), []string{"token", "user1"}, envOf(env), &out, io.Discard))
	token := strings.TrimSpace(out.String())
	require.Len(t, token, 43)
	keys, err := w.rdb.Do(t.Context(), w.rdb.B().Keys().Pattern("stockd:token:*").Build()).AsStrSlice()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.NotContains(t, keys[0], token, "only the hash is stored")
	assert.Equal(t, "user1", w.get(t, keys[0]))
	require.Error(t, run(t.Context(), []string{"token"}, envOf(env), io.Discard, io.Discard), "USER is required")

	base, stop := startService(t, env)
	call := func(body, token string) int {
		req, err := http.NewRequest(http.MethodPost, base+"/api/buy-stock", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, call(`{"user":"user1","stockname":"stock1","quantity":1}`, ""))
	assert.Equal(t, http.StatusForbidden, call(`{"user":"user2","stockname":"stock1","quantity":1}`, token))
	assert.Equal(t, http.StatusCreated, call(`{"user":"user1","stockname":"stock1","quantity":1}`, token))
	assert.JSONEq(t, `{"credit": 990}`, w.get(t, "user1"))
	assert.JSONEq(t, `{"credit": 1000}`, w.get(t, "user2"))
	require.NoError(t, stop())
}

// TestUpdateWithCSVExits: `update` with a file applies it, logs what it
// applied, and exits 0.
func TestUpdateWithCSVExits(t *testing.T) {
	srv := testenv.StartRedis(t)
	path := writeCSV(t, "Time,Stock,Price\n90006,stock1,100\n")
	var logs bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"update"}, envOf(map[string]string{"PRICE_STORE": "redis", "REDIS_ADDR": srv.Addr, "PRICE_CSV": path}), io.Discard, &logs))
	assert.Contains(t, logs.String(), `"ticks":1`)
}
