//go:build integration

package redis_test

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/adapters/storetest"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

// priceStoreContract runs the price store's contracts on c (a single
// server or a three-master cluster, where no command of a merge may span
// two slots): the suite, days past keeping in a zone far from UTC, and
// series written without a date by another program.
func priceStoreContract(t *testing.T, c rueidis.Client) {
	storetest.PriceStore(t, func(*testing.T) ports.PriceStore { return redis.NewPriceStore(c) })
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	storetest.PriceStoreExpiry(t, tokyo, func(t *testing.T, keepDays int) ports.PriceStore {
		return redis.NewPriceStore(c, redis.WithTimezone(tokyo), redis.WithHistoryDays(keepDays))
	})
	storetest.PriceStoreUndated(t, func(*testing.T) ports.PriceStore { return redis.NewPriceStore(c) },
		func(t *testing.T, _ ports.PriceStore, stock string, series domain.MinuteSeries) {
			times := make([]string, series.Len())
			for i, m := range series.Minutes() {
				times[i] = m.String()
			}
			raw, err := json.Marshal(map[string]any{"time": times, "price": series.Closes()})
			require.NoError(t, err)
			set(t, c, stock, string(raw))
		})
}

// day is the first day of the cases here: in the future, so that no day
// of a case is past keeping.
var day = domain.DayOf(time.Now().UTC()).AddDays(2)

// tick builds a tick through domain.NewTick; a bad one is a bug of the test.
func tick(stock string, d domain.Day, at domain.TimeOfDay, price int64) domain.Tick {
	t, err := domain.NewTick(stock, d, at, price)
	if err != nil {
		panic(err)
	}
	return t
}

func batchOf(ticks ...domain.Tick) map[string]domain.DayHistories {
	b := domain.NewTickBatch()
	for _, tk := range ticks {
		b.Add(tk)
	}
	return b.Histories()
}

// TestCandleFormat pins the stored candle arrays, the date and the
// latest-quote key, and upgrades in place a series written before candles
// and dates existed.
func TestCandleFormat(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	s := redis.NewPriceStore(c)
	// Written by an earlier version: close times, no candle arrays, no date.
	set(t, c, "stock1", `{"time": ["090000", "090100"], "price": [10, 11], "close_time": ["090020", "090110"], "note": {"a": 1}}`)
	require.NoError(t, s.Merge(t.Context(), batchOf(
		tick("stock1", day, 9*3600+5, 30),   // opens 09:00, before its close
		tick("stock1", day, 9*3600+20, 5),   // same second as the close, lower: opens nothing, closes nothing
		tick("stock1", day, 9*3600+200, 12), // 09:03:20; 09:02 carried
	)))
	var stored map[string]any
	require.NoError(t, json.Unmarshal([]byte(get(t, c, "stock1")), &stored))
	assert.Equal(t, day.String(), stored["date"], "the undated series took the day of the ticks")
	assert.Equal(t, []any{"090000", "090100", "090200", "090300"}, stored["time"])
	assert.Equal(t, []any{10.0, 11.0, 11.0, 12.0}, stored["price"])
	assert.Equal(t, []any{30.0, 11.0, 11.0, 12.0}, stored["open"])
	assert.Equal(t, []any{30.0, 11.0, 11.0, 12.0}, stored["high"])
	assert.Equal(t, []any{5.0, 11.0, 11.0, 12.0}, stored["low"])
	assert.Equal(t, []any{"090020", "090110", nil, "090320"}, stored["close_time"])
	assert.Equal(t, []any{"090005", "090110", nil, "090320"}, stored["open_time"])
	assert.Equal(t, map[string]any{"a": 1.0}, stored["note"], "other fields are kept")
	assert.Equal(t, day.String()+" 090320 12", get(t, c, "stockd:last:{stock1}"))

	// Re-applying the same ticks, in another process, changes no byte.
	before := get(t, c, "stock1")
	require.NoError(t, redis.NewPriceStore(client(t, srv.Addr)).Merge(t.Context(), batchOf(
		tick("stock1", day, 9*3600+200, 12),
		tick("stock1", day, 9*3600+5, 30),
	)))
	assert.Equal(t, before, get(t, c, "stock1"))
}

// TestDayKeys pins the keys of days: a rollover moves the latest series,
// other fields and all, to stockd:day:{stock}:YYYY-MM-DD, which expires at
// the start (in APP_TIMEZONE) of the day PRICE_HISTORY_DAYS + 1 after it,
// and lists it in stockd:days:{stock} scored by that instant; the stock's
// key starts the new day and keeps its other fields; a late tick goes to
// its own day's key, and leaves the stock's key and the quote alone.
func TestDayKeys(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	s := redis.NewPriceStore(c, redis.WithTimezone(tokyo), redis.WithHistoryDays(3))
	d1, d2, d3 := day, day.AddDays(1), day.AddDays(2)
	set(t, c, "stock1", `{"time": ["090000"], "price": [10], "date": "`+d1.String()+`", "note": "kept"}`)
	require.NoError(t, s.Merge(t.Context(), batchOf(tick("stock1", d2, 9*3600+5, 20))))

	d1Key := "stockd:day:{stock1}:" + d1.String()
	var moved, latest map[string]any
	require.NoError(t, json.Unmarshal([]byte(get(t, c, d1Key)), &moved))
	assert.Equal(t, d1.String(), moved["date"])
	assert.Equal(t, []any{10.0}, moved["price"])
	assert.Equal(t, "kept", moved["note"])
	require.NoError(t, json.Unmarshal([]byte(get(t, c, "stock1")), &latest))
	assert.Equal(t, d2.String(), latest["date"])
	assert.Equal(t, []any{20.0}, latest["price"])
	assert.Equal(t, "kept", latest["note"], "the stock's key keeps its other fields")
	assert.Equal(t, d2.String()+" 090005 20", get(t, c, "stockd:last:{stock1}"))

	y, m, dd := d1.Date()
	wantExpiry := time.Date(y, m, dd+4, 0, 0, 0, 0, tokyo).Unix()
	expiry, err := c.Do(t.Context(), c.B().Expiretime().Key(d1Key).Build()).AsInt64()
	require.NoError(t, err)
	assert.Equal(t, wantExpiry, expiry)
	index, err := c.Do(t.Context(), c.B().Zrange().Key("stockd:days:{stock1}").Min("0").Max("-1").Withscores().Build()).AsZScores()
	require.NoError(t, err)
	require.Len(t, index, 1)
	assert.Equal(t, d1.String(), index[0].Member)
	assert.Equal(t, float64(wantExpiry), index[0].Score)
	ttl, err := c.Do(t.Context(), c.B().Ttl().Key("stock1").Build()).AsInt64()
	require.NoError(t, err)
	assert.Equal(t, int64(-1), ttl, "the latest series never expires")

	latestBefore := get(t, c, "stock1")
	require.NoError(t, s.Merge(t.Context(), batchOf(tick("stock1", d1, 10*3600, 11), tick("stock1", d3.AddDays(-3), 9*3600, 1))))
	assert.Equal(t, latestBefore, get(t, c, "stock1"), "a late tick leaves the latest series")
	assert.Equal(t, d2.String()+" 090005 20", get(t, c, "stockd:last:{stock1}"))
	require.NoError(t, json.Unmarshal([]byte(get(t, c, d1Key)), &moved))
	prices := moved["price"].([]any)
	assert.Equal(t, 11.0, prices[len(prices)-1], "the late tick is in its day")
	days, err := s.Days(t.Context(), "stock1")
	require.NoError(t, err)
	assert.Equal(t, []domain.Day{d3.AddDays(-3), d1, d2}, days)

	// A reader whose clock is past every earlier day's expiry lists none,
	// though Redis (by its own clock) still holds them.
	later := redis.NewPriceStore(c, redis.WithTimezone(tokyo), redis.WithHistoryDays(3), redis.WithClock(fixedClock(time.Now().AddDate(0, 0, 30))))
	days, err = later.Days(t.Context(), "stock1")
	require.NoError(t, err)
	assert.Equal(t, []domain.Day{d2}, days)
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestMergeSeesOtherWriters: a store that remembers the series it wrote
// still merges with what another writer put there meanwhile, in the latest
// day and in an earlier one.
func TestMergeSeesOtherWriters(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	a, b := redis.NewPriceStore(c), redis.NewPriceStore(client(t, srv.Addr))
	require.NoError(t, a.Merge(t.Context(), batchOf(tick("stock1", day, 9*3600, 10))))
	require.NoError(t, b.Merge(t.Context(), batchOf(tick("stock1", day, 9*3600+60, 20))))
	require.NoError(t, a.Merge(t.Context(), batchOf(tick("stock1", day, 9*3600+120, 30))))
	got, err := a.Series(t.Context(), "stock1", 0)
	require.NoError(t, err)
	assert.Equal(t, []int64{10, 20, 30}, got.Closes())

	// b rolls the stock over; a, which still remembers day 1 as the
	// latest, merges a tick of day 1: it goes to day 1's key.
	require.NoError(t, b.Merge(t.Context(), batchOf(tick("stock1", day.AddDays(1), 9*3600, 40))))
	require.NoError(t, a.Merge(t.Context(), batchOf(tick("stock1", day, 9*3600+180, 35))))
	got, err = a.Series(t.Context(), "stock1", day)
	require.NoError(t, err)
	assert.Equal(t, []int64{10, 20, 30, 35}, got.Closes())
	q, _, err := a.Latest(t.Context(), "stock1")
	require.NoError(t, err)
	assert.Equal(t, domain.Quote{Day: day.AddDays(1), At: 9 * 3600, Price: 40}, q)

	// A foreign writer replaces the value: it is read again, its entries
	// taken as ticks, of its date.
	set(t, c, "stock1", `{"time": ["090500"], "price": [50], "date": "`+day.AddDays(1).String()+`"}`)
	require.NoError(t, a.Merge(t.Context(), batchOf(tick("stock1", day.AddDays(1), 9*3600+360, 60))))
	got, err = a.Series(t.Context(), "stock1", 0)
	require.NoError(t, err)
	assert.Equal(t, []int64{50, 60}, got.Closes())
}

// TestOwnWriteOnNextCall: a process that just wrote reads its own write on
// its very next call, with no waiting, through the client-side cache
// alone: the store and another store on the same client (what a process
// that both ingests and serves holds), on a single server and a cluster,
// across day rollovers. The cache of every read is warm before each write,
// so a stale cached value would be seen.
func TestOwnWriteOnNextCall(t *testing.T) {
	single := client(t, testenv.StartRedis(t).Addr)
	cluster := client(t, testenv.RedisCluster(t)...)
	for name, c := range map[string]rueidis.Client{"single": single, "cluster": cluster} {
		t.Run(name, func(t *testing.T) {
			writer := redis.NewPriceStore(c)
			sibling := redis.NewPriceStore(c)
			for _, stock := range []string{"stock1", "stock2", "stock3"} {
				for i := range 200 {
					d := day.AddDays(i / 50)
					at := domain.TimeOfDay(9*3600 + i%50*60 + 7)
					price := int64(1000 + i)
					for _, s := range []*redis.PriceStore{writer, sibling} {
						_, _, err := s.Latest(t.Context(), stock)
						require.NoError(t, err)
						_, err = s.Series(t.Context(), stock, 0)
						require.NoError(t, err)
					}
					require.NoError(t, writer.Merge(t.Context(), batchOf(tick(stock, d, at, price))))
					want := domain.Quote{Day: d, At: at, Price: price}
					for sname, s := range map[string]*redis.PriceStore{"writer": writer, "sibling": sibling} {
						q, ok, err := s.Latest(t.Context(), stock)
						require.NoError(t, err)
						require.True(t, ok)
						require.Equal(t, want, q, "%s: %s write %d", sname, stock, i)
						series, err := s.Series(t.Context(), stock, 0)
						require.NoError(t, err)
						got, _ := series.Quote()
						require.Equal(t, want, got, "%s: %s series after write %d", sname, stock, i)
					}
				}
			}
		})
	}
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
		for i, price := range []int64{100, 120, 90, 95} {
			d := day.AddDays(i / 3) // the last write starts a new day
			at := domain.TimeOfDay(9*3600 + 60*i)
			require.NoError(t, writer.Merge(t.Context(), batchOf(tick(stock, d, at, price))))
			want := domain.Quote{Day: d, At: at, Price: price}
			require.Eventually(t, func() bool {
				q, ok, err := reader.Latest(t.Context(), stock)
				return err == nil && ok && q == want
			}, 2*time.Second, time.Millisecond, "%s: the reader does not see %v", stock, want)
		}
	}
}

// TestLatestOfAForeignSeries: a series with no latest-quote key (written
// by someone else) is read whole, of its own date if it has one.
func TestLatestOfAForeignSeries(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	set(t, c, "stock1", `{"time": ["090000", "090100"], "price": [10, 11], "date": "2026-03-02"}`)
	q, ok, err := redis.NewPriceStore(c).Latest(t.Context(), "stock1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, domain.Quote{Day: 20260302, At: 9*3600 + 60, Price: 11}, q)
}

// TestLatestOfAnEarlierVersion: stockd:last written before quotes had a
// day held the price alone; with the digest of the very series it was
// written with, it is still not taken for a quote (it says no day and no
// time): the series is read, and the next merge writes a full quote.
func TestLatestOfAnEarlierVersion(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	series := `{"time": ["090000"], "price": [11], "close_time": ["090042"]}`
	set(t, c, "stock1", series)
	set(t, c, "stockd:last:{stock1}", "11")
	sum := sha1.Sum([]byte(series))
	set(t, c, "stockd:last-of:{stock1}", hex.EncodeToString(sum[:]))
	s := redis.NewPriceStore(c)
	q, ok, err := s.Latest(t.Context(), "stock1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, domain.Quote{At: 9*3600 + 42, Price: 11}, q, "an undated series: its close time, no day")
	require.NoError(t, s.Merge(t.Context(), batchOf(tick("stock1", day, 9*3600+30, 10))))
	assert.Equal(t, day.String()+" 090042 11", get(t, c, "stockd:last:{stock1}"))
}

// TestLatestSeesForeignWrites: the latest-quote key is trusted only for
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
	q, ok, err := reader.Latest(t.Context(), "stock1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, int64(7), q.Price)
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
				q, ok, err := s.Latest(t.Context(), stock)
				return err == nil && ok == wantOK && q.Price == want
			}, 2*time.Second, time.Millisecond, "%s: %s: want %d (%v)", name, stock, want, wantOK)
		}
	}
	for _, stock := range []string{"stock1", "stock2", "stock3"} {
		require.NoError(t, writer.Merge(t.Context(), batchOf(tick(stock, day, at(0), 1054))))
		eventually(stock, 1054, true) // now cached in both
	}

	require.NoError(t, foreign.Do(t.Context(), foreign.B().Del().Key("stock1").Build()).Error())
	eventually("stock1", 0, false)
	set(t, foreign, "stock2", `{"time":["090000"],"price":[5],"date":"`+day.String()+`"}`)
	eventually("stock2", 5, true)
	// Same length, another last price: a length would not tell them apart.
	old := get(t, foreign, "stock3")
	overwritten := strings.ReplaceAll(old, "1054", "1055")
	require.NotEqual(t, old, overwritten)
	require.Len(t, overwritten, len(old))
	set(t, foreign, "stock3", overwritten)
	eventually("stock3", 1055, true)
	set(t, foreign, "stock3", old) // the very value the latest-quote key was written with
	eventually("stock3", 1054, true)

	// Merges after foreign writes: the price follows, in both processes.
	for _, stock := range []string{"stock1", "stock2", "stock3"} {
		require.NoError(t, writer.Merge(t.Context(), batchOf(tick(stock, day, at(1), 90))))
		eventually(stock, 90, true)
	}
	require.NoError(t, writer.Merge(t.Context(), batchOf(tick("stock2", day, at(2), 91))))
	eventually("stock2", 91, true)
	require.NoError(t, reader.Merge(t.Context(), batchOf(tick("stock2", day, at(3), 92))))
	eventually("stock2", 92, true)
	series, err := writer.Series(t.Context(), "stock2", 0)
	require.NoError(t, err)
	assert.Equal(t, []int64{5, 90, 91, 92}, series.Closes(), "the foreign entry is taken as a tick")
}
