package app

import (
	"context"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// GetPrices reads the minute-wise series of a stock.
type GetPrices struct {
	stocks domain.Stocks
	prices ports.PriceStore
}

// NewGetPrices wires the use case.
func NewGetPrices(stocks domain.Stocks, prices ports.PriceStore) (*GetPrices, error) {
	if err := requireAll(map[string]any{"price store": prices}); err != nil {
		return nil, err
	}
	return &GetPrices{stocks: stocks, prices: prices}, nil
}

// Execute returns the canonical stock name and its series (empty when the
// stock has no price yet); domain.ErrUnknownStock for a stock not traded.
func (g *GetPrices) Execute(ctx context.Context, stock string) (string, domain.MinuteSeries, error) {
	name, err := g.stocks.Canonical(stock)
	if err != nil {
		return "", domain.MinuteSeries{}, err
	}
	s, err := g.prices.Series(ctx, name)
	if err != nil {
		return "", domain.MinuteSeries{}, fmt.Errorf("read prices of %s: %w", name, err)
	}
	return name, s, nil
}
