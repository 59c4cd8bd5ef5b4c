package pricefeed_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"stockd/domain"
	"stockd/internal/pricefeed"
)

func closed(ch <-chan domain.StockChange) bool {
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return true
			}
		default:
			return false
		}
	}
}

func TestFeedFansOutAndForgets(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := pricefeed.NewHub()
	ctx, cancel := context.WithCancel(t.Context())
	a, b := f.Watch(ctx, []string{"stock1"}), f.Watch(ctx, []string{"stock1"})
	other := f.Watch(ctx, []string{"stock2"})
	change := domain.DayChange{Day: 20260302, Minutes: []domain.MinuteCandle{{Minute: 60, Open: 1, High: 2, Low: 1, Close: 2}}}
	f.Publish("stock1", change)
	f.Publish("stock1", domain.DayChange{Day: 20260302}) // nothing changed: nothing sent
	assert.Equal(t, domain.StockChange{Stock: "stock1", DayChange: change}, <-a)
	assert.Equal(t, domain.StockChange{Stock: "stock1", DayChange: change}, <-b)
	assert.Empty(t, other)
	assert.Len(t, a, 0)
	assert.Equal(t, 3, f.Watchers())

	cancel()
	require.Eventually(t, func() bool { return f.Watchers() == 0 }, time.Second, time.Millisecond)
	assert.True(t, closed(a) && closed(b) && closed(other), "an ended watch is closed")
	assert.False(t, f.Watching("stock1"))

	done, stop := context.WithCancel(t.Context())
	stop()
	late := f.Watch(done, []string{"stock1"})
	require.Eventually(t, func() bool { return closed(late) && f.Watchers() == 0 }, time.Second, time.Millisecond,
		"a watch of an ended context ends")
}

// TestSlowWatcherIsDropped: a watcher that does not read is closed once
// its buffer is full, and never blocks the publisher or other watchers.
func TestSlowWatcherIsDropped(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := pricefeed.NewHub()
	slow := f.Watch(t.Context(), []string{"stock1"})
	fast := f.Watch(t.Context(), []string{"stock1"})
	for i := range pricefeed.WatchBuffer + 5 {
		f.Publish("stock1", domain.DayChange{Day: 20260302, Minutes: []domain.MinuteCandle{{Minute: domain.TimeOfDay(60 * i), Close: 1, Open: 1, High: 1, Low: 1}}})
		<-fast
	}
	assert.Equal(t, 1, f.Watchers(), "the slow watcher is gone")
	n := 0
	for range slow {
		n++
	}
	assert.Equal(t, pricefeed.WatchBuffer, n, "what was buffered is still delivered, then the channel closes")
}

func TestDropAll(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := pricefeed.NewHub()
	a := f.Watch(t.Context(), []string{"stock1"})
	f.DropAll()
	assert.True(t, closed(a))
	assert.Equal(t, 0, f.Watchers())
}

// TestOneWatcherOfManyStocks: a watcher of many stocks gets each one's
// changes on its one channel, is counted once, and its end forgets every
// stock it watched; the hub tells when the watched set changes.
func TestOneWatcherOfManyStocks(t *testing.T) {
	defer goleak.VerifyNone(t)
	told := 0
	f := pricefeed.NewHubTelling(func() { told++ })
	ctx, cancel := context.WithCancel(t.Context())
	many := f.Watch(ctx, []string{"stock1", "stock2", "stock3"})
	one := f.Watch(t.Context(), []string{"stock2"})
	assert.Equal(t, 2, f.Watchers())
	assert.ElementsMatch(t, []string{"stock1", "stock2", "stock3"}, f.Watched())
	assert.Equal(t, 1, told, "the second watch of stock2 changes nothing watched")

	change := func(minute domain.TimeOfDay) domain.DayChange {
		return domain.DayChange{Day: 20260302, Minutes: []domain.MinuteCandle{{Minute: minute, Open: 1, High: 1, Low: 1, Close: 1}}}
	}
	f.Publish("stock3", change(60))
	f.Publish("stock2", change(120))
	f.Publish("stock9", change(180)) // nobody watches it
	assert.Equal(t, domain.StockChange{Stock: "stock3", DayChange: change(60)}, <-many)
	assert.Equal(t, domain.StockChange{Stock: "stock2", DayChange: change(120)}, <-many)
	assert.Equal(t, domain.StockChange{Stock: "stock2", DayChange: change(120)}, <-one)
	assert.Empty(t, many)

	cancel()
	require.Eventually(t, func() bool { return f.Watchers() == 1 }, time.Second, time.Millisecond)
	assert.True(t, closed(many))
	assert.Equal(t, []string{"stock2"}, f.Watched())
	assert.Equal(t, 2, told, "stock1 and stock3 left the watched set at once")

	// Room for a burst that changes every stock of a big watch at once.
	names := make([]string, 500)
	for i := range names {
		names[i] = fmt.Sprintf("s%03d", i)
	}
	big := f.Watch(t.Context(), names)
	for _, n := range names {
		f.Publish(n, change(60))
	}
	assert.Len(t, big, 500, "nothing dropped")
}
