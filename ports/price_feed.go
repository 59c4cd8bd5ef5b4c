package ports

import (
	"context"

	"stockd/domain"
)

// PriceFeed tells watchers of stocks the minutes that each write of their
// series changes, from whichever process wrote it.
type PriceFeed interface {
	// Watch returns the changes of the latest day of each of stocks from
	// now on, on one channel: each receive is the stock, the day and the
	// minutes one write changed in it, ascending, with their new values.
	// A write that starts a new day sends that day's minutes; a write of
	// an earlier day sends nothing. Changes written once Watch has
	// returned are sent. The channel is closed when ctx ends, when the
	// watcher falls behind (a slow reader is dropped rather than buffered
	// without bound), or when the feed may have missed changes (its
	// connection to the store was lost); a watcher then reads the series
	// again and watches anew. What a watch costs follows the stocks it
	// names, not the number of stocks traded.
	Watch(ctx context.Context, stocks []string) <-chan domain.StockChange
}
