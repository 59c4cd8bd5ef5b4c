package ports

import (
	"context"

	"stockd/domain"
)

// PriceFeed tells watchers of a stock the minutes that each write of its
// series changes, from whichever process wrote it.
type PriceFeed interface {
	// Watch returns the changes of stock's latest day from now on: each
	// receive is the day and the minutes one write changed in it,
	// ascending, with their new values. A write that starts a new day
	// sends that day's minutes; a write of an earlier day sends nothing. The
	// channel is closed when ctx ends, when the watcher falls behind (a
	// slow reader is dropped rather than buffered without bound), or when
	// the feed may have missed changes (its connection to the store was
	// lost); a watcher then reads the series again and watches anew.
	Watch(ctx context.Context, stock string) <-chan domain.DayChange
}
