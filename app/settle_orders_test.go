package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"stockd/app"
	"stockd/domain"
	"stockd/ports"
	"stockd/ports/portsmock"
)

// TestNamesThatAreNotUsersChangeNothing: a stock's name, a service key and
// a malformed name are not users; nothing is written for them.
func TestNamesThatAreNotUsersChangeNothing(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, w.credits.SetCredit(t.Context(), "stock1", 1000)) // even if someone made it one
	for _, tc := range []struct {
		user string
		want error
	}{
		{"stock1", ports.ErrUserNotFound},
		{"STOCK2", ports.ErrUserNotFound},
		{"stockd:idempotency:phantom1", domain.ErrBadUser},
		{"stockd:idem:{user1}:k", domain.ErrBadUser},
		{"-user1", domain.ErrBadUser},
	} {
		_, err := w.buy.Execute(t.Context(), app.BuyStockCommand{User: tc.user, Stock: "stock1", Quantity: 1, IdempotencyKey: "k"})
		require.ErrorIs(t, err, tc.want, tc.user)
	}
	c, err := w.credits.Credit(t.Context(), "stock1")
	require.NoError(t, err)
	assert.Equal(t, int64(1000), c)
	assert.Empty(t, w.listed(t))
	stuck, err := w.keys.InFlight(t.Context(), w.clock.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Empty(t, stuck, "no key was reserved")
}

// TestIdempotencyKeysAreScopedByUser: user2's key neither blocks nor
// answers user1's request with the same key.
func TestIdempotencyKeysAreScopedByUser(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, w.credits.SetCredit(t.Context(), "user2", 1000))
	theirs, err := w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user2", Stock: "stock1", Quantity: 5, IdempotencyKey: "order-2026-0001"})
	require.NoError(t, err)
	mine, err := w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 3, IdempotencyKey: "order-2026-0001"})
	require.NoError(t, err)
	assert.Equal(t, "user1", mine.Order.User())
	assert.NotEqual(t, theirs.Order.ID(), mine.Order.ID())
	assert.Equal(t, int64(700), w.credit(t))
}

// TestSettlerFreesAKeyThatPaidNothing: the debit was never applied but its
// reply was lost, so the key stays reserved; past the grace period the
// settler proves nothing was paid and frees it, and the retry runs once.
func TestSettlerFreesAKeyThatPaidNothing(t *testing.T) {
	w := newWorld(t)
	ctrl := gomock.NewController(t)
	lost := portsmock.NewMockDebiter(ctrl)
	lost.EXPECT().Debit(gomock.Any(), gomock.Any()).Return(ports.Outcome{}, fmt.Errorf("%w: connection reset", ports.ErrOutcomeUnknown))
	stocks, err := domain.NewStocks([]string{"stock1"})
	require.NoError(t, err)
	buy, err := app.NewBuyStock(stocks, w.prices, lost, w.credits, w.orders, w.keys, w.clock)
	require.NoError(t, err)
	cmd := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 2, IdempotencyKey: "k"}
	_, err = buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrOutcomeUnknown)
	_, err = w.buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrKeyInFlight)

	freed, err := w.settle.FreeStuckKeys(t.Context())
	require.NoError(t, err)
	assert.Zero(t, freed, "within the grace period the request may still be running")

	w.clock.Advance(time.Minute)
	freed, err = w.settle.FreeStuckKeys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, freed)
	res, err := w.buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.Equal(t, domain.Accepted, res.Order.Status())
	assert.Equal(t, int64(800), w.credit(t), "debited once")
	again, err := w.buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.Equal(t, replayOf(res), again)
}

// flakyKeys fails Complete while down is set.
type flakyKeys struct {
	ports.IdempotencyStore
	down atomic.Bool
}

func (f *flakyKeys) Complete(ctx context.Context, user, key, fingerprint string, out ports.Outcome, ttl time.Duration) error {
	if f.down.Load() {
		return ports.ErrUnavailable
	}
	return f.IdempotencyStore.Complete(ctx, user, key, fingerprint, out, ttl)
}

// TestSettlerNeverFreesAKeyThatPaid: a debited key (pending order) and a
// recorded one are never freed; the pending one is completed by Execute,
// the recorded one by FreeStuckKeys.
func TestSettlerNeverFreesAKeyThatPaid(t *testing.T) {
	w := newWorld(t)
	keys := &flakyKeys{IdempotencyStore: w.keys}
	keys.down.Store(true)
	stocks, err := domain.NewStocks([]string{"stock1"})
	require.NoError(t, err)
	buy, err := app.NewBuyStock(stocks, w.prices, w.credits, w.credits, w.orders, keys, w.clock)
	require.NoError(t, err)
	settle, err := app.NewSettlePendingOrders(w.credits, w.orders, keys, w.clock, 30*time.Second, nil)
	require.NoError(t, err)

	// Recorded, but neither completed nor settled: pending stays.
	paid := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 1, IdempotencyKey: "paid"}
	res, err := buy.Execute(t.Context(), paid)
	require.NoError(t, err, "the client gets its result")
	// Denied and recorded, not completed: an order exists, nothing pending.
	denied := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 100, IdempotencyKey: "denied"}
	_, err = buy.Execute(t.Context(), denied)
	require.NoError(t, err)

	w.clock.Advance(time.Minute)
	freed, err := settle.FreeStuckKeys(t.Context())
	require.ErrorIs(t, err, ports.ErrUnavailable, "the recorded one cannot be completed yet")
	assert.Zero(t, freed)
	for _, cmd := range []app.BuyStockCommand{paid, denied} {
		_, err = buy.Execute(t.Context(), cmd)
		require.ErrorIs(t, err, ports.ErrKeyInFlight, cmd.IdempotencyKey)
	}

	keys.down.Store(false)
	freed, err = settle.FreeStuckKeys(t.Context())
	require.NoError(t, err)
	assert.Zero(t, freed)
	_, err = buy.Execute(t.Context(), paid)
	require.ErrorIs(t, err, ports.ErrKeyInFlight, "left to Execute")
	replayDenied, err := buy.Execute(t.Context(), denied)
	require.NoError(t, err, "completed from its recorded order")
	assert.Equal(t, domain.Denied, replayDenied.Order.Status())
	assert.Equal(t, int64(900), replayDenied.Credit, "the user's credit now")

	n, err := settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	replay, err := buy.Execute(t.Context(), paid)
	require.NoError(t, err)
	assert.Equal(t, replayOf(res), replay)
	assert.Equal(t, int64(900), w.credit(t))
	assert.Len(t, w.listed(t), 2, "each request recorded once")
}

// TestSettlerRunsUntilCancelled: Run settles at start and on every tick,
// and returns nil when its context ends.
func TestSettlerRunsUntilCancelled(t *testing.T) {
	w := newWorld(t)
	w.orders.down.Store(true)
	_, err := w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 2})
	require.ErrorIs(t, err, app.ErrOrderPending)
	w.orders.down.Store(false)
	w.clock.Advance(time.Minute)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.settle.Run(ctx, time.Millisecond) }()
	require.Eventually(t, func() bool {
		pending, err := w.credits.PendingOrders(t.Context())
		return err == nil && len(pending) == 0
	}, 5*time.Second, time.Millisecond)
	assert.Len(t, w.listed(t), 1)
	cancel()
	require.NoError(t, <-done)
}

// TestSettlerKeepsGoingThroughErrors: one order that cannot be recorded
// does not stop the others, and the error names it.
func TestSettlerKeepsGoingThroughErrors(t *testing.T) {
	w := newWorld(t)
	ctrl := gomock.NewController(t)
	orders := portsmock.NewMockOrderRepository(ctrl)
	w.orders.down.Store(true)
	for range 2 {
		_, err := w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 1})
		require.ErrorIs(t, err, app.ErrOrderPending)
		w.clock.Advance(time.Second)
	}
	w.clock.Advance(time.Minute)
	boom := errors.New("boom")
	gomock.InOrder(
		orders.EXPECT().Save(gomock.Any(), gomock.Any()).Return(domain.Order{}, boom),
		orders.EXPECT().Save(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, o domain.Order) (domain.Order, error) { return o.WithID(7), nil }),
	)
	settle, err := app.NewSettlePendingOrders(w.credits, orders, w.keys, w.clock, 30*time.Second, nil)
	require.NoError(t, err)
	n, err := settle.Execute(t.Context())
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 1, n)
	pending, err := w.credits.PendingOrders(t.Context())
	require.NoError(t, err)
	assert.Len(t, pending, 1, "the failed one stays for the next round")
}
