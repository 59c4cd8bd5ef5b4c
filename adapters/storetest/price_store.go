package storetest

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/ports"
)

// suiteDay is the first trading day of the cases that are not about
// expiry: two days after today (UTC), so that no store, whatever its
// PRICE_HISTORY_DAYS (at least 1) and zone (within ±14 h of UTC), may
// already consider any day of a case past keeping.
func suiteDay() domain.Day { return domain.DayOf(time.Now().UTC()).AddDays(2) }

// PriceStore runs the contract of ports.PriceStore. newStore returns a
// store with no series for the stocks named by the suite (names it makes
// unique). The store may keep earlier days for any PRICE_HISTORY_DAYS: the
// days used here are in the future. See PriceStoreExpiry and
// PriceStoreUndated for the cases that need more of the store.
func PriceStore(t *testing.T, newStore func(t *testing.T) ports.PriceStore) {
	day := suiteDay()

	t.Run("unknown stock has an empty series of no day, and no days", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		got, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)
		assert.Equal(t, 0, got.Len())
		assert.NotNil(t, got.Minutes())
		assert.True(t, got.Day().IsZero())
		days, err := s.Days(t.Context(), stock)
		require.NoError(t, err)
		assert.Empty(t, days)
		_, err = s.Series(t.Context(), stock, day)
		require.ErrorIs(t, err, ports.ErrDayNotFound)
	})

	t.Run("latest is the last minute's close of the latest day, and follows merges", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		_, ok, err := s.Latest(t.Context(), stock)
		require.NoError(t, err)
		assert.False(t, ok, "no price yet")
		for _, step := range []struct {
			at    domain.TimeOfDay
			price int64
			want  domain.Quote
		}{
			{9*3600 + 30, 100, domain.Quote{Day: day, At: 9*3600 + 30, Price: 100}},
			{9*3600 + 90, 120, domain.Quote{Day: day, At: 9*3600 + 90, Price: 120}}, // a later minute
			{9*3600 + 10, 90, domain.Quote{Day: day, At: 9*3600 + 90, Price: 120}},  // an earlier minute changes nothing at the end
			{9*3600 + 95, 130, domain.Quote{Day: day, At: 9*3600 + 95, Price: 130}}, // a later tick of the last minute
		} {
			mergeTicks(t, s, mustTick(stock, day, step.at, step.price))
			got, ok, err := s.Latest(t.Context(), stock)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, step.want, got)
		}
	})

	t.Run("batches in any order and repeated give the one series", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		r := rand.New(rand.NewPCG(11, 12))
		ticks := distinctTicks(r, stock, day, 300)
		want := seriesOf(ticks, day)
		r.Shuffle(len(ticks), func(i, j int) { ticks[i], ticks[j] = ticks[j], ticks[i] })
		for i := 0; i < len(ticks); {
			n := min(1+r.IntN(60), len(ticks)-i)
			b := batchOf(ticks[i : i+n]...)
			require.NoError(t, s.Merge(t.Context(), b))
			require.NoError(t, s.Merge(t.Context(), b), "a redelivered batch")
			i += n
		}
		got, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)
		assert.True(t, want.Equal(got), "got %v\nwant %v", got, want)
	})

	t.Run("same-second ticks and candles: any order, any split, re-applied, one series", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		r := rand.New(rand.NewPCG(15, 16))
		var ticks []domain.Tick
		for range 300 {
			at := domain.TimeOfDay(9*3600 + r.IntN(600)) // many ticks share a second
			ticks = append(ticks, mustTick(stock, day, at, 1+r.Int64N(50)))
		}
		want := seriesOf(ticks, day)
		for round := range 3 {
			r.Shuffle(len(ticks), func(i, j int) { ticks[i], ticks[j] = ticks[j], ticks[i] })
			for i := 0; i < len(ticks); {
				n := min(1+r.IntN(40), len(ticks)-i)
				require.NoError(t, s.Merge(t.Context(), batchOf(ticks[i:i+n]...)))
				i += n
			}
			got, err := s.Series(t.Context(), stock, day)
			require.NoError(t, err)
			require.True(t, want.Equal(got), "round %d: got %v\nwant %v", round, got, want)
			require.NotEmpty(t, got.Highs(), "the series carries candles")
		}
	})

	t.Run("concurrent merges of one stock lose nothing", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		r := rand.New(rand.NewPCG(13, 14))
		ticks := distinctTicks(r, stock, day, 400)
		mergeConcurrently(t, s, ticks, 8, 5)
		got, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)
		want := seriesOf(ticks, day)
		assert.True(t, want.Equal(got), "got %v\nwant %v", got, want)
	})

	t.Run("many stocks in one batch", func(t *testing.T) {
		s := newStore(t)
		var ticks []domain.Tick
		var names []string
		for i := range 20 {
			name := uniqueKey("stock")
			names = append(names, name)
			ticks = append(ticks, mustTick(name, day, domain.TimeOfDay(9*3600+i), int64(i+1)))
		}
		mergeTicks(t, s, ticks...)
		for i, name := range names {
			got, err := s.Series(t.Context(), name, 0)
			require.NoError(t, err)
			p, ok := got.Latest()
			require.True(t, ok)
			assert.Equal(t, int64(i+1), p)
			assert.Equal(t, day, got.Day())
		}
	})

	t.Run("the quotes of many stocks in one call, in the order asked, each as Latest says", func(t *testing.T) {
		s := newStore(t)
		// Enough stocks to spread over every slot range of a cluster, and
		// every other one without a price.
		names := make([]string, 600)
		var ticks []domain.Tick
		for i := range names {
			names[i] = uniqueKey("stock")
			if i%2 == 0 {
				ticks = append(ticks, mustTick(names[i], day, domain.TimeOfDay(9*3600+i), int64(i+1)))
			}
		}
		// One stock of a later day too, and one asked twice.
		ticks = append(ticks, mustTick(names[0], day.AddDays(1), 10*3600, 7))
		mergeTicks(t, s, ticks...)
		asked := append(slices.Clone(names), names[2])
		quotes, err := s.LatestQuotes(t.Context(), asked)
		require.NoError(t, err)
		require.Len(t, quotes, len(asked))
		for i, name := range asked {
			want, ok, err := s.Latest(t.Context(), name)
			require.NoError(t, err)
			if !ok {
				assert.Equal(t, domain.Quote{}, quotes[i], "%s has no price", name)
				continue
			}
			assert.Equal(t, want, quotes[i], name)
		}
		assert.Equal(t, domain.Quote{Day: day.AddDays(1), At: 10 * 3600, Price: 7}, quotes[0])
		assert.Equal(t, domain.Quote{Day: day, At: 9*3600 + 2, Price: 3}, quotes[2])
		none, err := s.LatestQuotes(t.Context(), nil)
		require.NoError(t, err)
		assert.Empty(t, none)
	})

	t.Run("days: a later day becomes the latest, and the former latest moves to its day", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		d1, d2 := day, day.AddDays(1)
		// The second morning: 09:00:05 of day 2 is later than
		// 09:59:56 of day 1, though earlier in its day.
		mergeTicks(t, s, mustTick(stock, d1, 9*3600+59*60+56, 1124))
		mergeTicks(t, s, mustTick(stock, d2, 9*3600+5, 5000))
		q, ok, err := s.Latest(t.Context(), stock)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, domain.Quote{Day: d2, At: 9*3600 + 5, Price: 5000}, q)

		latest, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)
		assert.Equal(t, d2, latest.Day())
		assert.Equal(t, []int64{5000}, latest.Closes(), "the new day starts afresh")
		same, err := s.Series(t.Context(), stock, d2)
		require.NoError(t, err)
		assert.True(t, latest.Equal(same), "the latest day asked by its date is the latest series")

		first, err := s.Series(t.Context(), stock, d1)
		require.NoError(t, err)
		assert.Equal(t, d1, first.Day())
		assert.Equal(t, []domain.TimeOfDay{9*3600 + 59*60}, first.Minutes())
		assert.Equal(t, []int64{1124}, first.Closes())

		assertDays(t, s, stock, d1, d2)
		_, err = s.Series(t.Context(), stock, d2.AddDays(1))
		require.ErrorIs(t, err, ports.ErrDayNotFound)
	})

	t.Run("days: a late tick goes to its day and changes neither the latest series nor the price", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		d0, d1, d2 := day, day.AddDays(1), day.AddDays(2)
		mergeTicks(t, s, mustTick(stock, d1, 9*3600, 10))
		mergeTicks(t, s, mustTick(stock, d2, 9*3600, 20))
		before, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)

		// Late: day 1 at a later time of day than day 2's last tick, and
		// day 0, a day never seen.
		mergeTicks(t, s,
			mustTick(stock, d1, 10*3600, 11),
			mustTick(stock, d0, 11*3600, 1))
		q, _, err := s.Latest(t.Context(), stock)
		require.NoError(t, err)
		assert.Equal(t, domain.Quote{Day: d2, At: 9 * 3600, Price: 20}, q)
		after, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)
		assert.True(t, before.Equal(after), "the latest series is unchanged")

		late, err := s.Series(t.Context(), stock, d1)
		require.NoError(t, err)
		assert.Equal(t, int64(11), late.Closes()[len(late.Closes())-1])
		assert.Equal(t, 61, late.Len(), "09:00 to 10:00 of day 1")
		assertDays(t, s, stock, d0, d1, d2)
	})

	t.Run("days: one batch of several days rolls over and fills earlier days at once", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		d1, d2, d3 := day, day.AddDays(1), day.AddDays(2)
		mergeTicks(t, s, mustTick(stock, d2, 9*3600, 20))
		mergeTicks(t, s,
			mustTick(stock, d1, 9*3600, 10),
			mustTick(stock, d2, 9*3600+60, 21),
			mustTick(stock, d3, 8*3600, 30))
		assertDays(t, s, stock, d1, d2, d3)
		moved, err := s.Series(t.Context(), stock, d2)
		require.NoError(t, err)
		assert.Equal(t, []int64{20, 21}, moved.Closes(), "day 2 moved with the batch's day-2 tick in it")
		q, _, err := s.Latest(t.Context(), stock)
		require.NoError(t, err)
		assert.Equal(t, domain.Quote{Day: d3, At: 8 * 3600, Price: 30}, q)
	})

	t.Run("days: any order, repetition and split over many days, merged concurrently, give the same days", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		r := rand.New(rand.NewPCG(17, 18))
		const days = 6
		var ticks []domain.Tick
		for d := range days {
			ticks = append(ticks, distinctTicks(r, stock, day.AddDays(d), 60)...)
		}
		r.Shuffle(len(ticks), func(i, j int) { ticks[i], ticks[j] = ticks[j], ticks[i] })
		// Every tick once concurrently, then a redelivered random half.
		mergeConcurrently(t, s, ticks, 8, 7)
		mergeConcurrently(t, s, ticks[:len(ticks)/2], 4, 11)

		want := make([]domain.Day, days)
		for d := range days {
			want[d] = day.AddDays(d)
			var ofDay []domain.Tick
			for _, tk := range ticks {
				if tk.Day() == want[d] {
					ofDay = append(ofDay, tk)
				}
			}
			got, err := s.Series(t.Context(), stock, want[d])
			require.NoError(t, err)
			w := seriesOf(ofDay, want[d])
			assert.True(t, w.Equal(got), "day %v: got %v\nwant %v", want[d], got, w)
		}
		assertDays(t, s, stock, want...)
		latest, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)
		assert.Equal(t, want[days-1], latest.Day())
		q, _, err := s.Latest(t.Context(), stock)
		require.NoError(t, err)
		wq, _ := latest.Quote()
		assert.Equal(t, wq, q)
	})
}

// PriceStoreExpiry runs the cases of PRICE_HISTORY_DAYS on a store that
// judges days by the real clock: keeping(t, keepDays) returns an empty
// store that keeps an earlier day keepDays full days after it ends, in
// zone.
func PriceStoreExpiry(t *testing.T, zone *time.Location, keeping func(t *testing.T, keepDays int) ports.PriceStore) {
	t.Run("an earlier day past keeping is dropped, the latest day never", func(t *testing.T) {
		s := keeping(t, 2)
		stock := uniqueKey("stock")
		// Days far from any boundary of today: long gone, kept at least
		// a day more, and tomorrow.
		today := domain.DayOf(time.Now().In(zone))
		gone, kept, next := today.AddDays(-10), today.AddDays(-1), today.AddDays(1)

		mergeTicks(t, s, mustTick(stock, gone, 9*3600, 1))
		latest, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)
		assert.Equal(t, gone, latest.Day(), "the latest day is kept however old")
		assertDays(t, s, stock, gone)

		mergeTicks(t, s, mustTick(stock, next, 9*3600, 3))
		assertDays(t, s, stock, next)
		_, err = s.Series(t.Context(), stock, gone)
		require.ErrorIs(t, err, ports.ErrDayNotFound, "the former latest moved past keeping")

		mergeTicks(t, s,
			mustTick(stock, gone, 10*3600, 5),
			mustTick(stock, kept, 10*3600, 2))
		assertDays(t, s, stock, kept, next)
		_, err = s.Series(t.Context(), stock, gone)
		require.ErrorIs(t, err, ports.ErrDayNotFound, "a late tick past keeping is dropped")
		q, _, err := s.Latest(t.Context(), stock)
		require.NoError(t, err)
		assert.Equal(t, domain.Quote{Day: next, At: 9 * 3600, Price: 3}, q)
	})
}

// PriceStoreUndated runs the cases of a series without a date (written
// before ticks had dates, or by another program): writeUndated puts
// series, with no date, under stock's own key of s, as such a program
// would.
func PriceStoreUndated(t *testing.T, newStore func(t *testing.T) ports.PriceStore, writeUndated func(t *testing.T, s ports.PriceStore, stock string, series domain.MinuteSeries)) {
	day := suiteDay()
	undated := domain.SeriesFromStored(domain.StoredSeries{Minutes: []domain.TimeOfDay{9 * 3600, 9*3600 + 60}, Closes: []int64{10, 11}})

	t.Run("an undated series is served, of no day", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		writeUndated(t, s, stock, undated)
		got, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)
		assert.True(t, got.Day().IsZero())
		assert.Equal(t, []int64{10, 11}, got.Closes())
		q, ok, err := s.Latest(t.Context(), stock)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, domain.Quote{At: 9*3600 + 60, Price: 11}, q)
		assertDays(t, s, stock)
	})

	t.Run("an undated series takes the day of the first merge into it", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		writeUndated(t, s, stock, undated)
		mergeTicks(t, s, mustTick(stock, day, 9*3600+120, 12))
		got, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)
		assert.Equal(t, day, got.Day())
		assert.Equal(t, []int64{10, 11, 12}, got.Closes())
		assertDays(t, s, stock, day)
	})

	t.Run("an undated series takes the earliest day of a batch of several, and moves there", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		writeUndated(t, s, stock, undated)
		d1, d2 := day, day.AddDays(1)
		mergeTicks(t, s,
			mustTick(stock, d2, 9*3600, 20),
			mustTick(stock, d1, 9*3600+120, 12))
		assertDays(t, s, stock, d1, d2)
		first, err := s.Series(t.Context(), stock, d1)
		require.NoError(t, err)
		assert.Equal(t, []int64{10, 11, 12}, first.Closes())
		latest, err := s.Series(t.Context(), stock, 0)
		require.NoError(t, err)
		assert.Equal(t, d2, latest.Day())
		assert.Equal(t, []int64{20}, latest.Closes())
	})
}

func assertDays(t *testing.T, s ports.PriceStore, stock string, want ...domain.Day) {
	t.Helper()
	days, err := s.Days(t.Context(), stock)
	require.NoError(t, err)
	if want == nil {
		want = []domain.Day{}
	}
	if days == nil {
		days = []domain.Day{}
	}
	assert.Equal(t, want, days, "days of %s, ascending", stock)
}

func batchOf(ticks ...domain.Tick) map[string]domain.DayHistories {
	b := domain.NewTickBatch()
	for _, tk := range ticks {
		b.Add(tk)
	}
	return b.Histories()
}

func mergeTicks(t *testing.T, s ports.PriceStore, ticks ...domain.Tick) {
	t.Helper()
	require.NoError(t, s.Merge(t.Context(), batchOf(ticks...)))
}

// mergeConcurrently merges ticks from workers goroutines at once, worker w
// taking chunks w, w+workers, ... of chunk ticks: together they apply
// every tick exactly once.
func mergeConcurrently(t *testing.T, s ports.PriceStore, ticks []domain.Tick, workers, chunk int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w * chunk; i < len(ticks); i += workers * chunk {
				if err := s.Merge(t.Context(), batchOf(ticks[i:min(i+chunk, len(ticks))]...)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// seriesOf is the series of day that a store given ticks, in any order,
// must hold.
func seriesOf(ticks []domain.Tick, day domain.Day) domain.MinuteSeries {
	h := domain.NewPriceHistory()
	for _, tk := range ticks {
		h.Record(tk.At(), tk.Price())
	}
	s := h.Series()
	s = s.OnDay(day)
	return s
}

func distinctTicks(r *rand.Rand, stock string, day domain.Day, n int) []domain.Tick {
	perm := r.Perm(3600)[:n]
	ticks := make([]domain.Tick, n)
	for i, s := range perm {
		ticks[i] = mustTick(stock, day, domain.TimeOfDay(9*3600+s), 1+r.Int64N(5000))
	}
	return ticks
}
