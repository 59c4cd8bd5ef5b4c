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

// WatchBuffer is how many writes a watcher may fall behind before it is
// dropped: enough for a burst of batches, small enough that ten thousand
// watchers hold little memory (the minutes of a write are shared, not
// copied per watcher).
const WatchBuffer = 16

// Hub fans the changes of every stock out to the watchers in this
// process.
type Hub struct {
	mu       sync.Mutex
	watchers map[string]map[*watcher]struct{}
}

type watcher struct {
	updates chan domain.DayChange
	stop    func() bool // unregisters the context hook
}

// NewHub returns a hub with no watchers.
func NewHub() *Hub {
	return &Hub{watchers: map[string]map[*watcher]struct{}{}}
}

// Watch registers a watcher of stock until ctx ends. It starts no
// goroutine: the end of ctx unregisters the watcher through a context hook.
func (f *Hub) Watch(ctx context.Context, stock string) <-chan domain.DayChange {
	w := &watcher{updates: make(chan domain.DayChange, WatchBuffer)}
	f.mu.Lock()
	defer f.mu.Unlock()
	set := f.watchers[stock]
	if set == nil {
		set = map[*watcher]struct{}{}
		f.watchers[stock] = set
	}
	set[w] = struct{}{}
	// Under the lock: a hook that runs at once (ctx already ended) waits
	// for it, and finds the watcher registered.
	w.stop = context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.dropLocked(stock, w)
	})
	return w.updates
}

// dropLocked closes w's channel and forgets it, if it is still watching.
func (f *Hub) dropLocked(stock string, w *watcher) {
	set := f.watchers[stock]
	if _, ok := set[w]; !ok {
		return
	}
	delete(set, w)
	if len(set) == 0 {
		delete(f.watchers, stock)
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
		case w.updates <- change:
		default:
			w.stop()
			f.dropLocked(stock, w)
		}
	}
}

// DropAll ends every watch: the feed may have missed changes, and each
// watcher must read the series again.
func (f *Hub) DropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for stock, set := range f.watchers {
		for w := range set {
			w.stop()
			f.dropLocked(stock, w)
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

// Watchers is the number of watchers of every stock, for metrics and
// tests.
func (f *Hub) Watchers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, set := range f.watchers {
		n += len(set)
	}
	return n
}
