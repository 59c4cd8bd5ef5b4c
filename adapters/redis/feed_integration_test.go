//go:build integration

package redis_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sync/errgroup"

	"stockd/adapters/redis"
	"stockd/domain"
	"stockd/internal/testenv"
)

// TestFeed: changes written by any process reach every watcher of this
// one through one subscription; a cancelled watch is closed and forgotten;
// a lost subscription closes every watch; nothing leaks.
func TestFeed(t *testing.T) {
	srv := testenv.StartRedis(t)
	feedFanOut(t, func() rueidis.Client { c, err := redis.Open([]string{srv.Addr}); require.NoError(t, err); return c }, srv)
}

func TestFeedOnCluster(t *testing.T) {
	addrs := testenv.RedisCluster(t)
	feedFanOut(t, func() rueidis.Client { c, err := redis.Open(addrs); require.NoError(t, err); return c }, nil)
}

// feedFanOut runs the feed's test on the clients open makes; single is
// the server on a single Redis (restarted to cut the subscription), nil on
// a cluster.
func feedFanOut(t *testing.T, open func() rueidis.Client, single *testenv.RedisServer) {
	// A cluster client leaves a topology refresh asleep for a while after
	// Close; it is rueidis's, not the feed's.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2"))
	sub, pub := open(), open()
	defer sub.Close()
	defer pub.Close()
	feed := redis.NewPriceFeed(sub, testLogger(t))
	ctx, cancel := context.WithCancel(t.Context())
	var g errgroup.Group
	g.Go(func() error { return feed.Run(ctx) })
	defer func() {
		cancel()
		require.NoError(t, g.Wait())
	}()

	const watchers = 200
	watchCtx, unwatch := context.WithCancel(ctx)
	chans := make([]<-chan domain.DayChange, watchers)
	for i := range chans {
		chans[i] = feed.Watch(watchCtx, "stock1")
	}
	other := feed.Watch(watchCtx, "stock2")
	store := redis.NewPriceStore(pub)
	// The subscription starts asynchronously: write until the first change
	// arrives, then every later write must arrive in order.
	price := int64(100)
	require.Eventually(t, func() bool {
		price++
		require.NoError(t, store.Merge(t.Context(), batchOf(tick("stock1", day, 9*3600, price))))
		select {
		case <-chans[0]:
			return true
		case <-time.After(20 * time.Millisecond):
			return false
		}
	}, 10*time.Second, time.Millisecond)
	require.NoError(t, store.Merge(t.Context(), batchOf(tick("stock1", day, 9*3600+61, 7), tick("stock1", day, 9*3600+62, 9))))
	// A late tick of an earlier day publishes nothing; a tick of a later
	// day starts it and sends its minutes, with its day.
	require.NoError(t, store.Merge(t.Context(), batchOf(tick("stock1", day.AddDays(-1), 15*3600, 3))))
	require.NoError(t, store.Merge(t.Context(), batchOf(tick("stock1", day.AddDays(1), 8*3600+1, 50))))
	want := domain.DayChange{Day: day, Minutes: []domain.MinuteCandle{{Minute: 9*3600 + 60, Open: 7, High: 9, Low: 7, Close: 9}}}
	next := domain.DayChange{Day: day.AddDays(1), Minutes: []domain.MinuteCandle{{Minute: 8 * 3600, Open: 50, High: 50, Low: 50, Close: 50}}}
	receive := func(i int, ch <-chan domain.DayChange) domain.DayChange {
		select {
		case got := <-ch:
			return got
		case <-time.After(time.Second):
			t.Fatalf("watcher %d got no change within a second", i)
			return domain.DayChange{}
		}
	}
	for i, ch := range chans {
		got := receive(i, ch)
		for got.Minutes[0].Minute != want.Minutes[0].Minute { // changes of the writes that waited for the subscription
			got = receive(i, ch)
		}
		require.Equal(t, want, got, "watcher %d", i)
		require.Equal(t, next, receive(i, ch), "watcher %d: the next change is the new day's, not the late tick's", i)
	}
	select {
	case m := <-other:
		t.Fatalf("a watcher of stock2 got a change of stock1: %v", m)
	default:
	}
	if single != nil { // on a cluster the count is per node
		numsub, err := pub.Do(t.Context(), pub.B().PubsubNumsub().Channel("stockd:prices").Build()).AsIntMap()
		require.NoError(t, err)
		assert.Equal(t, int64(1), numsub["stockd:prices"], "one subscription for every watcher")
	}

	unwatch()
	for i, ch := range chans {
		require.Eventually(t, func() bool {
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
		}, time.Second, time.Millisecond, "watcher %d not closed", i)
	}

	if single == nil {
		return
	}
	lost := feed.Watch(ctx, "stock1")
	single.Restart(t)
	select {
	case _, ok := <-lost:
		for ok {
			_, ok = <-lost
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a lost subscription did not close the watch")
	}
	// Subscribed again: a new watch gets changes.
	again := feed.Watch(ctx, "stock1")
	require.Eventually(t, func() bool {
		price++
		if err := store.Merge(t.Context(), batchOf(tick("stock1", day.AddDays(1), 9*3600+600, price))); err != nil {
			return false
		}
		select {
		case <-again:
			return true
		case <-time.After(20 * time.Millisecond):
			return false
		}
	}, 15*time.Second, time.Millisecond)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}
