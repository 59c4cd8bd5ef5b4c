package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"stockd/adapters/memory"
	"stockd/domain"
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
	f := memory.NewPriceFeed()
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
	f := memory.NewPriceFeed()
	slow := f.Watch(t.Context(), "stock1")
	fast := f.Watch(t.Context(), "stock1")
	for i := range memory.WatchBuffer + 5 {
		f.Publish("stock1", domain.DayChange{Day: 20260302, Minutes: []domain.MinuteCandle{{Minute: domain.TimeOfDay(60 * i), Close: 1, Open: 1, High: 1, Low: 1}}})
		<-fast
	}
	assert.Equal(t, 1, f.Watchers(), "the slow watcher is gone")
	n := 0
	for range slow {
		n++
	}
	assert.Equal(t, memory.WatchBuffer, n, "what was buffered is still delivered, then the channel closes")
}

func TestDropAll(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := memory.NewPriceFeed()
	a := f.Watch(t.Context(), "stock1")
	f.DropAll()
	assert.True(t, closed(a))
	assert.Equal(t, 0, f.Watchers())
}

// TestStorePublishesChanges: the memory store tells its feed the minutes a
// merge changed in the latest day, with the day; nothing when a merge
// changes nothing or only an earlier day; a new day's every minute.
func TestStorePublishesChanges(t *testing.T) {
	const d1, d2 domain.Day = 20260302, 20260303
	s := memory.NewPriceStore()
	ch := s.Feed().Watch(t.Context(), "stock1")
	b := domain.NewTickBatch()
	b.Add(domain.Tick{Stock: "stock1", Day: d1, At: 9 * 3600, Price: 10})
	b.Add(domain.Tick{Stock: "stock1", Day: d1, At: 9*3600 + 125, Price: 12})
	require.NoError(t, s.Merge(t.Context(), b.Histories()))
	got := <-ch
	assert.Equal(t, d1, got.Day)
	require.Len(t, got.Minutes, 3)
	assert.Equal(t, domain.MinuteCandle{Minute: 9*3600 + 60, Open: 10, High: 10, Low: 10, Close: 10}, got.Minutes[1])
	require.NoError(t, s.Merge(t.Context(), b.Histories()))
	assert.Empty(t, ch, "re-applying a batch changes nothing")

	next := domain.NewTickBatch()
	next.Add(domain.Tick{Stock: "stock1", Day: d2, At: 9 * 3600, Price: 10}) // equal to day 1's first minute, yet new
	require.NoError(t, s.Merge(t.Context(), next.Histories()))
	assert.Equal(t, domain.DayChange{Day: d2, Minutes: []domain.MinuteCandle{{Minute: 9 * 3600, Open: 10, High: 10, Low: 10, Close: 10}}}, <-ch)

	late := domain.NewTickBatch()
	late.Add(domain.Tick{Stock: "stock1", Day: d1, At: 10 * 3600, Price: 99})
	require.NoError(t, s.Merge(t.Context(), late.Histories()))
	assert.Empty(t, ch, "a late tick of an earlier day is not the latest day's change")
}
