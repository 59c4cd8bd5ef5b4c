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
	chans := make([]<-chan domain.StockChange, watchers)
	for i := range chans {
		chans[i] = feed.Watch(watchCtx, []string{"stock1"})
	}
	other := feed.Watch(watchCtx, []string{"stock2", "stock3"})
	store := redis.NewPriceStore(pub)
	// Watch returns once subscribed: the very next write arrives.
	price := int64(100)
	require.NoError(t, store.Merge(t.Context(), batchOf(tick("stock1", day, 9*3600, price))))
	first := domain.StockChange{Stock: "stock1", DayChange: domain.DayChange{Day: day, Minutes: []domain.MinuteCandle{{Minute: 9 * 3600, Open: 100, High: 100, Low: 100, Close: 100}}}}
	require.NoError(t, store.Merge(t.Context(), batchOf(tick("stock1", day, 9*3600+61, 7), tick("stock1", day, 9*3600+62, 9))))
	// A late tick of an earlier day publishes nothing; a tick of a later
	// day starts it and sends its minutes, with its day.
	require.NoError(t, store.Merge(t.Context(), batchOf(tick("stock1", day.AddDays(-1), 15*3600, 3))))
	require.NoError(t, store.Merge(t.Context(), batchOf(tick("stock1", day.AddDays(1), 8*3600+1, 50))))
	want := domain.StockChange{Stock: "stock1", DayChange: domain.DayChange{Day: day, Minutes: []domain.MinuteCandle{{Minute: 9*3600 + 60, Open: 7, High: 9, Low: 7, Close: 9}}}}
	next := domain.StockChange{Stock: "stock1", DayChange: domain.DayChange{Day: day.AddDays(1), Minutes: []domain.MinuteCandle{{Minute: 8 * 3600, Open: 50, High: 50, Low: 50, Close: 50}}}}
	receive := func(i int, ch <-chan domain.StockChange) domain.StockChange {
		select {
		case got := <-ch:
			return got
		case <-time.After(time.Second):
			t.Fatalf("watcher %d got no change within a second", i)
			return domain.StockChange{}
		}
	}
	for i, ch := range chans {
		require.Equal(t, first, receive(i, ch), "watcher %d: the first write after Watch returned", i)
		require.Equal(t, want, receive(i, ch), "watcher %d", i)
		require.Equal(t, next, receive(i, ch), "watcher %d: the next change is the new day's, not the late tick's", i)
	}
	select {
	case m := <-other:
		t.Fatalf("a watcher of stock2 got a change of stock1: %v", m)
	default:
	}
	numsub := func() map[string]int64 {
		// On a cluster the count is the node's that the feed is on.
		n := map[string]int64{}
		for _, c := range pub.Nodes() {
			m, err := c.Do(t.Context(), c.B().PubsubNumsub().Channel("stockd:prices:{stock1}", "stockd:prices:{stock2}", "stockd:prices:{stock4}").Build()).AsIntMap()
			require.NoError(t, err)
			for k, v := range m {
				n[k] += v
			}
		}
		return n
	}
	assert.Equal(t, map[string]int64{"stockd:prices:{stock1}": 1, "stockd:prices:{stock2}": 1, "stockd:prices:{stock4}": 0}, numsub(),
		"one subscription for every watcher of a stock, none for a stock nobody watches")

	unwatch()
	require.Eventually(t, func() bool { return numsub()["stockd:prices:{stock1}"] == 0 }, 5*time.Second, 5*time.Millisecond,
		"a stock nobody watches any longer is unsubscribed")
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
	lost := feed.Watch(ctx, []string{"stock1"})
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
	again := feed.Watch(ctx, []string{"stock1"})
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

// TestFeedWatchDoesNotWaitForeverToSubscribe: with nothing subscribing
// (Run not started, as with Redis away), a watch returns after the
// feed's bound rather than holding its request, its channel still open;
// cancelled, it is closed, and nothing of it outlives the test.
func TestFeedWatchDoesNotWaitForeverToSubscribe(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := testenv.StartRedis(t)
	c, err := redis.Open([]string{srv.Addr})
	require.NoError(t, err)
	defer c.Close()
	feed := redis.NewPriceFeed(c, testLogger(t))
	ctx, cancel := context.WithCancel(t.Context())
	returned := make(chan (<-chan domain.StockChange), 1)
	go func() { returned <- feed.Watch(ctx, []string{"stock1", "stock2"}) }()
	var ch <-chan domain.StockChange
	select {
	case ch = <-returned:
	case <-time.After(30 * time.Second):
		t.Fatal("Watch still waits for a subscription nobody makes")
	}
	select {
	case _, ok := <-ch:
		t.Fatalf("the watch ended or got a change (open %v) before it was cancelled", ok)
	default:
	}
	cancel()
	_, ok := <-ch
	assert.False(t, ok, "a cancelled watch is closed")
}
