package app

import (
	"context"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// ListStocks tells every traded stock's latest minute and price.
type ListStocks struct {
	stocks domain.Stocks
	prices ports.PriceStore
}

// NewListStocks wires the use case.
func NewListStocks(stocks domain.Stocks, prices ports.PriceStore) (*ListStocks, error) {
	if err := requireAll(map[string]any{"price store": prices}); err != nil {
		return nil, err
	}
	return &ListStocks{stocks: stocks, prices: prices}, nil
}

// StockQuote is a stock's latest minute and its close; HasPrice is false
// (and the rest zero) for a stock with no price yet.
type StockQuote struct {
	Stock    string
	Minute   domain.TimeOfDay
	Price    int64
	HasPrice bool
}

// Execute returns every stock, in the configured order.
func (l *ListStocks) Execute(ctx context.Context) ([]StockQuote, error) {
	names := l.stocks.Names()
	quotes := make([]StockQuote, len(names))
	for i, name := range names {
		s, err := l.prices.Series(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("read prices of %s: %w", name, err)
		}
		quotes[i] = StockQuote{Stock: name}
		if n := s.Len(); n > 0 {
			quotes[i].Minute, quotes[i].Price, quotes[i].HasPrice = s.Minutes[n-1], s.Prices[n-1], true
		}
	}
	return quotes, nil
}
