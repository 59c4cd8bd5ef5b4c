package ports

import (
	"context"

	"stockd/domain"
)

// PriceMerger is where the price updater writes ticks in the price store.
type PriceMerger interface {
	// Merge folds each stock's histories, day by day, into its stored
	// series, atomically per stock, writing each stock once. A day later
	// than the stock's latest becomes its latest (the former latest moves
	// to its own day); a tick of an earlier day changes only that day.
	Merge(ctx context.Context, histories map[string]domain.DayHistories) error
}
