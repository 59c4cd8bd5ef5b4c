package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"stockd/app"
	"stockd/domain"
	"stockd/internal/domaintest"
	"stockd/ports"
	"stockd/ports/portsmock"
)

// sellWorld is the world with the sale use case on its buys, and 4 shares
// of stock1 bought at 100 (credit 600).
func sellWorld(t *testing.T) (*world, *app.SellStock) {
	t.Helper()
	w := newWorld(t)
	sell, err := app.NewSellStock(w.buy, w.credits)
	require.NoError(t, err)
	_, err = w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 4})
	require.NoError(t, err)
	require.Equal(t, int64(600), w.credit(t))
	return w, sell
}

// setPrice makes price the latest of stock1, a minute after the world's
// first tick.
func (w *world) setPrice(t *testing.T, price int64) {
	t.Helper()
	merge(t, w.prices, domaintest.Tick("stock1", day1, 9*3600+60, price))
}

// held returns user1's position in stock1.
func (w *world) held(t *testing.T) domain.Position {
	t.Helper()
	p, err := w.credits.Positions(t.Context(), "user1")
	require.NoError(t, err)
	for _, h := range p.Holdings {
		if h.Stock == "stock1" {
			return h.Position
		}
	}
	return domain.Position{}
}

func TestSellStockCreditsAndRecords(t *testing.T) {
	w, sell := sellWorld(t)
	w.setPrice(t, 120)
	res, err := sell.Execute(t.Context(), app.SellStockCommand{User: "user1", Stock: "Stock1", Quantity: 3})
	require.NoError(t, err)
	assert.Equal(t, domain.Accepted, res.Order.Status())
	assert.Equal(t, domain.SideSell, res.Order.Side())
	assert.Equal(t, int64(120), res.Order.Price(), "at the latest price")
	assert.Equal(t, "stock1", res.Order.Stock(), "the stock's own name")
	assert.Equal(t, int64(960), res.Credit)
	assert.Equal(t, int64(960), w.credit(t))
	assert.Equal(t, int64(1), w.held(t).Quantity())
	assert.Equal(t, int64(100), w.held(t).CostBasis(), "floor(400 × 3 / 4) taken")
	stored, err := w.orders.ByKey(t.Context(), res.Order.Key())
	require.NoError(t, err)
	assert.Equal(t, res.Order, stored, "recorded, as a sale")

	res, err = sell.Execute(t.Context(), app.SellStockCommand{User: "user1", Stock: "stock1", Quantity: 2})
	require.NoError(t, err)
	assert.Equal(t, domain.Denied, res.Order.Status(), "1 share held")
	assert.Equal(t, int64(960), res.Credit)
	assert.Equal(t, int64(1), w.held(t).Quantity())
	_, err = w.orders.ByKey(t.Context(), res.Order.Key())
	require.NoError(t, err, "a denied sale is recorded too")
	pending, err := w.credits.PendingOrders(t.Context())
	require.NoError(t, err)
	assert.Empty(t, pending, "a recorded sale leaves no pending record")
}

func TestSellStockRejectsWithoutChange(t *testing.T) {
	w, sell := sellWorld(t)
	require.NoError(t, w.credits.SetCredit(t.Context(), "stock2", 100)) // a user record under a stock's name
	for _, tc := range []struct {
		cmd  app.SellStockCommand
		want error
	}{
		{app.SellStockCommand{User: "user1", Stock: "stock9", Quantity: 1}, domain.ErrUnknownStock},
		{app.SellStockCommand{User: "user1", Stock: "stock2", Quantity: 1}, app.ErrNoPrice},
		{app.SellStockCommand{User: "nobody", Stock: "stock1", Quantity: 1}, ports.ErrUserNotFound},
		{app.SellStockCommand{User: "stock2", Stock: "stock1", Quantity: 1}, ports.ErrUserNotFound},
		{app.SellStockCommand{User: "user1", Stock: "stock1", Quantity: 0}, domain.ErrBadQuantity},
		{app.SellStockCommand{User: "user1", Stock: "stock1", Quantity: -1}, domain.ErrBadQuantity},
		{app.SellStockCommand{User: "", Stock: "stock1", Quantity: 1}, domain.ErrBadUser},
	} {
		_, err := sell.Execute(t.Context(), tc.cmd)
		require.ErrorIs(t, err, tc.want, "%+v", tc.cmd)
	}
	assert.Equal(t, int64(600), w.credit(t))
	assert.Equal(t, int64(4), w.held(t).Quantity())
	assert.Len(t, w.listed(t), 1, "the buy alone")
}

// TestSellStockIsIdempotent: a retry with the key replays the first sale
// and sells nothing more; the same key with another quantity, or for a buy
// of the same shares, is another request.
func TestSellStockIsIdempotent(t *testing.T) {
	w, sell := sellWorld(t)
	cmd := app.SellStockCommand{User: "user1", Stock: "stock1", Quantity: 2, IdempotencyKey: "sale-1"}
	first, err := sell.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.False(t, first.Replayed)
	again, err := sell.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.Equal(t, app.SellStockResult{Outcome: first.Outcome, Replayed: true}, again)
	assert.Equal(t, int64(800), w.credit(t), "credited once")
	assert.Equal(t, int64(2), w.held(t).Quantity(), "sold once")

	_, err = sell.Execute(t.Context(), app.SellStockCommand{User: "user1", Stock: "stock1", Quantity: 1, IdempotencyKey: "sale-1"})
	require.ErrorIs(t, err, ports.ErrKeyReused)
	_, err = w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 2, IdempotencyKey: "sale-1"})
	require.ErrorIs(t, err, ports.ErrKeyReused, "a buy of the same shares is not the sale's retry")
	bought, err := w.buy.Execute(t.Context(), app.BuyStockCommand{User: "user1", Stock: "stock1", Quantity: 1, IdempotencyKey: "buy-1"})
	require.NoError(t, err)
	_, err = sell.Execute(t.Context(), app.SellStockCommand{User: "user1", Stock: "stock1", Quantity: 1, IdempotencyKey: "buy-1"})
	require.ErrorIs(t, err, ports.ErrKeyReused, "nor is a sale the buy's")
	assert.Equal(t, domain.SideBuy, bought.Order.Side())
}

// TestSellStockRefusesStalePrice: the sale keeps the MAX_PRICE_AGE of the
// buys it is made on, and refuses before anything is written.
func TestSellStockRefusesStalePrice(t *testing.T) {
	w, _ := sellWorld(t)
	sell, err := app.NewSellStock(w.buy.WithMaxPriceAge(15*time.Minute, time.UTC), w.credits)
	require.NoError(t, err)
	cmd := app.SellStockCommand{User: "user1", Stock: "stock1", Quantity: 1, IdempotencyKey: "k"}
	w.clock.Advance(15*time.Minute + time.Second)
	_, err = sell.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, domain.ErrStalePrice)
	assert.Equal(t, int64(600), w.credit(t))
	assert.Equal(t, int64(4), w.held(t).Quantity())
	assert.Len(t, w.listed(t), 1)

	w.setPrice(t, 110) // 09:01, 14 minutes old now
	res, err := sell.Execute(t.Context(), cmd)
	require.NoError(t, err, "the key was freed")
	assert.Equal(t, int64(710), res.Credit)
}

// TestOrderStoreOutageNeverLosesASale: with the order store down, an
// accepted sale is credited and kept pending; the settler records it, as a
// sale, once the store is back, and completes its key.
func TestOrderStoreOutageNeverLosesASale(t *testing.T) {
	w, sell := sellWorld(t)
	w.orders.down.Store(true)
	cmd := app.SellStockCommand{User: "user1", Stock: "stock1", Quantity: 4, IdempotencyKey: "k"}
	_, err := sell.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, app.ErrOrderPending)
	assert.Equal(t, int64(1000), w.credit(t), "credited with its pending order")
	assert.True(t, w.held(t).Empty())
	_, err = sell.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrKeyInFlight)

	w.orders.down.Store(false)
	w.clock.Advance(time.Minute)
	n, err := w.settle.Execute(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	listed := w.listed(t)
	require.Len(t, listed, 2)
	assert.Equal(t, domain.SideSell, listed[0].Side(), "recorded as the sale it was")
	again, err := sell.Execute(t.Context(), cmd)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, listed[0], again.Order)
	assert.Equal(t, int64(1000), again.Credit)
}

// TestSaleWithAnUnknownOutcomeKeepsItsKey: a sale whose reply was lost
// (it may have been credited) keeps its key reserved, so that a retry
// cannot sell twice; one that failed before writing frees it.
func TestSaleWithAnUnknownOutcomeKeepsItsKey(t *testing.T) {
	w, _ := sellWorld(t)
	ctrl := gomock.NewController(t)
	lost := portsmock.NewMockSaleCrediter(ctrl)
	lost.EXPECT().CreditSale(gomock.Any(), gomock.Any()).Return(ports.Outcome{}, fmt.Errorf("%w: connection reset", ports.ErrOutcomeUnknown))
	lost.EXPECT().CreditSale(gomock.Any(), gomock.Any()).Return(ports.Outcome{}, ports.ErrUnavailable)
	sell, err := app.NewSellStock(w.buy, lost)
	require.NoError(t, err)
	working, err := app.NewSellStock(w.buy, w.credits)
	require.NoError(t, err)

	cmd := app.SellStockCommand{User: "user1", Stock: "stock1", Quantity: 1, IdempotencyKey: "lost"}
	_, err = sell.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrOutcomeUnknown)
	_, err = working.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrKeyInFlight, "kept for the settler")

	cmd.IdempotencyKey = "refused"
	_, err = sell.Execute(t.Context(), cmd)
	require.ErrorIs(t, err, ports.ErrUnavailable)
	res, err := working.Execute(t.Context(), cmd)
	require.NoError(t, err, "freed: nothing was written")
	assert.Equal(t, domain.Accepted, res.Order.Status())
	assert.Equal(t, int64(700), w.credit(t), "sold once")
}

func TestNewSellStockRefusesNil(t *testing.T) {
	w := newWorld(t)
	_, err := app.NewSellStock(nil, w.credits)
	require.ErrorContains(t, err, "buy use case")
	_, err = app.NewSellStock(w.buy, nil)
	require.ErrorContains(t, err, "sale crediter")
}
