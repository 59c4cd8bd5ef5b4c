package ports

import (
	"context"
	"errors"

	"stockd/domain"
)

// ErrDayNotFound reports a trading day of which a stock has no series (none
// was ever written, or it expired).
var ErrDayNotFound = errors.New("no prices for that day")

// PriceStore keeps the minute-wise price series of every stock, one per
// trading day: the latest day's under the stock's own key, earlier days
// apart, each kept PRICE_HISTORY_DAYS after its day.
type PriceStore interface {
	// Merge folds each stock's histories, day by day, into its stored
	// series, atomically per stock, writing each stock once. A day later
	// than the stock's latest becomes its latest (the former latest moves
	// to its own day); a tick of an earlier day changes only that day.
	Merge(ctx context.Context, histories map[string]domain.DayHistories) error
	// Series returns the stored series of stock on day, or on its latest
	// day when day is zero, with the series' Day set. For day zero, a
	// stock with no series has an empty series (of no day); for a given
	// day that is not kept, the error is ErrDayNotFound. The series may be
	// shared with other callers: read it, do not change it.
	Series(ctx context.Context, stock string, day domain.Day) (domain.MinuteSeries, error)
	// Days lists the days of which stock has a series, ascending.
	Days(ctx context.Context, stock string) ([]domain.Day, error)
	// Latest returns the quote of stock: the close of the last minute of
	// its latest day; ok is false when the stock has no price yet. A price
	// written by another process is seen by the next call.
	Latest(ctx context.Context, stock string) (q domain.Quote, ok bool, err error)
}
