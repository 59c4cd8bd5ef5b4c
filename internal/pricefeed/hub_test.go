package pricefeed_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"stockd/domain"
	"stockd/internal/pricefeed"
)

func closed(ch <-chan domain.DayChange) bool {
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
	a, b := f.Watch(ctx, "stock1"), f.Watch(ctx, "stock1")
	other := f.Watch(ctx, "stock2")
	change := domain.DayChange{Day: 20260302, Minutes: []domain.MinuteCandle{{Minute: 60, Open: 1, High: 2, Low: 1, Close: 2}}}
	f.Publish("stock1", change)
	f.Publish("stock1", domain.DayChange{Day: 20260302}) // nothing changed: nothing sent
	assert.Equal(t, change, <-a)
	assert.Equal(t, change, <-b)
	assert.Empty(t, other)
	assert.Len(t, a, 0)
	assert.Equal(t, 3, f.Watchers())

	cancel()
	require.Eventually(t, func() bool { return f.Watchers() == 0 }, time.Second, time.Millisecond)
	assert.True(t, closed(a) && closed(b) && closed(other), "an ended watch is closed")
	assert.False(t, f.Watching("stock1"))

	done, stop := context.WithCancel(t.Context())
	stop()
	late := f.Watch(done, "stock1")
	require.Eventually(t, func() bool { return closed(late) && f.Watchers() == 0 }, time.Second, time.Millisecond,
		"a watch of an ended context ends")
}

// TestSlowWatcherIsDropped: a watcher that does not read is closed once
// its buffer is full, and never blocks the publisher or other watchers.
func TestSlowWatcherIsDropped(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := pricefeed.NewHub()
	slow := f.Watch(t.Context(), "stock1")
	fast := f.Watch(t.Context(), "stock1")
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
	a := f.Watch(t.Context(), "stock1")
	f.DropAll()
	assert.True(t, closed(a))
	assert.Equal(t, 0, f.Watchers())
}
