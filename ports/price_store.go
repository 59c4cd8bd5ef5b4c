package ports

import (
	"context"

	"stockd/domain"
)

// PriceStore keeps the minute-wise price series of every stock.
type PriceStore interface {
	// Merge folds each stock's history into its stored series, atomically
	// per stock, writing each stock once.
	Merge(ctx context.Context, histories map[string]*domain.PriceHistory) error
	// Series returns the stored series of stock; an empty series when the
	// stock has none. The series may be shared with other callers: read
	// it, do not change it.
	Series(ctx context.Context, stock string) (domain.MinuteSeries, error)
	// Latest returns the price of the last minute of stock's series; ok is
	// false when the stock has no price yet. A price written by another
	// process is seen by the next call.
	Latest(ctx context.Context, stock string) (price int64, ok bool, err error)
}
