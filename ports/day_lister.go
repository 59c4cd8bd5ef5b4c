package ports

import (
	"context"

	"stockd/domain"
)

// DayLister is what the list of a stock's trading days reads of the price
// store.
type DayLister interface {
	// Days lists the days of which stock has a series, ascending.
	Days(ctx context.Context, stock string) ([]domain.Day, error)
}
