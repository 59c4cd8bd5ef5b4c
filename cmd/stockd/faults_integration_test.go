//go:build integration

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMixedTradesThroughPostgreSQLFaults: buys and sales of four users,
// each with its Idempotency-Key and retried until answered, while
// PostgreSQL stalls (the orders table locked until an insert waits on it,
// twice) and has
// every connection of stockd terminated (three times). Afterwards, for
// every user: credit + accepted buys - accepted sales = seed, every
// quantity held is the accepted buys' less the accepted sales', one order
// per key, nothing pending, and `stockd reconcile` says the books agree.
func TestMixedTradesThroughPostgreSQLFaults(t *testing.T) {
	w := newRealWorld(t)
	const seed, price = 1_000_000, 1054
	users := []string{"user1", "user2", "user3", "user4"}
	var seeds []string
	for _, u := range users {
		seeds = append(seeds, fmt.Sprintf("%s:%d", u, seed))
	}
	path := writeCSV(t, fmt.Sprintf("Time,Stock,Price\n90006,stock1,%d\n90007,stock2,%d\n", price, price+1))
	env := w.env(map[string]string{"PRICE_CSV": path, "SEED_USERS": strings.Join(seeds, ","), "LOG_LEVEL": "error"})
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
	base, stop := startService(t, env)

	client := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	var mu sync.Mutex
	keys := map[string]int{} // user -> keys answered
	var answered atomic.Int64
	trade := func(route, user, key, body string) {
		deadline := time.Now().Add(90 * time.Second)
		for {
			if !assert.True(t, time.Now().Before(deadline), "key %s never answered", key) {
				return
			}
			req, err := http.NewRequest(http.MethodPost, base+route, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", key)
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					mu.Lock()
					keys[user]++
					mu.Unlock()
					answered.Add(1)
					return
				}
				assert.Contains(t, []int{http.StatusConflict, http.StatusServiceUnavailable}, resp.StatusCode, "key %s", key)
			}
			<-time.After(20 * time.Millisecond) // back off, retry the same key and body
		}
	}
	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	for _, u := range users {
		for w := range 2 {
			load.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stopLoad:
						return
					default:
					}
					route, qty := "/api/buy-stock", 1+n%4
					if n%3 == 2 {
						route, qty = "/api/sell-stock", 1+n%3
					}
					body := fmt.Sprintf(`{"user":%q,"stockname":"stock%d","quantity":%d}`, u, 1+n%2, qty)
					trade(route, u, fmt.Sprintf("%s-%d-%d", u, w, n), body)
				}
			})
		}
	}
	more := func(n int64, what string) {
		t.Helper()
		from := answered.Load()
		require.Eventually(t, func() bool { return answered.Load() >= from+n }, 60*time.Second, 10*time.Millisecond, what)
	}
	admin, err := pgx.Connect(t.Context(), w.dbURL)
	require.NoError(t, err)
	defer admin.Close(context.Background())
	// A stall holds the orders table until an INSERT of stockd waits on
	// it, then lets go. The lock is another session's: pg_stat_activity
	// is read once per transaction.
	locker, err := pgx.Connect(t.Context(), w.dbURL)
	require.NoError(t, err)
	defer locker.Close(context.Background())
	terminate := func() {
		t.Helper()
		_, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), $1) AND backend_type = 'client backend'`,
			locker.PgConn().PID())
		require.NoError(t, err)
	}
	stall := func() {
		t.Helper()
		tx, err := locker.Begin(t.Context())
		require.NoError(t, err)
		_, err = tx.Exec(t.Context(), `LOCK TABLE orders IN EXCLUSIVE MODE`)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			var waiting int
			err := admin.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO orders%'`).Scan(&waiting)
			return err == nil && waiting > 0
		}, 30*time.Second, 10*time.Millisecond, "an insert waits on the stalled table")
		require.NoError(t, tx.Commit(t.Context()))
	}
	more(100, "trades before the faults")
	for i := range 3 {
		terminate()
		more(50, fmt.Sprintf("trades after termination %d", i+1))
		if i < 2 {
			stall()
			more(50, fmt.Sprintf("trades after stall %d", i+1))
		}
	}
	close(stopLoad)
	load.Wait()
	require.NoError(t, stop())

	// A second process settles what the first left pending (grace 30 s).
	base, stop = startService(t, env)
	for _, u := range users {
		require.Eventually(t, func() bool {
			n, err := w.rdb.Do(t.Context(), w.rdb.B().Hlen().Key("stockd:pending:{"+u+"}").Build()).AsInt64()
			return err == nil && n == 0
		}, 90*time.Second, 100*time.Millisecond, "pending orders of %s settled", u)
	}
	var sold int64
	for _, u := range users {
		assert.Equal(t, int64(seed), w.creditOf(t, u)+w.spent(t, u), "%s: credit + bought - sold = seed", u)
		assert.Equal(t, w.ledger(t, u), w.held(t, u), "%s: quantities held = accepted buys - accepted sales", u)
		assert.Equal(t, keys[u], w.countOrders(t, fmt.Sprintf(`"user" = '%s'`, u)), "%s: one order per key", u)
		sold += int64(w.countOrders(t, fmt.Sprintf(`"user" = '%s' AND side = 'sell' AND status = 'accepted'`, u)))
	}
	assert.Positive(t, sold, "sales were accepted")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"reconcile"}, envOf(env), &out, io.Discard), "stockd reconcile: %s", out.String())
	t.Logf("%d keys answered, %d sales accepted; reconcile: %s", answered.Load(), sold, strings.TrimSpace(out.String()))
	require.NoError(t, stop())
}
