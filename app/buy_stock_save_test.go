package app_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

// lateOrders stores an order and then, while lose is set, reports that
// its caller gave up (context.Canceled), as the PostgreSQL group commit
// does for a caller whose order was already taken into a flush.
type lateOrders struct {
	*flakyOrders
	lose atomic.Bool
	// before, when set, runs once before the next save: the time a slow
	// request spends on its way to the repository.
	before func()
}

func (l *lateOrders) Save(ctx context.Context, o domain.Order) (domain.Order, error) {
	if f := l.before; f != nil {
		l.before = nil
		f()
	}
	saved, err := l.flakyOrders.Save(ctx, o)
	if err == nil && l.lose.Load() {
		return domain.Order{}, context.Canceled
	}
	return saved, err
}

// newBuyOn wires a BuyStock of w on another order repository.
func (w *world) newBuyOn(t *testing.T, orders ports.OrderRepository) *app.BuyStock {
	t.Helper()
	stocks, err := domain.NewStocks([]string{"stock1"})
	require.NoError(t, err)
	buy, err := app.NewBuyStock(stocks, w.prices, w.credits, w.credits, orders, w.keys, w.clock)
	require.NoError(t, err)
	return buy
}

// settleRound is what one round of the settler does.
func (w *world) settleRound(t *testing.T) {
	t.Helper()
	_, err := w.settle.Execute(t.Context())
	require.NoError(t, err)
	_, err = w.settle.FreeStuckKeys(t.Context())
	require.NoError(t, err)
}

// TestSaveThatCommittedAfterAllNeverRecordsTwice: the order is stored but
// Save reports a failure (the client went away while its order was in a
// flush). The key stays reserved, the retry is held off, and after the
// settler's round the retry gets the first order: there is no second one.
func TestSaveThatCommittedAfterAllNeverRecordsTwice(t *testing.T) {
	for _, tc := range []struct {
		name     string
		quantity int64
		status   domain.Status
		errIs    error
		credit   int64
	}{
		{"denied", 100, domain.Denied, ports.ErrOutcomeUnknown, 1000},
		{"accepted", 2, domain.Accepted, app.ErrOrderPending, 800},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			orders := &lateOrders{flakyOrders: w.orders}
			orders.lose.Store(true)
			buy := w.newBuyOn(t, orders)
			cmd := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: tc.quantity, IdempotencyKey: "K"}
			_, err := buy.Execute(t.Context(), cmd)
			require.ErrorIs(t, err, context.Canceled)
			require.ErrorIs(t, err, tc.errIs)
			stored := w.listed(t)
			require.Len(t, stored, 1, "the order was stored nonetheless")

			orders.lose.Store(false)
			_, err = buy.Execute(t.Context(), cmd)
			require.ErrorIs(t, err, ports.ErrKeyInFlight, "the key was not released")

			w.clock.Advance(time.Minute)
			w.settleRound(t)
			res, err := buy.Execute(t.Context(), cmd)
			require.NoError(t, err)
			assert.Equal(t, stored[0], res.Order, "the retry gets the first order")
			assert.Equal(t, tc.status, res.Order.Status())
			assert.Equal(t, tc.credit, res.Credit)
			assert.Equal(t, tc.credit, w.credit(t))
			assert.Len(t, w.listed(t), 1, "no second order")
		})
	}
}

// TestDeniedOrderNotSavedKeepsItsKeyUntilTheSettlerKnows: an order store
// outage may have committed the denied order or not; the key is held until
// the settler finds no order under it, then freed for the retry.
func TestDeniedOrderNotSavedKeepsItsKeyUntilTheSettlerKnows(t *testing.T) {
	w := newWorld(t)
	w.orders.down.Store(true)
	cmd := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 100, IdempotencyKey: "K"}
	_, err := w.buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrOutcomeUnknown)
	require.ErrorIs(t, err, ports.ErrUnavailable)
	w.orders.down.Store(false)
	_, err = w.buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrKeyInFlight)

	w.clock.Advance(time.Minute)
	freed, err := w.settle.FreeStuckKeys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, freed, "no order under it: nothing was recorded")
	res, err := w.buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.Equal(t, domain.Denied, res.Order.Status())
	again, err := w.buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.Equal(t, res, again)
	assert.Len(t, w.listed(t), 1)
}

// TestSlowRequestNeverOverwritesTheRetrysKey: a request takes longer than
// the grace period between its denied debit (which writes nothing) and its
// save, so the settler frees its key and a retry reserves and finishes it.
// When the slow request finally completes, the key keeps the retry's
// outcome.
func TestSlowRequestNeverOverwritesTheRetrysKey(t *testing.T) {
	w := newWorld(t)
	orders := &lateOrders{flakyOrders: w.orders}
	slow := w.newBuyOn(t, orders)
	cmd := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 100, IdempotencyKey: "K"}
	var retry ports.Outcome
	orders.before = func() {
		w.clock.Advance(time.Minute)
		freed, err := w.settle.FreeStuckKeys(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, freed, "no debit, no order yet: the settler gives up on it")
		retry, err = w.buy.Execute(t.Context(), cmd)
		require.NoError(t, err)
	}
	first, err := slow.Execute(t.Context(), cmd)
	require.NoError(t, err)
	require.NotEqual(t, first.Order.Key(), retry.Order.Key())

	replay, err := w.buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.Equal(t, retry, replay, "the key answers with the retry's order, not the slow request's")
}
