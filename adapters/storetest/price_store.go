package storetest

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/ports"
)

// PriceStore runs the contract of ports.PriceStore. newStore returns a
// store with no series for the stocks named by the suite ("stock1".."stock3"
// or names it makes unique).
func PriceStore(t *testing.T, newStore func(t *testing.T) ports.PriceStore) {
	t.Run("unknown stock has an empty series", func(t *testing.T) {
		s := newStore(t)
		got, err := s.Series(t.Context(), uniqueKey("stock"))
		require.NoError(t, err)
		assert.Equal(t, 0, got.Len())
		assert.NotNil(t, got.Minutes)
	})

	t.Run("latest is the last minute's price, and follows merges", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		_, ok, err := s.Latest(t.Context(), stock)
		require.NoError(t, err)
		assert.False(t, ok, "no price yet")
		for _, step := range []struct {
			at    domain.TimeOfDay
			price int64
			want  int64
		}{
			{9*3600 + 30, 100, 100},
			{9*3600 + 90, 120, 120}, // a later minute
			{9*3600 + 10, 90, 120},  // an earlier minute changes nothing at the end
			{9*3600 + 95, 130, 130}, // a later tick of the last minute
		} {
			b := domain.NewTickBatch()
			b.Add(domain.Tick{Stock: stock, At: step.at, Price: step.price})
			require.NoError(t, s.Merge(t.Context(), b.Histories()))
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
		ticks := distinctTicks(r, stock, 300)
		want := historyOf(ticks)
		r.Shuffle(len(ticks), func(i, j int) { ticks[i], ticks[j] = ticks[j], ticks[i] })
		for i := 0; i < len(ticks); {
			n := min(1+r.IntN(60), len(ticks)-i)
			b := domain.NewTickBatch()
			for _, tk := range ticks[i : i+n] {
				b.Add(tk)
			}
			require.NoError(t, s.Merge(t.Context(), b.Histories()))
			require.NoError(t, s.Merge(t.Context(), b.Histories()), "a redelivered batch")
			i += n
		}
		got, err := s.Series(t.Context(), stock)
		require.NoError(t, err)
		assert.True(t, want.Series().Equal(got), "got %v\nwant %v", got, want.Series())
	})

	t.Run("same-second ticks and candles: any order, any split, re-applied, one series", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		r := rand.New(rand.NewPCG(15, 16))
		var ticks []domain.Tick
		for range 300 {
			at := domain.TimeOfDay(9*3600 + r.IntN(600)) // many ticks share a second
			ticks = append(ticks, domain.Tick{Stock: stock, At: at, Price: 1 + r.Int64N(50)})
		}
		want := historyOf(ticks).Series()
		for round := range 3 {
			r.Shuffle(len(ticks), func(i, j int) { ticks[i], ticks[j] = ticks[j], ticks[i] })
			for i := 0; i < len(ticks); {
				n := min(1+r.IntN(40), len(ticks)-i)
				b := domain.NewTickBatch()
				for _, tk := range ticks[i : i+n] {
					b.Add(tk)
				}
				require.NoError(t, s.Merge(t.Context(), b.Histories()))
				i += n
			}
			got, err := s.Series(t.Context(), stock)
			require.NoError(t, err)
			require.True(t, want.Equal(got), "round %d: got %v\nwant %v", round, got, want)
			require.NotEmpty(t, got.High, "the series carries candles")
		}
	})

	t.Run("concurrent merges of one stock lose nothing", func(t *testing.T) {
		s := newStore(t)
		stock := uniqueKey("stock")
		r := rand.New(rand.NewPCG(13, 14))
		ticks := distinctTicks(r, stock, 400)
		want := historyOf(ticks)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Go(func() {
				// Worker w takes chunks w, w+8, w+16, ... of 5 ticks:
				// together the workers apply every tick exactly once.
				for i := w * 5; i < len(ticks); i += 8 * 5 {
					b := domain.NewTickBatch()
					for _, tk := range ticks[i:min(i+5, len(ticks))] {
						b.Add(tk)
					}
					if err := s.Merge(t.Context(), b.Histories()); err != nil {
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
		got, err := s.Series(t.Context(), stock)
		require.NoError(t, err)
		assert.True(t, want.Series().Equal(got), "got %v\nwant %v", got, want.Series())
	})

	t.Run("many stocks in one batch", func(t *testing.T) {
		s := newStore(t)
		b := domain.NewTickBatch()
		var names []string
		for i := range 20 {
			name := uniqueKey("stock")
			names = append(names, name)
			b.Add(domain.Tick{Stock: name, At: domain.TimeOfDay(9*3600 + i), Price: int64(i + 1)})
		}
		require.NoError(t, s.Merge(t.Context(), b.Histories()))
		for i, name := range names {
			got, err := s.Series(t.Context(), name)
			require.NoError(t, err)
			p, ok := got.Latest()
			require.True(t, ok)
			assert.Equal(t, int64(i+1), p)
		}
	})
}

// historyOf records ticks in one history: the expected state of a store
// that was given them in any order.
func historyOf(ticks []domain.Tick) *domain.PriceHistory {
	h := domain.NewPriceHistory()
	for _, tk := range ticks {
		h.Record(tk.At, tk.Price)
	}
	return h
}

func distinctTicks(r *rand.Rand, stock string, n int) []domain.Tick {
	perm := r.Perm(3600)[:n]
	ticks := make([]domain.Tick, n)
	for i, s := range perm {
		ticks[i] = domain.Tick{Stock: stock, At: domain.TimeOfDay(9*3600 + s), Price: 1 + r.Int64N(5000)}
	}
	return ticks
}
