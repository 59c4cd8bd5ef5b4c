package app

import (
	"context"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// ListDays tells the trading days of which a stock has a series.
type ListDays struct {
	stocks domain.Stocks
	prices ports.DayLister
}

// NewListDays wires the use case.
func NewListDays(stocks domain.Stocks, prices ports.DayLister) (*ListDays, error) {
	if err := requireAll(map[string]any{"price store": prices}); err != nil {
		return nil, err
	}
	return &ListDays{stocks: stocks, prices: prices}, nil
}

// Execute returns the canonical stock name and its days, ascending (none
// for a stock with no price yet); domain.ErrUnknownStock for a stock not
// traded.
func (l *ListDays) Execute(ctx context.Context, stock string) (string, []domain.Day, error) {
	name, err := l.stocks.Canonical(stock)
	if err != nil {
		return "", nil, err
	}
	days, err := l.prices.Days(ctx, name)
	if err != nil {
		return "", nil, fmt.Errorf("read days of %s: %w", name, err)
	}
	if days == nil {
		days = []domain.Day{} // a known stock with no day yet lists none, not null
	}
	return name, days, nil
}
