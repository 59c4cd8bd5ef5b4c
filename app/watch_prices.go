package app

import (
	"context"
	"errors"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// WatchPrices follows the latest day of stocks live: their current
// series, then the minutes each write changes in a latest day, each change
// with its stock and day (a change of another day than the last one seen
// of its stock means that a new day started: its minutes replace the
// series).
type WatchPrices struct {
	stocks domain.Stocks
	prices ports.SeriesReader
	feed   ports.PriceFeed
}

// NewWatchPrices wires the use case.
func NewWatchPrices(stocks domain.Stocks, prices ports.SeriesReader, feed ports.PriceFeed) (*WatchPrices, error) {
	if err := requireAll(map[string]any{"price store": prices, "price feed": feed}); err != nil {
		return nil, err
	}
	return &WatchPrices{stocks: stocks, prices: prices, feed: feed}, nil
}

// PriceWatch is the latest series (with its Day) of each of Stocks when
// the watch started, Series[i] of Stocks[i], and the changes since, of
// every one of them on one channel (see ports.PriceFeed: the channel
// closes when ctx ends, or when the watcher must start again from fresh
// series).
type PriceWatch struct {
	Stocks  []string
	Series  []domain.MinuteSeries
	Changes <-chan domain.StockChange
}

// ErrNoStocks reports a watch of no stock.
var ErrNoStocks = errors.New("no stock to watch")

// Execute starts watching stocks (each once, in the order given) until
// ctx ends; domain.ErrUnknownStock (a *domain.UnknownStockError) for a
// stock not traded. The watch starts before the series are read, so no
// change falls between them; a change may be in both, which is harmless,
// since a change carries a minute's values, not a difference.
func (w *WatchPrices) Execute(ctx context.Context, stocks []string) (PriceWatch, error) {
	if len(stocks) == 0 {
		return PriceWatch{}, ErrNoStocks
	}
	names, err := w.stocks.Select(stocks)
	if err != nil {
		return PriceWatch{}, err
	}
	changes := w.feed.Watch(ctx, names)
	watch := PriceWatch{Stocks: names, Series: make([]domain.MinuteSeries, len(names)), Changes: changes}
	for i, name := range names {
		if watch.Series[i], err = w.prices.Series(ctx, name, 0); err != nil {
			return PriceWatch{}, fmt.Errorf("read prices of %s: %w", name, err)
		}
	}
	return watch, nil
}
