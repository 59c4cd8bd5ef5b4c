//go:build integration

package redis_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/domain"
	"stockd/internal/testenv"
)

// Benchmarks of the price store (figures in docs/performance.md):
//
//	go test -tags integration -run '^$' -bench 'Merge|Latest|DayChange' -benchtime 3x ./adapters/redis/

func benchClient(b *testing.B) rueidis.Client {
	c, err := redis.Open([]string{testenv.StartRedis(b).Addr})
	require.NoError(b, err)
	b.Cleanup(c.Close)
	return c
}

// fullDay is a day of stock with a tick in each of its 1440 minutes.
func fullDay(stock string, d domain.Day, base int64) map[string]domain.DayHistories {
	batch := domain.NewTickBatch()
	for m := range 1440 {
		batch.Add(tick(stock, d, domain.TimeOfDay(m*60+7), base+int64(m)))
	}
	return batch.Histories()
}

// BenchmarkMergeIntoFullDay merges batches of 100 ticks into a stock whose
// latest series already spans the whole day (1440 minutes), as a Kafka
// updater does all day: the store remembers the series it wrote, so a
// batch costs one script call and no read or parse of the stored JSON.
func BenchmarkMergeIntoFullDay(b *testing.B) {
	s := redis.NewPriceStore(benchClient(b))
	require.NoError(b, s.Merge(b.Context(), fullDay("stock1", day, 1000)))
	i := 0
	for b.Loop() {
		batch := domain.NewTickBatch()
		for k := range 100 {
			i++
			batch.Add(tick("stock1", day, domain.TimeOfDay((i*37+k)%domain.SecondsPerDay), int64(1+i%5000)))
		}
		if err := s.Merge(b.Context(), batch.Histories()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/tick")
}

// BenchmarkDayChange is what a day costs a stock whose latest day is full
// (1440 minutes), one merge of one tick each:
//   - same-day: a tick of the latest day (the steady state, for scale);
//   - rollover: a tick of a new day, which moves the full day to its key
//     (its JSON sent once more, with EXPIREAT and the index) and starts the
//     new day; each iteration is a new day;
//   - late: a tick of the earlier full day, which reads that day's key,
//     parses it and writes it back.
func BenchmarkDayChange(b *testing.B) {
	c := benchClient(b)
	b.Run("same-day", func(b *testing.B) {
		s := redis.NewPriceStore(c)
		require.NoError(b, s.Merge(b.Context(), fullDay("same", day, 1000)))
		i := 0
		for b.Loop() {
			i++
			if err := s.Merge(b.Context(), batchOf(tick("same", day, domain.TimeOfDay(i%domain.SecondsPerDay), int64(1+i%5000)))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rollover", func(b *testing.B) {
		s := redis.NewPriceStore(c, redis.WithHistoryDays(3650))
		stock := testenv.UniqueName("roll")
		d := day
		for b.Loop() {
			b.StopTimer()
			require.NoError(b, s.Merge(b.Context(), fullDay(stock, d, 1000))) // the latest day full again
			d = d.AddDays(1)
			b.StartTimer()
			if err := s.Merge(b.Context(), batchOf(tick(stock, d, 9*3600, 5))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("late", func(b *testing.B) {
		s := redis.NewPriceStore(c)
		require.NoError(b, s.Merge(b.Context(), fullDay("late", day, 1000)))
		require.NoError(b, s.Merge(b.Context(), batchOf(tick("late", day.AddDays(1), 9*3600, 5))))
		i := 0
		for b.Loop() {
			i++
			if err := s.Merge(b.Context(), batchOf(tick("late", day, domain.TimeOfDay(i%domain.SecondsPerDay), int64(1+i%5000)))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMergeManyDays is the Redis half of issue 15's ingest target:
// 10M ticks over 20 days of 50 stocks, folded in one batch as the CSV
// source does, merged into an empty Redis (flushed between iterations): a
// latest day and 19 earlier days per stock, every day's 1440 minutes.
// Building the batch (parsing, in the real path) is not measured here;
// `make loadtest` measures the whole of `stockd update`.
func BenchmarkMergeManyDays(b *testing.B) {
	const stocks, days, ticks = 50, 20, 10_000_000
	c := benchClient(b)
	batch := domain.NewTickBatch()
	for i := range ticks {
		stock := "stock" + fmt.Sprint(i%stocks)
		d := day.AddDays(-(i / stocks % days))
		batch.Add(tick(stock, d, domain.TimeOfDay((i*7919)%domain.SecondsPerDay), int64(1+(i*31)%5000)))
	}
	for b.Loop() {
		b.StopTimer()
		require.NoError(b, c.Do(b.Context(), c.B().Flushall().Build()).Error())
		s := redis.NewPriceStore(c)
		b.StartTimer()
		if err := s.Merge(b.Context(), batch.Histories()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ticks)*float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
}

// BenchmarkMergeMarketDay is the store half of a market day's CSV (issue
// 25): 10,000 stocks x 390 minutes x 2 ticks, one batch, into an empty
// Redis.
func BenchmarkMergeMarketDay(b *testing.B) {
	const stocks, minutes = 10_000, 390
	c := benchClient(b)
	batch := domain.NewTickBatch()
	for m := range minutes {
		for i := range stocks {
			at := domain.TimeOfDay(9*3600 + 30*60 + m*60)
			batch.Add(tick("stock"+strconv.Itoa(i), day, at+7, int64(1+(i*31+m)%5000)))
			batch.Add(tick("stock"+strconv.Itoa(i), day, at+41, int64(1+(i*37+m)%5000)))
		}
	}
	for b.Loop() {
		b.StopTimer()
		require.NoError(b, c.Do(b.Context(), c.B().Flushall().Build()).Error())
		s := redis.NewPriceStore(c)
		b.StartTimer()
		if err := s.Merge(b.Context(), batch.Histories()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(stocks*minutes*2)*float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
}

// BenchmarkMergeKafkaBatches is the Redis half of Kafka -> Redis: batches
// of 100,000 ticks (the updater's largest) of 50 stocks, one day's ticks
// spread over its minutes, merged one after another; "two-days" moves to
// the next day halfway, so that one batch in twenty straddles midnight and
// rolls every stock over; "market" is one day of 10,000 stocks (issue
// 25), where every batch touches nearly every stock.
func BenchmarkMergeKafkaBatches(b *testing.B) {
	const perBatch = 100_000
	for _, bc := range []struct {
		name   string
		stocks int
	}{{"one-day", 50}, {"two-days", 50}, {"market", 10_000}, {"market-late", 10_000}} {
		b.Run(bc.name, func(b *testing.B) {
			s := redis.NewPriceStore(benchClient(b))
			i := 0
			if bc.name == "market-late" {
				// Late in a market's day: 380 minutes of every stock
				// written, the batches after them.
				prefill := domain.NewTickBatch()
				for m := range 380 {
					for k := range bc.stocks {
						prefill.Add(tick("stock"+strconv.Itoa(k), day, domain.TimeOfDay(9*3600+m*60+7), int64(1+(k+m)%5000)))
					}
				}
				require.NoError(b, s.Merge(b.Context(), prefill.Histories()))
				i = 380 * 60 * 10_000
			}
			for b.Loop() {
				batch := domain.NewTickBatch()
				for range perBatch {
					i++
					d := day
					if bc.name == "two-days" {
						d = day.AddDays(i / (10 * perBatch))
					}
					// A market day's ticks advance a second every 10,000.
					at := domain.TimeOfDay((i / bc.stocks) % domain.SecondsPerDay)
					if bc.stocks > 50 {
						at = domain.TimeOfDay(9*3600 + (i/10_000)%(7*3600))
					}
					batch.Add(tick("stock"+strconv.Itoa(i%bc.stocks), d, at, int64(1+(i*31)%5000)))
				}
				if err := s.Merge(b.Context(), batch.Histories()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(perBatch)*float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
		})
	}
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
	require.NoError(b, writer.Merge(b.Context(), fullDay("stock1", day, 1000)))
	for name, s := range map[string]*redis.PriceStore{"writer": writer, "reader": reader} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if q, ok, err := s.Latest(b.Context(), "stock1"); err != nil || !ok || q.Price != 2439 {
					b.Fatal(q, ok, err)
				}
			}
		})
	}
}
