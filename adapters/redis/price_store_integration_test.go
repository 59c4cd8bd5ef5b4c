//go:build integration

package redis_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sync/errgroup"

	"stockd/adapters/redis"
	"stockd/adapters/storetest"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

// TestPriceStoreOnCluster runs the price store's contract on a three-master
// Redis Cluster: no command of a merge may span two slots.
func TestPriceStoreOnCluster(t *testing.T) {
	c := client(t, testenv.RedisCluster(t)...)
	storetest.PriceStore(t, func(*testing.T) ports.PriceStore { return redis.NewPriceStore(c) })
}

func batchOf(ticks ...domain.Tick) map[string]*domain.PriceHistory {
	b := domain.NewTickBatch()
	for _, tk := range ticks {
		b.Add(tk)
	}
	return b.Histories()
}

// TestCandleFormat pins the stored candle arrays and the latest-price key,
// and upgrades in place a series written before candles existed.
func TestCandleFormat(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	s := redis.NewPriceStore(c)
	// Written by the previous version: close times, no candle arrays.
	set(t, c, "stock1", `{"time": ["090000", "090100"], "price": [10, 11], "close_time": ["090020", "090110"], "note": {"a": 1}}`)
	require.NoError(t, s.Merge(t.Context(), batchOf(
		domain.Tick{Stock: "stock1", At: 9*3600 + 5, Price: 30},   // opens 09:00, before its close
		domain.Tick{Stock: "stock1", At: 9*3600 + 20, Price: 5},   // same second as the close, lower: opens nothing, closes nothing
		domain.Tick{Stock: "stock1", At: 9*3600 + 200, Price: 12}, // 09:03:20; 09:02 carried
	)))
	var stored map[string]any
	require.NoError(t, json.Unmarshal([]byte(get(t, c, "stock1")), &stored))
	assert.Equal(t, []any{"090000", "090100", "090200", "090300"}, stored["time"])
	assert.Equal(t, []any{10.0, 11.0, 11.0, 12.0}, stored["price"])
	assert.Equal(t, []any{30.0, 11.0, 11.0, 12.0}, stored["open"])
	assert.Equal(t, []any{30.0, 11.0, 11.0, 12.0}, stored["high"])
	assert.Equal(t, []any{5.0, 11.0, 11.0, 12.0}, stored["low"])
	assert.Equal(t, []any{"090020", "090110", nil, "090320"}, stored["close_time"])
	assert.Equal(t, []any{"090005", "090110", nil, "090320"}, stored["open_time"])
	assert.Equal(t, map[string]any{"a": 1.0}, stored["note"], "other fields are kept")
	assert.Equal(t, "12", get(t, c, "stockd:last:{stock1}"))

	// Re-applying the same ticks, in another process, changes no byte.
	before := get(t, c, "stock1")
	require.NoError(t, redis.NewPriceStore(client(t, srv.Addr)).Merge(t.Context(), batchOf(
		domain.Tick{Stock: "stock1", At: 9*3600 + 200, Price: 12},
		domain.Tick{Stock: "stock1", At: 9*3600 + 5, Price: 30},
	)))
	assert.Equal(t, before, get(t, c, "stock1"))
}

// TestMergeSeesOtherWriters: a store that remembers the series it wrote
// still merges with what another writer put there meanwhile.
func TestMergeSeesOtherWriters(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	a, b := redis.NewPriceStore(c), redis.NewPriceStore(client(t, srv.Addr))
	require.NoError(t, a.Merge(t.Context(), batchOf(domain.Tick{Stock: "stock1", At: 9 * 3600, Price: 10})))
	require.NoError(t, b.Merge(t.Context(), batchOf(domain.Tick{Stock: "stock1", At: 9*3600 + 60, Price: 20})))
	require.NoError(t, a.Merge(t.Context(), batchOf(domain.Tick{Stock: "stock1", At: 9*3600 + 120, Price: 30})))
	got, err := a.Series(t.Context(), "stock1")
	require.NoError(t, err)
	assert.Equal(t, []int64{10, 20, 30}, got.Prices)

	// A foreign writer replaces the value: it is read again, its entries
	// taken as ticks.
	set(t, c, "stock1", `{"time": ["090500"], "price": [50]}`)
	require.NoError(t, a.Merge(t.Context(), batchOf(domain.Tick{Stock: "stock1", At: 9*3600 + 360, Price: 60})))
	got, err = a.Series(t.Context(), "stock1")
	require.NoError(t, err)
	assert.Equal(t, []int64{50, 60}, got.Prices)
}

// TestLatestFollowsOtherProcesses: Latest reads through the client-side
// cache, and a price another process writes is what the next call sees
// (Redis invalidates the cached value; the invalidation is asynchronous,
// so the test allows it a moment).
func TestLatestFollowsOtherProcesses(t *testing.T) {
	srv := testenv.StartRedis(t)
	writer := redis.NewPriceStore(client(t, srv.Addr))
	reader := redis.NewPriceStore(client(t, srv.Addr))
	latestFollows(t, writer, reader)

	// In steady state a price costs no round trip: a thousand reads of
	// an unchanged price are served by the cache.
	c := client(t, srv.Addr)
	before := getCalls(t, c)
	for range 1000 {
		_, _, err := reader.Latest(t.Context(), "stock1")
		require.NoError(t, err)
	}
	assert.Less(t, getCalls(t, c)-before, int64(10), "GETs sent for 1000 reads of one price")
}

// getCalls is how many GET commands the server has run.
func getCalls(t *testing.T, c rueidis.Client) int64 {
	t.Helper()
	info, err := c.Do(t.Context(), c.B().Info().Section("commandstats").Build()).ToString()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_get:calls="); ok {
			n, err := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	return 0
}

func TestLatestFollowsOtherProcessesOnCluster(t *testing.T) {
	addrs := testenv.RedisCluster(t)
	latestFollows(t, redis.NewPriceStore(client(t, addrs...)), redis.NewPriceStore(client(t, addrs...)))
}

func latestFollows(t *testing.T, writer, reader *redis.PriceStore) {
	t.Helper()
	for _, stock := range []string{"stock1", "stock2", "stock3"} {
		_, ok, err := reader.Latest(t.Context(), stock)
		require.NoError(t, err)
		require.False(t, ok, "no price yet (and the miss is now cached)")
		for i, price := range []int64{100, 120, 90} {
			require.NoError(t, writer.Merge(t.Context(), batchOf(domain.Tick{Stock: stock, At: domain.TimeOfDay(9*3600 + 60*i), Price: price})))
			require.Eventually(t, func() bool {
				p, ok, err := reader.Latest(t.Context(), stock)
				return err == nil && ok && p == price
			}, 2*time.Second, time.Millisecond, "%s: the reader does not see %d", stock, price)
		}
	}
}

// TestLatestOfAForeignSeries: a series with no latest-price key (written
// by someone else) is read whole.
func TestLatestOfAForeignSeries(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	set(t, c, "stock1", `{"time": ["090000", "090100"], "price": [10, 11]}`)
	p, ok, err := redis.NewPriceStore(c).Latest(t.Context(), "stock1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(11), p)
}

// TestLatestSeesForeignWrites: the latest-price key is trusted only for
// the series it was written with. A series another client deletes has no
// price; one it overwrites, even with a value of the same length, has its
// own last price; a merge after that is followed again. This holds for the
// process that wrote the key and for one that only reads, and the price of
// a foreign series is cached too.
func TestLatestSeesForeignWrites(t *testing.T) {
	srv := testenv.StartRedis(t)
	latestSeesForeignWrites(t, func() rueidis.Client { return client(t, srv.Addr) })

	// A foreign value, once judged, costs no round trip either.
	c := client(t, srv.Addr)
	reader := redis.NewPriceStore(client(t, srv.Addr))
	set(t, c, "stock1", `{"time": ["090000"], "price": [7]}`)
	p, ok, err := reader.Latest(t.Context(), "stock1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, int64(7), p)
	before := getCalls(t, c)
	for range 1000 {
		_, _, err := reader.Latest(t.Context(), "stock1")
		require.NoError(t, err)
	}
	assert.Less(t, getCalls(t, c)-before, int64(10), "GETs sent for 1000 reads of a foreign price")
}

func TestLatestSeesForeignWritesOnCluster(t *testing.T) {
	addrs := testenv.RedisCluster(t)
	latestSeesForeignWrites(t, func() rueidis.Client { return client(t, addrs...) })
}

func latestSeesForeignWrites(t *testing.T, open func() rueidis.Client) {
	t.Helper()
	foreign := open()
	writer := redis.NewPriceStore(open())
	reader := redis.NewPriceStore(open())
	stores := map[string]*redis.PriceStore{"writer": writer, "reader": reader}
	at := func(minute int) domain.TimeOfDay { return domain.TimeOfDay(9*3600 + 60*minute) }
	eventually := func(stock string, want int64, wantOK bool) {
		t.Helper()
		for name, s := range stores {
			require.Eventually(t, func() bool {
				p, ok, err := s.Latest(t.Context(), stock)
				return err == nil && ok == wantOK && p == want
			}, 2*time.Second, time.Millisecond, "%s: %s: want %d (%v)", name, stock, want, wantOK)
		}
	}
	for _, stock := range []string{"stock1", "stock2", "stock3"} {
		require.NoError(t, writer.Merge(t.Context(), batchOf(domain.Tick{Stock: stock, At: at(0), Price: 1054})))
		eventually(stock, 1054, true) // now cached in both
	}

	require.NoError(t, foreign.Do(t.Context(), foreign.B().Del().Key("stock1").Build()).Error())
	eventually("stock1", 0, false)
	set(t, foreign, "stock2", `{"time":["090000"],"price":[5]}`)
	eventually("stock2", 5, true)
	// Same length, another last price: a length would not tell them apart.
	old := get(t, foreign, "stock3")
	overwritten := strings.ReplaceAll(old, "1054", "1055")
	require.NotEqual(t, old, overwritten)
	require.Len(t, overwritten, len(old))
	set(t, foreign, "stock3", overwritten)
	eventually("stock3", 1055, true)
	set(t, foreign, "stock3", old) // the very value the latest-price key was written with
	eventually("stock3", 1054, true)

	// Merges after foreign writes: the price follows, in both processes.
	for _, stock := range []string{"stock1", "stock2", "stock3"} {
		require.NoError(t, writer.Merge(t.Context(), batchOf(domain.Tick{Stock: stock, At: at(1), Price: 90})))
		eventually(stock, 90, true)
	}
	require.NoError(t, writer.Merge(t.Context(), batchOf(domain.Tick{Stock: "stock2", At: at(2), Price: 91})))
	eventually("stock2", 91, true)
	require.NoError(t, reader.Merge(t.Context(), batchOf(domain.Tick{Stock: "stock2", At: at(3), Price: 92})))
	eventually("stock2", 92, true)
	series, err := writer.Series(t.Context(), "stock2")
	require.NoError(t, err)
	assert.Equal(t, []int64{5, 90, 91, 92}, series.Prices, "the foreign entry is taken as a tick")
}

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
	chans := make([]<-chan []domain.MinuteCandle, watchers)
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
		require.NoError(t, store.Merge(t.Context(), batchOf(domain.Tick{Stock: "stock1", At: 9 * 3600, Price: price})))
		select {
		case <-chans[0]:
			return true
		case <-time.After(20 * time.Millisecond):
			return false
		}
	}, 10*time.Second, time.Millisecond)
	require.NoError(t, store.Merge(t.Context(), batchOf(
		domain.Tick{Stock: "stock1", At: 9*3600 + 61, Price: 7},
		domain.Tick{Stock: "stock1", At: 9*3600 + 62, Price: 9},
	)))
	want := []domain.MinuteCandle{{Minute: 9*3600 + 60, Open: 7, High: 9, Low: 7, Close: 9}}
	for i, ch := range chans {
		var got []domain.MinuteCandle
		for got == nil || got[0].Minute != want[0].Minute {
			select {
			case got = <-ch:
			case <-time.After(time.Second):
				t.Fatalf("watcher %d got no change within a second", i)
			}
		}
		require.Equal(t, want, got, "watcher %d", i)
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
		if err := store.Merge(t.Context(), batchOf(domain.Tick{Stock: "stock1", At: 9*3600 + 600, Price: price})); err != nil {
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

// BenchmarkMergeIntoFullDay merges batches of 100 ticks into a stock whose
// series already spans the whole day (1440 minutes), as a Kafka updater
// does all day: the store remembers the series it wrote, so a batch costs
// one script call and no read or parse of the stored JSON.
func BenchmarkMergeIntoFullDay(b *testing.B) {
	srv := testenv.StartRedis(b)
	c, err := redis.Open([]string{srv.Addr})
	require.NoError(b, err)
	defer c.Close()
	s := redis.NewPriceStore(c)
	day := domain.NewTickBatch()
	for m := range 1440 {
		day.Add(domain.Tick{Stock: "stock1", At: domain.TimeOfDay(m*60 + 7), Price: int64(1000 + m)})
	}
	require.NoError(b, s.Merge(b.Context(), day.Histories()))
	i := 0
	for b.Loop() {
		batch := domain.NewTickBatch()
		for k := range 100 {
			i++
			batch.Add(domain.Tick{Stock: "stock1", At: domain.TimeOfDay((i*37 + k) % domain.SecondsPerDay), Price: int64(1 + i%5000)})
		}
		if err := s.Merge(b.Context(), batch.Histories()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/tick")
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// BenchmarkLatestOfFullDay: the price of a buy in steady state, a full
// day's series cached, in the process that wrote it and in one that only
// reads.
func BenchmarkLatestOfFullDay(b *testing.B) {
	srv := testenv.StartRedis(b)
	open := func() rueidis.Client {
		c, err := redis.Open([]string{srv.Addr})
		require.NoError(b, err)
		b.Cleanup(c.Close)
		return c
	}
	writer, reader := redis.NewPriceStore(open()), redis.NewPriceStore(open())
	day := domain.NewTickBatch()
	for m := range 1440 {
		day.Add(domain.Tick{Stock: "stock1", At: domain.TimeOfDay(m*60 + 7), Price: int64(1000 + m)})
	}
	require.NoError(b, writer.Merge(b.Context(), day.Histories()))
	for name, s := range map[string]*redis.PriceStore{"writer": writer, "reader": reader} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if p, ok, err := s.Latest(b.Context(), "stock1"); err != nil || !ok || p != 2439 {
					b.Fatal(p, ok, err)
				}
			}
		})
	}
}
