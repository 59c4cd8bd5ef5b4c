package domain_test

import (
	"math/rand/v2"
	"testing"

	"stockd/domain"
	"stockd/internal/domaintest"
)

func BenchmarkTickBatchAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	ticks := make([]domain.Tick, 1<<16)
	for i := range ticks {
		ticks[i] = domaintest.Tick([]string{"stock1", "stock2", "stock3"}[r.IntN(3)], testDay, domain.TimeOfDay(r.IntN(domain.SecondsPerDay)), 1+r.Int64N(3000))
	}
	batch := domain.NewTickBatch()
	i := 0
	for b.Loop() {
		batch.Add(ticks[i&(len(ticks)-1)])
		i++
	}
}

// BenchmarkTickBatchAddSorted adds ticks in time order, as a CSV file
// sorted by time gives them: three stocks, about a hundred ticks a minute.
func BenchmarkTickBatchAddSorted(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	ticks := make([]domain.Tick, 1<<16)
	for i := range ticks {
		ticks[i] = domaintest.Tick([]string{"stock1", "stock2", "stock3"}[r.IntN(3)], testDay, domain.TimeOfDay(i*domain.SecondsPerDay/len(ticks)), 1+r.Int64N(3000))
	}
	batch := domain.NewTickBatch()
	i := 0
	for b.Loop() {
		batch.Add(ticks[i&(len(ticks)-1)])
		i++
	}
}

// BenchmarkStockDaysMerge merges, into one stock, a batch of a day's
// ticks per iteration, each the day after the last: every merge rolls the
// latest day over, and the former latest moves to its own day.
func BenchmarkStockDaysMerge(b *testing.B) {
	for _, rollover := range []bool{false, true} {
		name := "same-day"
		if rollover {
			name = "new-day-each-merge"
		}
		b.Run(name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			batch := domain.NewTickBatch()
			for range 1000 {
				batch.Add(domaintest.Tick("s", testDay, domain.TimeOfDay(9*3600+r.IntN(3600)), 1+r.Int64N(3000)))
			}
			h := batch.Histories()["s"][testDay]
			s := domain.NewStockDays()
			day := testDay
			for b.Loop() {
				if rollover {
					day = day.AddDays(1)
				}
				s.Merge(domain.DayHistories{day: h}, day.AddDays(-30))
			}
		})
	}
}

// BenchmarkHistoryFromSeries reads back a stored day: 1440 minutes with
// their candles, a third of them carried (no tick of their own).
func BenchmarkHistoryFromSeries(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	h := domain.NewPriceHistory()
	for m := range 1440 {
		if m%3 == 1 {
			continue
		}
		for range 4 {
			h.Record(domain.TimeOfDay(m*60+r.IntN(60)), 1+r.Int64N(3000))
		}
	}
	s := h.Series()
	for b.Loop() {
		if _, err := domain.HistoryFromSeries(s); err != nil {
			b.Fatal(err)
		}
	}
}
