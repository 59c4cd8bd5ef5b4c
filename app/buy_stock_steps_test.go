package app_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
	"stockd/internal/domaintest"
	"stockd/ports"
)

// TestFailureBeforeAnyWriteFreesTheKey: a buy that fails before it writes
// anything (no price yet; a debit refused for an unknown user) frees its
// idempotency key, so that the retry runs instead of answering "in
// progress".
func TestFailureBeforeAnyWriteFreesTheKey(t *testing.T) {
	w := newWorld(t)
	noPrice := app.BuyStockCommand{User: "user1", Stock: "stock2", Quantity: 1, IdempotencyKey: "k"}
	_, err := w.buy.Execute(t.Context(), noPrice)
	require.ErrorIs(t, err, app.ErrNoPrice)
	b := domain.NewTickBatch()
	b.Add(domaintest.Tick("stock2", day1, 9*3600, 50))
	require.NoError(t, w.prices.Merge(t.Context(), b.Histories()))
	res, err := w.buy.Execute(t.Context(), noPrice)
	require.NoError(t, err, "the key was freed")
	assert.Equal(t, domain.Accepted, res.Order.Status())
	assert.Equal(t, int64(950), res.Credit)

	noUser := app.BuyStockCommand{User: "user2", Stock: "stock1", Quantity: 1, IdempotencyKey: "k"}
	_, err = w.buy.Execute(t.Context(), noUser)
	require.ErrorIs(t, err, ports.ErrUserNotFound)
	require.NoError(t, w.credits.SetCredit(t.Context(), "user2", 100))
	res, err = w.buy.Execute(t.Context(), noUser)
	require.NoError(t, err, "the key was freed")
	assert.Equal(t, domain.Accepted, res.Order.Status())
	assert.Zero(t, res.Credit)
}

// failingCompletes loses every Complete while fail is set.
type failingCompletes struct {
	*memory.IdempotencyStore
	fail atomic.Bool
}

func (f *failingCompletes) Complete(ctx context.Context, user, key, fingerprint string, outcome ports.Outcome, ttl time.Duration) error {
	if f.fail.Load() {
		return ports.ErrUnavailable
	}
	return f.IdempotencyStore.Complete(ctx, user, key, fingerprint, outcome, ttl)
}

// TestFailedCompleteLeavesThePendingOrderToTheSettler: the order is
// recorded but its key could not be completed. The client gets its result;
// the pending record stays, since it is what the settler completes the key
// from, and the retry then gets the first outcome.
func TestFailedCompleteLeavesThePendingOrderToTheSettler(t *testing.T) {
	w := newWorld(t)
	keys := &failingCompletes{IdempotencyStore: w.keys}
	keys.fail.Store(true)
	stocks, err := domain.NewStocks([]string{"stock1"})
	require.NoError(t, err)
	buy, err := app.NewBuyStock(stocks, w.prices, w.credits, w.credits, w.orders, keys, w.clock)
	require.NoError(t, err)
	cmd := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 2, IdempotencyKey: "k"}
	first, err := buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.Equal(t, int64(800), first.Credit)
	pending, err := w.credits.PendingOrders(t.Context())
	require.NoError(t, err)
	require.Len(t, pending, 1, "the pending record stays for the settler")
	_, err = buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrKeyInFlight)

	keys.fail.Store(false)
	w.clock.Advance(time.Minute)
	n, err := w.settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	again, err := buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.Equal(t, replayOf(first), again)
	assert.Equal(t, int64(800), w.credit(t), "debited once")
	assert.Len(t, w.listed(t), 1)
}
