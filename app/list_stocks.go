package app

import (
	"context"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// ListStocks tells every traded stock's latest day, minute and price.
type ListStocks struct {
	stocks domain.Stocks
	prices ports.SeriesReader
}

// NewListStocks wires the use case.
func NewListStocks(stocks domain.Stocks, prices ports.SeriesReader) (*ListStocks, error) {
	if err := requireAll(map[string]any{"price store": prices}); err != nil {
		return nil, err
	}
	return &ListStocks{stocks: stocks, prices: prices}, nil
}

// StockQuote is a stock's latest day, the last minute of that day and its
// close; HasPrice is false (and the rest zero) for a stock with no price
// yet. Day is zero, too, for a series of no known day (see domain.Day).
type StockQuote struct {
	Stock    string
	Day      domain.Day
	Minute   domain.TimeOfDay
	Price    int64
	HasPrice bool
}

// Execute returns every stock, in the configured order.
func (l *ListStocks) Execute(ctx context.Context) ([]StockQuote, error) {
	names := l.stocks.Names()
	quotes := make([]StockQuote, len(names))
	for i, name := range names {
		s, err := l.prices.Series(ctx, name, 0)
		if err != nil {
			return nil, fmt.Errorf("read prices of %s: %w", name, err)
		}
		quotes[i] = StockQuote{Stock: name}
		if n := s.Len(); n > 0 {
			quotes[i].Day, quotes[i].Minute, quotes[i].Price, quotes[i].HasPrice = s.Day(), s.Minutes()[n-1], s.Closes()[n-1], true
		}
	}
	return quotes, nil
}
