package app

import (
	"context"
	"errors"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// GetPrices reads the minute-wise series of a stock on a trading day.
type GetPrices struct {
	stocks domain.Stocks
	prices ports.SeriesReader
}

// NewGetPrices wires the use case.
func NewGetPrices(stocks domain.Stocks, prices ports.SeriesReader) (*GetPrices, error) {
	if err := requireAll(map[string]any{"price store": prices}); err != nil {
		return nil, err
	}
	return &GetPrices{stocks: stocks, prices: prices}, nil
}

// Execute returns the canonical stock name and its series on day, or on
// its latest day when day is zero (an empty series of no day when the
// stock has no price yet); domain.ErrUnknownStock for a stock not traded,
// ports.ErrDayNotFound (with the canonical name) for a given day of which
// it has no series.
func (g *GetPrices) Execute(ctx context.Context, stock string, day domain.Day) (string, domain.MinuteSeries, error) {
	name, err := g.stocks.Canonical(stock)
	if err != nil {
		return "", domain.MinuteSeries{}, err
	}
	s, err := g.prices.Series(ctx, name, day)
	if err != nil {
		if errors.Is(err, ports.ErrDayNotFound) {
			return name, domain.MinuteSeries{}, err
		}
		return "", domain.MinuteSeries{}, fmt.Errorf("read prices of %s: %w", name, err)
	}
	return name, s, nil
}
