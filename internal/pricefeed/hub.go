// Package pricefeed holds what every price feed of the service shares: the
// hub that fans the changes of stocks out to the watchers in one process
// (the memory price store publishes into it directly, the Redis feed what
// its one subscription receives), and the JSON of a changed minute, which
// the Redis feed sends between processes and the HTTP stream to browsers.
// It is a package of its own so that no adapter imports another.
package pricefeed

import (
	"context"
	"sync"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.PriceFeed = (*Hub)(nil)

// WatchBuffer is how many writes a watcher of one stock may fall behind
// before it is dropped: enough for a burst of batches, small enough that
// ten thousand watchers hold little memory (the minutes of a write are
// shared, not copied per watcher). A watcher of many stocks gets room for
// a few writes of each (see bufferFor).
const WatchBuffer = 16

// maxWatchBuffer bounds the buffer of a watcher of many stocks: a
// thousand-stock watcher that falls that far behind is better dropped and
// resumed (its client reconnects with Last-Event-ID) than buffered.
const maxWatchBuffer = 2048

// bufferFor is the buffer of a watcher of n stocks: an ingest batch may
// change every one of them at once.
func bufferFor(n int) int {
	return min(max(WatchBuffer, 4*n), maxWatchBuffer)
}

// Hub fans the changes of every stock out to the watchers in this
// process. One watcher is one channel, whatever the number of stocks it
// watches (a client's multiplexed stream is one goroutine and one
// channel), and a change is handed only to the watchers of its stock.
type Hub struct {
	mu       sync.Mutex
	watchers map[string]map[*watcher]struct{}
	// watchedChanged, when set, is told (under mu: it must not block or
	// call the hub) that a stock got its first watcher or lost its last,
	// so that a feed subscribes only to what is watched.
	watchedChanged func()
}

type watcher struct {
	updates chan domain.StockChange
	stocks  []string
	stop    func() bool // unregisters the context hook
	dropped bool        // under the hub's lock
}

// NewHub returns a hub with no watchers.
func NewHub() *Hub { return NewHubTelling(nil) }

// NewHubTelling returns a hub that calls watchedChanged whenever the set
// of watched stocks changes (see Watched). watchedChanged runs with the
// hub locked: it must only signal (a non-blocking send, say).
func NewHubTelling(watchedChanged func()) *Hub {
	return &Hub{watchers: map[string]map[*watcher]struct{}{}, watchedChanged: watchedChanged}
}

// Watch registers a watcher of stocks until ctx ends (see
// ports.PriceFeed). It starts no goroutine: the end of ctx unregisters the
// watcher through a context hook.
func (f *Hub) Watch(ctx context.Context, stocks []string) <-chan domain.StockChange {
	w := &watcher{updates: make(chan domain.StockChange, bufferFor(len(stocks))), stocks: stocks}
	f.mu.Lock()
	defer f.mu.Unlock()
	changed := false
	for _, stock := range stocks {
		set := f.watchers[stock]
		if set == nil {
			set = map[*watcher]struct{}{}
			f.watchers[stock] = set
			changed = true
		}
		set[w] = struct{}{}
	}
	if changed && f.watchedChanged != nil {
		f.watchedChanged()
	}
	// Under the lock: a hook that runs at once (ctx already ended) waits
	// for it, and finds the watcher registered.
	w.stop = context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.dropLocked(w)
	})
	return w.updates
}

// dropLocked closes w's channel and forgets it, if it is still watching.
func (f *Hub) dropLocked(w *watcher) {
	if w.dropped {
		return
	}
	w.dropped = true
	changed := false
	for _, stock := range w.stocks {
		set := f.watchers[stock]
		delete(set, w)
		if len(set) == 0 {
			delete(f.watchers, stock)
			changed = true
		}
	}
	if changed && f.watchedChanged != nil {
		f.watchedChanged()
	}
	close(w.updates)
}

// Publish hands what one write of stock changed in its latest day to every
// watcher of it, without waiting: a watcher whose buffer is full is
// dropped. A change without minutes is not sent. change.Minutes is shared
// by every watcher and must not be changed afterwards.
func (f *Hub) Publish(stock string, change domain.DayChange) {
	if len(change.Minutes) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range f.watchers[stock] {
		select {
		case w.updates <- domain.StockChange{Stock: stock, DayChange: change}:
		default:
			w.stop()
			f.dropLocked(w)
		}
	}
}

// Watched returns the stocks that have watchers now, in no order.
func (f *Hub) Watched() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.watchers))
	for stock := range f.watchers {
		out = append(out, stock)
	}
	return out
}

// DropAll ends every watch: the feed may have missed changes, and each
// watcher must read the series again.
func (f *Hub) DropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, set := range f.watchers {
		for w := range set {
			w.stop()
			f.dropLocked(w)
		}
	}
}

// Watching reports whether anyone watches stock, so that a publisher can
// skip computing changes nobody reads.
func (f *Hub) Watching(stock string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.watchers[stock]) > 0
}

// Watchers is the number of watchers, each counted once however many
// stocks it watches, for metrics and tests.
func (f *Hub) Watchers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[*watcher]struct{}{}
	for _, set := range f.watchers {
		for w := range set {
			seen[w] = struct{}{}
		}
	}
	return len(seen)
}
