package app_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

// TestGetPositionsPricesWhatIsHeld: the credit and each position with its
// stock's latest price; a user without positions has an empty list; a
// name that cannot be a user's is not found.
func TestGetPositionsPricesWhatIsHeld(t *testing.T) {
	w, sell := sellWorld(t) // 4 of stock1 at 100
	stocks, err := domain.NewStocks([]string{"stock1", "stock2"})
	require.NoError(t, err)
	get, err := app.NewGetPositions(stocks, w.credits, w.prices)
	require.NoError(t, err)

	w.setPrice(t, 120)
	_, err = sell.Execute(t.Context(), app.SellStockCommand{User: "user1", Stock: "stock1", Quantity: 1})
	require.NoError(t, err)
	got, err := get.Execute(t.Context(), "user1")
	require.NoError(t, err)
	assert.Equal(t, "user1", got.User)
	assert.Equal(t, int64(600+120), got.Credit)
	require.Len(t, got.Positions, 1)
	p := got.Positions[0]
	assert.Equal(t, "stock1", p.Stock)
	assert.Equal(t, int64(3), p.Position.Quantity())
	assert.Equal(t, int64(300), p.Position.CostBasis(), "400 less floor(400 x 1 / 4)")
	assert.Equal(t, int64(120), p.Price)

	require.NoError(t, w.credits.SetCredit(t.Context(), "user2", 5))
	none, err := get.Execute(t.Context(), "user2")
	require.NoError(t, err)
	assert.Empty(t, none.Positions)
	assert.Equal(t, int64(5), none.Credit)

	for _, name := range []string{"nobody", "stock1", "a b"} {
		_, err := get.Execute(t.Context(), name)
		assert.ErrorIs(t, err, ports.ErrUserNotFound, name)
	}
}

func TestNewGetPositionsRefusesNil(t *testing.T) {
	w := newWorld(t)
	_, err := app.NewGetPositions(domain.Stocks{}, nil, w.prices)
	assert.Error(t, err)
	_, err = app.NewGetPositions(domain.Stocks{}, w.credits, nil)
	assert.Error(t, err)
}
