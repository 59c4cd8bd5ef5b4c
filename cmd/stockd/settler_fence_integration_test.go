//go:build integration

package main

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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

// fenceWorld is two processes on one Redis and one PostgreSQL: A, whose
// saves can be held (behind a proxy, or by a table lock), and B, which
// runs the settler and takes the client's retry.
type fenceWorld struct {
	*realWorld
	proxy  *testenv.Proxy
	a, b   *app.BuyStock
	settle *app.SettlePendingOrders
	later  *memory.ManualClock // B's settler: past A's grace period
}

const fenceGrace = 30 * time.Second

func newFenceWorld(t *testing.T) *fenceWorld {
	t.Helper()
	w := &fenceWorld{realWorld: newRealWorld(t)}
	u, err := url.Parse(w.dbURL)
	require.NoError(t, err)
	w.proxy = testenv.StartProxy(t, u.Host)
	u.Host = w.proxy.Addr
	poolA, err := postgres.Open(u.String())
	require.NoError(t, err)
	t.Cleanup(poolA.Close)
	require.NoError(t, poolA.Ping(t.Context()), "A's connection is open before its save is held")
	poolB, err := postgres.Open(w.dbURL)
	require.NoError(t, err)
	t.Cleanup(poolB.Close)

	w.set(t, "stock1", `{"time": ["090000"], "price": [100]}`)
	credits := redis.NewCreditStore(w.rdb)
	require.NoError(t, credits.SetCredit(t.Context(), "user1", 50)) // every buy below is denied
	keys := redis.NewIdempotencyStore(w.rdb)
	stocks, err := domain.NewStocks([]string{"stock1"})
	require.NoError(t, err)
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	w.later = memory.NewManualClock(start.Add(fenceGrace + time.Second))
	newBuy := func(pool *pgxpool.Pool) *app.BuyStock {
		b, err := app.NewBuyStock(stocks, redis.NewPriceStore(w.rdb), credits, credits, postgres.NewOrderRepository(pool), keys, memory.NewManualClock(start))
		require.NoError(t, err)
		return b
	}
	w.a, w.b = newBuy(poolA), newBuy(poolB)
	w.settle, err = app.NewSettlePendingOrders(credits, postgres.NewOrderRepository(poolB), keys, w.later, fenceGrace, nil)
	require.NoError(t, err)
	return w
}

var fencedBuy = app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 10, IdempotencyKey: "retry-me"}

// startA runs A's buy until its INSERT is held (held reports it), and
// returns A's answer once it comes.
func (w *fenceWorld) startA(t *testing.T, held func() bool) <-chan error {
	t.Helper()
	answer := make(chan error, 1)
	go func() {
		_, err := w.a.Execute(context.Background(), fencedBuy)
		answer <- err
	}()
	var early error
	answered := false
	require.Eventually(t, func() bool {
		select {
		case early = <-answer:
			answered = true
			return true
		default:
			return held()
		}
	}, 10*time.Second, 5*time.Millisecond, "A's INSERT is held")
	require.False(t, answered, "A answered before its INSERT was held: %v", early)
	return answer
}

// settleAndFree is B's settler: it finds A's key stuck past the grace
// period with no order (A's INSERT has not run) and frees it.
func (w *fenceWorld) settleAndFree(t *testing.T) {
	t.Helper()
	freed, err := w.settle.FreeStuckKeys(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, freed, "B's settler found no order for the key and freed it")
}

// retryOnB is the client's retry, through B, once the key is free.
func (w *fenceWorld) retryOnB(t *testing.T) app.BuyStockResult {
	t.Helper()
	retried, err := w.b.Execute(t.Context(), fencedBuy)
	require.NoError(t, err)
	require.Equal(t, domain.Denied, retried.Order.Status())
	return retried
}

// answerOfA waits for A's answer.
func answerOfA(t *testing.T, answer <-chan error) error {
	t.Helper()
	select {
	case err := <-answer:
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("A never answered")
		return nil
	}
}

// oneKeyOneOrder checks the end: A's late INSERT stored nothing and A says
// so, one order is recorded for the key, and a retry anywhere replays it.
func (w *fenceWorld) oneKeyOneOrder(t *testing.T, errOfA error, recorded app.BuyStockResult) {
	t.Helper()
	assert.ErrorIs(t, errOfA, ports.ErrOrderForgone, "A's late INSERT was refused")
	assert.Equal(t, 1, w.countOrders(t, `"user" = 'user1'`), "one key, one order")
	for _, p := range []*app.BuyStock{w.a, w.b} {
		again, err := p.Execute(t.Context(), fencedBuy)
		require.NoError(t, err)
		assert.Equal(t, recorded.Order, again.Order, "a retry through either process replays the order")
	}
	assert.JSONEq(t, `{"credit": 50}`, w.get(t, "user1"), "money is untouched")
}

// TestSettlerFenceAgainstAHeldInsert is issue 16 item 4 with A's INSERT
// held in the network (the outage proxy holds it, as a SIGSTOP of A after
// it sent the INSERT would) past the grace period: B's settler finds no
// order and frees the key, a retry on B records the order, and then A's
// INSERT arrives. Without the fence it committed a second order.
func TestSettlerFenceAgainstAHeldInsert(t *testing.T) {
	w := newFenceWorld(t)
	w.proxy.Hold(true)
	answer := w.startA(t, func() bool { return w.proxy.Parked() > 0 })
	w.settleAndFree(t)
	recorded := w.retryOnB(t)
	w.proxy.Hold(false)
	w.oneKeyOneOrder(t, answerOfA(t, answer), recorded)
}

// TestSettlerFenceAgainstAnInsertWaitingOnALock is the scenario as it was
// found: A's INSERT is in the server, waiting on a table lock, while B's
// settler frees the key; the lock ends, then the client retries on B.
func TestSettlerFenceAgainstAnInsertWaitingOnALock(t *testing.T) {
	w := newFenceWorld(t)
	// Two sessions: pg_stat_activity is read once per transaction, so the
	// one that watches must not be inside the locking transaction.
	admin, err := pgx.Connect(t.Context(), w.dbURL)
	require.NoError(t, err)
	defer admin.Close(context.Background())
	locker, err := pgx.Connect(t.Context(), w.dbURL)
	require.NoError(t, err)
	defer locker.Close(context.Background())
	lock, err := locker.Begin(t.Context())
	require.NoError(t, err)
	// EXCLUSIVE blocks writers and lets readers (the settler's lookup) in.
	_, err = lock.Exec(t.Context(), `LOCK TABLE orders IN EXCLUSIVE MODE`)
	require.NoError(t, err)
	answer := w.startA(t, func() bool {
		var waiting int
		err := admin.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO orders%'`).Scan(&waiting)
		if err != nil {
			t.Logf("counting waiting inserts: %v", err)
		}
		return err == nil && waiting > 0
	})
	w.settleAndFree(t)
	require.NoError(t, lock.Commit(t.Context()))
	errOfA := answerOfA(t, answer) // A's INSERT ran before the retry, as in the report
	w.oneKeyOneOrder(t, errOfA, w.retryOnB(t))
}
