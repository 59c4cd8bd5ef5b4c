package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
	"stockd/internal/domaintest"
	"stockd/ports"
)

func merge(t *testing.T, prices ports.PriceStore, ticks ...domain.Tick) {
	t.Helper()
	b := domain.NewTickBatch()
	for _, tk := range ticks {
		b.Add(tk)
	}
	require.NoError(t, prices.Merge(t.Context(), b.Histories()))
}

func TestWatchPrices(t *testing.T) {
	stocks, err := domain.NewStocks([]string{"stock1", "stock2"})
	require.NoError(t, err)
	prices := memory.NewPriceStore()
	_, err = app.NewWatchPrices(stocks, prices, nil)
	require.Error(t, err)
	watch, err := app.NewWatchPrices(stocks, prices, prices.Feed())
	require.NoError(t, err)

	_, err = watch.Execute(t.Context(), []string{"stock1", "stock9"})
	require.ErrorIs(t, err, domain.ErrUnknownStock)
	_, err = watch.Execute(t.Context(), nil)
	require.ErrorIs(t, err, app.ErrNoStocks)
	assert.Equal(t, 0, prices.Feed().Watchers(), "an unknown stock is not watched")

	merge(t, prices, domaintest.Tick("stock1", day1, 9*3600+59*60, 7))
	ctx, cancel := context.WithCancel(t.Context())
	w, err := watch.Execute(ctx, []string{"STOCK1", "stock2", "stock1"})
	require.NoError(t, err)
	assert.Equal(t, []string{"stock1", "stock2"}, w.Stocks)
	assert.Equal(t, day1, w.Series[0].Day(), "the series says its day")
	assert.Equal(t, 1, w.Series[0].Len())
	assert.Equal(t, 0, w.Series[1].Len())
	assert.Equal(t, 1, prices.Feed().Watchers(), "one watch of both stocks")

	merge(t, prices, domaintest.Tick("stock2", day1, 9*3600, 3))
	assert.Equal(t, domain.StockChange{Stock: "stock2", DayChange: domain.DayChange{Day: day1, Minutes: []domain.MinuteCandle{{Minute: 9 * 3600, Open: 3, High: 3, Low: 3, Close: 3}}}}, <-w.Changes)

	// The next day's first tick, earlier in its day than yesterday's last:
	// the change is of the new day, with only the new day's minute.
	day2 := day1.AddDays(1)
	merge(t, prices, domaintest.Tick("stock1", day2, 9*3600, 5))
	assert.Equal(t, domain.StockChange{Stock: "stock1", DayChange: domain.DayChange{Day: day2, Minutes: []domain.MinuteCandle{{Minute: 9 * 3600, Open: 5, High: 5, Low: 5, Close: 5}}}}, <-w.Changes)

	// A late tick of day 1 is not the latest day's: nothing is sent.
	merge(t, prices, domaintest.Tick("stock1", day1, 10*3600, 9))
	merge(t, prices, domaintest.Tick("stock1", day2, 9*3600+60, 6))
	assert.Equal(t, domain.StockChange{Stock: "stock1", DayChange: domain.DayChange{Day: day2, Minutes: []domain.MinuteCandle{{Minute: 9*3600 + 60, Open: 6, High: 6, Low: 6, Close: 6}}}}, <-w.Changes,
		"the next change is day 2's, the late tick sent nothing")
	cancel()
	for range w.Changes { // closed when ctx ends
	}
}

func TestListStocks(t *testing.T) {
	stocks, err := domain.NewStocks([]string{"stock2", "stock1", "other"})
	require.NoError(t, err)
	prices := memory.NewPriceStore()
	_, err = app.NewListStocks(stocks, nil)
	require.Error(t, err)
	list, err := app.NewListStocks(stocks, prices)
	require.NoError(t, err)
	merge(t, prices, domaintest.Tick("stock1", day1, 9*3600+61, 5))
	page, err := list.Execute(t.Context(), app.StockListing{})
	require.NoError(t, err)
	stock1 := app.StockQuote{Stock: "stock1", Day: day1, Minute: 9*3600 + 60, Price: 5, HasPrice: true}
	assert.Equal(t, app.StockPage{Quotes: []app.StockQuote{{Stock: "stock2"}, stock1, {Stock: "other"}}}, page,
		"no page asked: every stock, as configured, the minute of the close's tick")

	page, err = list.Execute(t.Context(), app.StockListing{Page: domain.StockQuery{Prefix: "stock", Limit: 1}})
	require.NoError(t, err)
	assert.Equal(t, app.StockPage{Quotes: []app.StockQuote{stock1}, More: true}, page, "a page in name order")
	page, err = list.Execute(t.Context(), app.StockListing{Page: domain.StockQuery{Prefix: "stock", After: "stock1", Limit: 1}})
	require.NoError(t, err)
	assert.Equal(t, app.StockPage{Quotes: []app.StockQuote{{Stock: "stock2"}}}, page, "the last page")

	page, err = list.Execute(t.Context(), app.StockListing{Names: []string{"Other", "stock1"}})
	require.NoError(t, err)
	assert.Equal(t, app.StockPage{Quotes: []app.StockQuote{{Stock: "other"}, stock1}}, page, "the names asked for, in that order")
	_, err = list.Execute(t.Context(), app.StockListing{Names: []string{"stock1", "nope"}})
	require.ErrorIs(t, err, domain.ErrUnknownStock)

	// A new day's first minute is the latest, though earlier in its day.
	merge(t, prices, domaintest.Tick("stock1", day1.AddDays(1), 9*3600, 4))
	page, err = list.Execute(t.Context(), app.StockListing{})
	require.NoError(t, err)
	assert.Equal(t, app.StockQuote{Stock: "stock1", Day: day1.AddDays(1), Minute: 9 * 3600, Price: 4, HasPrice: true}, page.Quotes[1])
}

func TestGetPricesByDay(t *testing.T) {
	stocks, err := domain.NewStocks([]string{"stock1", "stock2"})
	require.NoError(t, err)
	prices := memory.NewPriceStore()
	get, err := app.NewGetPrices(stocks, prices)
	require.NoError(t, err)
	day2 := day1.AddDays(1)
	merge(t, prices,
		domaintest.Tick("stock1", day1, 9*3600+59*60, 1124),
		domaintest.Tick("stock1", day2, 9*3600, 5000))

	name, s, err := get.Execute(t.Context(), "Stock1", 0)
	require.NoError(t, err)
	assert.Equal(t, "stock1", name)
	assert.Equal(t, day2, s.Day(), "day zero is the latest day")
	assert.Equal(t, []int64{5000}, s.Closes())

	_, s, err = get.Execute(t.Context(), "stock1", day1)
	require.NoError(t, err)
	assert.Equal(t, day1, s.Day())
	assert.Equal(t, []int64{1124}, s.Closes())

	_, _, err = get.Execute(t.Context(), "stock1", day1.AddDays(-1))
	require.ErrorIs(t, err, ports.ErrDayNotFound)
	_, _, err = get.Execute(t.Context(), "stock2", day1)
	require.ErrorIs(t, err, ports.ErrDayNotFound, "a stock with no series has no day")
	_, s, err = get.Execute(t.Context(), "stock2", 0)
	require.NoError(t, err)
	assert.Equal(t, 0, s.Len())
	assert.True(t, s.Day().IsZero(), "no series, no day")
	_, _, err = get.Execute(t.Context(), "stock9", 0)
	require.ErrorIs(t, err, domain.ErrUnknownStock)
}

func TestListDays(t *testing.T) {
	stocks, err := domain.NewStocks([]string{"stock1", "stock2"})
	require.NoError(t, err)
	prices := memory.NewPriceStore()
	_, err = app.NewListDays(stocks, nil)
	require.Error(t, err)
	list, err := app.NewListDays(stocks, prices)
	require.NoError(t, err)
	day0, day2 := day1.AddDays(-1), day1.AddDays(1)
	merge(t, prices, domaintest.Tick("stock1", day2, 9*3600, 1))
	merge(t, prices, domaintest.Tick("stock1", day0, 9*3600, 1), domaintest.Tick("stock1", day1, 9*3600, 1))

	name, days, err := list.Execute(t.Context(), "STOCK1")
	require.NoError(t, err)
	assert.Equal(t, "stock1", name)
	assert.Equal(t, []domain.Day{day0, day1, day2}, days, "ascending, the latest included")

	_, days, err = list.Execute(t.Context(), "stock2")
	require.NoError(t, err)
	assert.NotNil(t, days)
	assert.Empty(t, days)
	_, _, err = list.Execute(t.Context(), "stock9")
	require.ErrorIs(t, err, domain.ErrUnknownStock)
}
