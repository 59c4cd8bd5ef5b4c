package app_test

import (
	"context"
	"fmt"
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

// flakyOrders fails Save while down is set: the order store outage.
type flakyOrders struct {
	*memory.OrderRepository
	down atomic.Bool
}

func (f *flakyOrders) Save(ctx context.Context, o domain.Order) (domain.Order, error) {
	if f.down.Load() {
		return domain.Order{}, ports.ErrUnavailable
	}
	return f.OrderRepository.Save(ctx, o)
}

// day1 is the trading day of the world's price: 2026-11-26, the day its
// clock starts on.
const day1 domain.Day = 20261126

type world struct {
	clock   *memory.ManualClock
	prices  *memory.PriceStore
	credits *memory.CreditStore
	orders  *flakyOrders
	keys    *memory.IdempotencyStore
	buy     *app.BuyStock
	settle  *app.SettlePendingOrders
	list    *app.ListOrders
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		clock:   memory.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)),
		prices:  memory.NewPriceStore(),
		credits: memory.NewCreditStore(),
		orders:  &flakyOrders{OrderRepository: memory.NewOrderRepository()},
	}
	w.keys = memory.NewIdempotencyStore(w.clock)
	stocks, err := domain.NewStocks([]string{"stock1", "stock2"})
	require.NoError(t, err)
	w.buy, err = app.NewBuyStock(stocks, w.prices, w.credits, w.credits, w.orders, w.keys, w.clock)
	require.NoError(t, err)
	w.settle, err = app.NewSettlePendingOrders(w.credits, w.orders, w.keys, w.clock, 30*time.Second, nil)
	require.NoError(t, err)
	w.list, err = app.NewListOrders(w.orders, w.clock, time.UTC)
	require.NoError(t, err)
	b := domain.NewTickBatch()
	b.Add(domaintest.Tick("stock1", day1, 9*3600, 100))
	require.NoError(t, w.prices.Merge(t.Context(), b.Histories()))
	require.NoError(t, w.credits.SetCredit(t.Context(), "user1", 1000))
	return w
}

func (w *world) credit(t *testing.T) int64 {
	t.Helper()
	c, err := w.credits.Credit(t.Context(), "user1")
	require.NoError(t, err)
	return c
}

func (w *world) listed(t *testing.T) []domain.Order {
	t.Helper()
	page, err := w.list.Execute(t.Context(), app.ListOrdersQuery{Limit: 1000})
	require.NoError(t, err)
	return page.Orders
}

func TestBuyStockDebitsAndRecords(t *testing.T) {
	w := newWorld(t)
	res, err := w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 4})
	require.NoError(t, err)
	assert.Equal(t, domain.Accepted, res.Order.Status())
	assert.Equal(t, int64(600), res.Credit)
	assert.Equal(t, int64(600), w.credit(t))

	res, err = w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 7})
	require.NoError(t, err)
	assert.Equal(t, domain.Denied, res.Order.Status(), "700 > 600")
	assert.Equal(t, int64(600), w.credit(t))
	assert.Len(t, w.listed(t), 1, "the denied order of 7 is saved but not listed")

	pending, err := w.credits.PendingOrders(t.Context())
	require.NoError(t, err)
	assert.Empty(t, pending, "a recorded order leaves no pending record")
}

func TestBuyStockRejectsWithoutChange(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		cmd  app.BuyStockCommand
		want error
	}{
		{app.BuyStockCommand{User: "user1", Stock: "stock9", Quantity: 1}, domain.ErrUnknownStock},
		{app.BuyStockCommand{User: "user1", Stock: "stock2", Quantity: 1}, app.ErrNoPrice},
		{app.BuyStockCommand{User: "nobody", Stock: "stock1", Quantity: 1}, ports.ErrUserNotFound},
		{app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 0}, domain.ErrBadQuantity},
		{app.BuyStockCommand{User: "", Stock: "stock1", Quantity: 1}, domain.ErrBadUser},
	} {
		_, err := w.buy.Execute(t.Context(), tc.cmd)
		require.ErrorIs(t, err, tc.want)
	}
	assert.Equal(t, int64(1000), w.credit(t))
	assert.Empty(t, w.listed(t))
}

func TestIdempotentRetryReturnsTheFirstOutcome(t *testing.T) {
	w := newWorld(t)
	cmd := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 3, IdempotencyKey: "abc"}
	first, err := w.buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	again, err := w.buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.False(t, first.Replayed)
	assert.Equal(t, replayOf(first), again, "the replay is the first outcome, marked as a replay")
	assert.Equal(t, int64(700), w.credit(t), "debited once")
	assert.Len(t, w.listed(t), 1)

	cmd.Quantity = 4
	_, err = w.buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrKeyReused)
	assert.Equal(t, int64(700), w.credit(t))
}

// TestOrderStoreOutageNeverLosesMoney injects the failure between the debit
// and the insert: the order stays pending, retries with the key are held
// off, and the settler records it once the store is back.
func TestOrderStoreOutageNeverLosesMoney(t *testing.T) {
	w := newWorld(t)
	w.orders.down.Store(true)
	cmd := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 2, IdempotencyKey: "k1"}
	_, err := w.buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, app.ErrOrderPending)
	assert.Equal(t, int64(800), w.credit(t), "the debit stands")

	_, err = w.buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrKeyInFlight, "a retry must not debit again")
	assert.Equal(t, int64(800), w.credit(t))

	// A denied order during the outage changes nothing.
	_, err = w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 100})
	require.ErrorIs(t, err, ports.ErrUnavailable)

	n, err := w.settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n, "within the grace period the request may still be recording it")

	w.clock.Advance(time.Minute)
	n, err = w.settle.Execute(t.Context())
	require.Error(t, err, "the store is still down")
	assert.Zero(t, n)

	w.orders.down.Store(false)
	n, err = w.settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	orders := w.listed(t)
	require.Len(t, orders, 1)
	assert.Equal(t, int64(2), orders[0].Quantity())
	assert.Equal(t, int64(800), w.credit(t))

	replay, err := w.buy.Execute(t.Context(), cmd)
	require.NoError(t, err, "the settled order answers the retry")
	assert.Equal(t, orders[0], replay.Order)
	assert.Equal(t, int64(800), replay.Credit)

	n, err = w.settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n, "settled once")
	assert.Len(t, w.listed(t), 1)
}

// lossyCredits applies a credit update and then reports that the reply was
// lost, as a connection that breaks after the write was sent would.
type lossyCredits struct {
	*memory.CreditStore
	lose atomic.Bool
}

func (l *lossyCredits) Debit(ctx context.Context, req ports.DebitRequest) (ports.Outcome, error) {
	res, err := l.CreditStore.Debit(ctx, req)
	if err == nil && l.lose.Load() {
		return ports.Outcome{}, fmt.Errorf("%w: connection reset", ports.ErrOutcomeUnknown)
	}
	return res, err
}

// TestLostReplyNeverDebitsTwice: the debit happened but its reply was lost;
// a retry with the same key is held off, and the settler completes the key
// with the one order.
func TestLostReplyNeverDebitsTwice(t *testing.T) {
	w := newWorld(t)
	credits := &lossyCredits{CreditStore: w.credits}
	credits.lose.Store(true)
	stocks, err := domain.NewStocks([]string{"stock1"})
	require.NoError(t, err)
	buy, err := app.NewBuyStock(stocks, w.prices, credits, credits, w.orders, w.keys, w.clock)
	require.NoError(t, err)
	cmd := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 1, IdempotencyKey: "k"}
	_, err = buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrOutcomeUnknown)
	credits.lose.Store(false)
	_, err = buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrKeyInFlight, "the key stays reserved")
	assert.Equal(t, int64(900), w.credit(t), "debited once")

	w.clock.Advance(time.Minute)
	n, err := w.settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	res, err := buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.Equal(t, domain.Accepted, res.Order.Status())
	assert.Equal(t, int64(900), res.Credit)
	assert.Len(t, w.listed(t), 1)
}

func TestListOrdersPagesKeepTheirDay(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, w.credits.SetCredit(t.Context(), "user1", 0))
	// Three denied orders of 10 today: visible today, gone tomorrow.
	for range 3 {
		_, err := w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 10})
		require.NoError(t, err)
		w.clock.Advance(time.Second)
	}
	page, err := w.list.Execute(t.Context(), app.ListOrdersQuery{Limit: 2})
	require.NoError(t, err)
	require.Len(t, page.Orders, 2)
	require.NotNil(t, page.Next)

	w.clock.Advance(24 * time.Hour)
	rest, err := w.list.Execute(t.Context(), app.ListOrdersQuery{Limit: 2, Cursor: page.Next})
	require.NoError(t, err)
	assert.Len(t, rest.Orders, 1, "the cursor judges 'today' as the first page did")
	assert.Nil(t, rest.Next)

	fresh, err := w.list.Execute(t.Context(), app.ListOrdersQuery{Limit: 2})
	require.NoError(t, err)
	assert.Empty(t, fresh.Orders, "a new listing a day later no longer shows them")

	_, err = w.list.Execute(t.Context(), app.ListOrdersQuery{Limit: 0})
	require.ErrorIs(t, err, domain.ErrBadPageSize)
}

func TestConstructorsRefuseNil(t *testing.T) {
	_, err := app.NewBuyStock(domain.Stocks{}, nil, nil, nil, nil, nil, nil)
	require.Error(t, err)
	var nilStore *memory.PriceStore
	_, err = app.NewGetPrices(domain.Stocks{}, nilStore)
	require.Error(t, err, "a typed nil is nil too")
	_, err = app.NewIngestTicks(nil, memory.NewPriceStore(), nil)
	require.ErrorContains(t, err, "price source", "the error names the missing dependency")
}

// replayOf is r as a retry with its idempotency key gets it back.
func replayOf(r app.BuyStockResult) app.BuyStockResult {
	r.Replayed = true
	return r
}

// TestBuyStockRefusesStalePrice: with MAX_PRICE_AGE set, a buy on a price
// older than that is refused before anything is written: no debit, no
// order, no pending record, and its idempotency key free for a retry.
func TestBuyStockRefusesStalePrice(t *testing.T) {
	w := newWorld(t) // stock1 closed at 100 on day 1 at 09:00:00; the clock stands there
	buy := w.buy.WithMaxPriceAge(15*time.Minute, time.UTC)

	w.clock.Advance(15 * time.Minute)
	res, err := buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 1})
	require.NoError(t, err, "exactly the limit is fresh")
	assert.Equal(t, int64(900), res.Credit)

	w.clock.Advance(time.Second)
	cmd := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 2, IdempotencyKey: "stale"}
	_, err = buy.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, domain.ErrStalePrice)
	_, err = buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 2})
	require.ErrorIs(t, err, domain.ErrStalePrice)
	assert.Equal(t, int64(900), w.credit(t), "nothing debited")
	assert.Len(t, w.listed(t), 1, "no order recorded")
	pending, err := w.credits.PendingOrders(t.Context())
	require.NoError(t, err)
	assert.Empty(t, pending)

	_, err = w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 1})
	require.NoError(t, err, "without a limit the same price is taken")

	// A fresh tick makes the price fresh again; the key was left free.
	merge(t, w.prices, domaintest.Tick("stock1", day1, 9*3600+16*60, 50))
	res, err = buy.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.Equal(t, int64(50), res.Order.Price())
	assert.Equal(t, int64(700), res.Credit)

	// Yesterday's close, the next morning, is stale whatever its time.
	w.clock.Advance(24 * time.Hour)
	_, err = buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 1})
	require.ErrorIs(t, err, domain.ErrStalePrice)
}

// TestStalePriceJudgedInZone: a tick's day and time are read in
// APP_TIMEZONE: 09:00 in Tokyo was midnight UTC, nine hours before the
// clock's 09:00 UTC.
func TestStalePriceJudgedInZone(t *testing.T) {
	w := newWorld(t)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	cmd := app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 1}
	_, err = w.buy.WithMaxPriceAge(time.Hour, tokyo).Execute(t.Context(), cmd)
	require.ErrorIs(t, err, domain.ErrStalePrice)
	_, err = w.buy.WithMaxPriceAge(10*time.Hour, tokyo).Execute(t.Context(), cmd)
	require.NoError(t, err)
	_, err = w.buy.WithMaxPriceAge(time.Hour, time.UTC).Execute(t.Context(), cmd)
	require.NoError(t, err)
}
