package ports

import (
	"context"
	"errors"

	"stockd/domain"
)

// ErrDayNotFound reports a trading day of which a stock has no series (none
// was ever written, or it expired).
var ErrDayNotFound = errors.New("no prices for that day")

// SeriesReader is what the price readers (prices of a day, the stock list,
// a watch) read of the price store.
type SeriesReader interface {
	// Series returns the stored series of stock on day, or on its latest
	// day when day is zero, with the series' Day set. For day zero, a
	// stock with no series has an empty series (of no day); for a given
	// day that is not kept, the error is ErrDayNotFound. The series may be
	// shared with other callers: read it, do not change it.
	Series(ctx context.Context, stock string, day domain.Day) (domain.MinuteSeries, error)
}
