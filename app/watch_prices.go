package app

import (
	"context"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// WatchPrices follows a stock's latest day live: its current series, then
// the minutes each write changes in the latest day, each change with its
// day (a change of another day than the last one seen means that a new
// day started: its minutes replace the series).
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

// PriceWatch is a stock's latest series (with its Day) when the watch
// started and the changes since (see ports.PriceFeed: the channel closes
// when ctx ends, or when the watcher must start again from a fresh
// series).
type PriceWatch struct {
	Stock   string
	Series  domain.MinuteSeries
	Changes <-chan domain.DayChange
}

// Execute starts watching stock until ctx ends; domain.ErrUnknownStock for
// a stock not traded. The watch starts before the series is read, so no
// change falls between them; a change may be in both, which is harmless,
// since a change carries a minute's values, not a difference.
func (w *WatchPrices) Execute(ctx context.Context, stock string) (PriceWatch, error) {
	name, err := w.stocks.Canonical(stock)
	if err != nil {
		return PriceWatch{}, err
	}
	changes := w.feed.Watch(ctx, name)
	s, err := w.prices.Series(ctx, name, 0)
	if err != nil {
		return PriceWatch{}, fmt.Errorf("read prices of %s: %w", name, err)
	}
	return PriceWatch{Stock: name, Series: s, Changes: changes}, nil
}
