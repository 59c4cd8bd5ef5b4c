package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
)

func TestWatchPrices(t *testing.T) {
	stocks, err := domain.NewStocks([]string{"stock1", "stock2"})
	require.NoError(t, err)
	prices := memory.NewPriceStore()
	_, err = app.NewWatchPrices(stocks, prices, nil)
	require.Error(t, err)
	watch, err := app.NewWatchPrices(stocks, prices, prices.Feed())
	require.NoError(t, err)

	_, err = watch.Execute(t.Context(), "stock9")
	require.ErrorIs(t, err, domain.ErrUnknownStock)
	assert.Equal(t, 0, prices.Feed().Watchers(), "an unknown stock is not watched")

	ctx, cancel := context.WithCancel(t.Context())
	w, err := watch.Execute(ctx, "STOCK1")
	require.NoError(t, err)
	assert.Equal(t, "stock1", w.Stock)
	assert.Equal(t, 0, w.Series.Len())
	b := domain.NewTickBatch()
	b.Add(domain.Tick{Stock: "stock1", At: 9 * 3600, Price: 5})
	require.NoError(t, prices.Merge(t.Context(), b.Histories()))
	assert.Equal(t, []domain.MinuteCandle{{Minute: 9 * 3600, Open: 5, High: 5, Low: 5, Close: 5}}, <-w.Changes)
	cancel()
	for range w.Changes { // closed when ctx ends
	}
}

func TestListStocks(t *testing.T) {
	stocks, err := domain.NewStocks([]string{"stock2", "stock1"})
	require.NoError(t, err)
	prices := memory.NewPriceStore()
	_, err = app.NewListStocks(stocks, nil)
	require.Error(t, err)
	list, err := app.NewListStocks(stocks, prices)
	require.NoError(t, err)
	b := domain.NewTickBatch()
	b.Add(domain.Tick{Stock: "stock1", At: 9*3600 + 61, Price: 5})
	require.NoError(t, prices.Merge(t.Context(), b.Histories()))
	quotes, err := list.Execute(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []app.StockQuote{{Stock: "stock2"}, {Stock: "stock1", Minute: 9*3600 + 60, Price: 5, HasPrice: true}}, quotes)
}
