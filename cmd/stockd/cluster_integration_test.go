//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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

// newClusterWorld is a real world whose Redis is a three-master cluster,
// named to stockd by all its seeds.
func newClusterWorld(t *testing.T) *realWorld {
	t.Helper()
	seeds := testenv.RedisCluster(t)
	c, err := redis.Open(seeds)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return &realWorld{redisAddr: strings.Join(seeds, ","), dbURL: testenv.Postgres(t), rdb: c}
}

// serveFor runs `stockd serve` in-process until the test ends.
func serveFor(t *testing.T, env map[string]string) string {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	env["HTTP_ADDR"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, envOf(env), io.Discard, io.Discard) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 15*time.Second, 20*time.Millisecond, "stockd serve is ready")
	return base
}

// creditOf reads a user's credit as stored.
func (w *realWorld) creditOf(t *testing.T, user string) int64 {
	t.Helper()
	var u struct {
		Credit int64 `json:"credit"`
	}
	require.NoError(t, json.Unmarshal([]byte(w.get(t, user)), &u))
	return u.Credit
}

// spent returns what the recorded accepted orders of user cost.
func (w *realWorld) spent(t *testing.T, user string) int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), w.dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var sum int64
	require.NoError(t, conn.QueryRow(t.Context(),
		`SELECT coalesce(sum(CASE WHEN side = 'sell' THEN -price * quantity ELSE price * quantity END), 0)::bigint
		 FROM orders WHERE "user" = $1 AND status = 'accepted'`, user).Scan(&sum))
	return sum
}

// ledger is what user's accepted orders say it holds (see ledgerOf).
func (w *realWorld) ledger(t *testing.T, user string) map[string]int64 {
	t.Helper()
	return ledgerOf(t, w.dbURL, user)
}

// held is the quantity of each stock user holds in Redis (see heldIn).
func (w *realWorld) held(t *testing.T, user string) map[string]int64 {
	t.Helper()
	return heldIn(t, w.rdb, user)
}

// TestMoneyOnTheCluster: concurrent buys of 16 users, retried with
// idempotency keys, through `stockd serve` on a three-master cluster; for
// every user, the credit spent is exactly the sum of its accepted orders,
// and no credit was overspent.
func TestMoneyOnTheCluster(t *testing.T) {
	w := newClusterWorld(t)
	const price, users, perUser = 1054, 16, 24
	w.set(t, "stock1", `{"time": ["090000"], "price": [`+strconv.Itoa(price)+`]}`)
	var seed []string
	for i := range users {
		seed = append(seed, fmt.Sprintf("u%d:%d", i, 20*price+i)) // covers 20 shares, not all that is asked
	}
	env := w.env(map[string]string{"SEED_USERS": strings.Join(seed, ",")})
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
	base := serveFor(t, env)

	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range users {
		for j := range perUser {
			wg.Go(func() {
				body := fmt.Sprintf(`{"user":"u%d","stockname":"stock1","quantity":%d}`, i, 1+j%3)
				key := fmt.Sprintf("k-%d", j)
				for range 2 { // the retry of a lost reply: same key, same body
					req, err := http.NewRequest(http.MethodPost, base+"/api/buy-stock", strings.NewReader(body))
					require.NoError(t, err)
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Idempotency-Key", key)
					resp, err := http.DefaultClient.Do(req)
					require.NoError(t, err)
					resp.Body.Close()
					mu.Lock()
					codes[resp.StatusCode]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	assert.Equal(t, 0, codes[http.StatusInternalServerError])
	assert.Equal(t, 0, codes[http.StatusServiceUnavailable])
	assert.Equal(t, 2*users*perUser, codes[http.StatusCreated]+codes[http.StatusConflict], "%v", codes)
	for i := range users {
		user := "u" + strconv.Itoa(i)
		left := w.creditOf(t, user)
		assert.GreaterOrEqual(t, left, int64(0))
		assert.Equal(t, int64(20*price+i)-left, w.spent(t, user), "%s: credit spent == accepted orders", user)
		assert.Less(t, left, int64(price)+int64(i)+1, "%s: 48 shares asked, 20 covered: the credit is used up", user)
	}
	assert.Equal(t, users*perUser, w.countOrders(t, "true"), "one order a request, retries answered from the key")
}

// TestNotUsersOnTheCluster: a stock's name and a service key as user are
// 422 and change nothing, on the cluster as on one server.
func TestNotUsersOnTheCluster(t *testing.T) {
	w := newClusterWorld(t)
	w.set(t, "stock1", `{"time": ["090000"], "price": [10]}`)
	env := w.env(map[string]string{"SEED_USERS": "user1:1000"})
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
	base := serveFor(t, env)
	code, _ := postJSON(t, base+"/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1}`)
	require.Equal(t, http.StatusCreated, code)
	stock := w.get(t, "stock1")
	for _, user := range []string{"stock1", "stockd:idempotency:phantom1", "stockd:idem:{user1}:phantom1", "stockd:pending:{user1}"} {
		code, problem := postJSON(t, base+"/api/buy-stock", `{"user":"`+user+`","stockname":"stock1","quantity":100000}`)
		assert.Equal(t, http.StatusUnprocessableEntity, code, "%s: %v", user, problem)
	}
	assert.Equal(t, 1, w.countOrders(t, "true"))
	assert.Equal(t, int64(990), w.creditOf(t, "user1"))
	assert.Equal(t, stock, w.get(t, "stock1"))
}

// TestCrashOnTheCluster: a debit left without its order on some master is
// found and recorded once by the settler, whichever master holds it.
func TestCrashOnTheCluster(t *testing.T) {
	w := newClusterWorld(t)
	credits := redis.NewCreditStore(w.rdb)
	pool, err := postgres.Open(w.dbURL)
	require.NoError(t, err)
	defer pool.Close()
	created := time.Now().Add(-time.Minute)
	for i := range 12 { // users on every master
		user := "user" + strconv.Itoa(i)
		require.NoError(t, credits.SetCredit(t.Context(), user, 1000))
		b, err := domain.NewBuy(user, "stock1", 3)
		require.NoError(t, err)
		o, err := b.AtPrice("crash-"+user, 100, created)
		require.NoError(t, err)
		_, err = credits.Debit(t.Context(), ports.DebitRequest{Order: o})
		require.NoError(t, err)
	}
	settle, err := app.NewSettlePendingOrders(credits, postgres.NewOrderRepository(pool), redis.NewIdempotencyStore(w.rdb), memory.SystemClock{}, 30*time.Second, nil)
	require.NoError(t, err)
	n, err := settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 12, n)
	n, err = settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 12, w.countOrders(t, "order_key LIKE 'crash-%' AND quantity = 3"))
	assert.Equal(t, int64(700), w.creditOf(t, "user7"))
}

func (w *realWorld) set(t *testing.T, key, value string) {
	t.Helper()
	require.NoError(t, w.rdb.Do(t.Context(), w.rdb.B().Set().Key(key).Value(value).Build()).Error())
}
