package pricefeed_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/internal/pricefeed"
)

// TestAppendMinuteIsJSON: the hand-written minute is what encoding/json
// writes of pricefeed.Minute, on the edges of its numbers and on random
// ones, and reads back as the same minute.
func TestAppendMinuteIsJSON(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, 3))
	type minute struct {
		day domain.Day
		m   domain.MinuteCandle
	}
	cases := []minute{
		{20260302, domain.MinuteCandle{Minute: 0, Open: 0, High: 0, Low: 0, Close: 0}},
		{19991231, domain.MinuteCandle{Minute: 23*3600 + 59*60, Open: math.MaxInt64, High: math.MinInt64, Low: -1, Close: 1}},
	}
	for range 1000 {
		cases = append(cases, minute{
			day: domain.Day(10000*(1+rng.IntN(9999)) + 100*(1+rng.IntN(12)) + 1 + rng.IntN(28)),
			m: domain.MinuteCandle{Minute: domain.TimeOfDay(60 * rng.IntN(24*60)),
				Open: rng.Int64() - rng.Int64(), High: rng.Int64(), Low: -rng.Int64(), Close: rng.Int64N(1 << 20)},
		})
	}
	for _, c := range cases {
		got := pricefeed.AppendMinute([]byte("prefix"), c.day, c.m)
		want, err := json.Marshal(pricefeed.Minute{Date: c.day.String(), Time: string(c.m.Minute.AppendDigits(nil)),
			Price: c.m.Close, Open: c.m.Open, High: c.m.High, Low: c.m.Low})
		require.NoError(t, err)
		require.Equal(t, "prefix"+string(want), string(got))

		var back pricefeed.Minute
		require.NoError(t, json.Unmarshal(got[len("prefix"):], &back))
		candle, err := back.Candle()
		require.NoError(t, err)
		assert.Equal(t, c.m, candle)
		assert.Equal(t, c.day.String(), back.Date)
	}
}

func TestMinuteCandleRefusesABadTime(t *testing.T) {
	t.Parallel()
	_, err := pricefeed.Minute{Time: "25:00"}.Candle()
	require.ErrorIs(t, err, domain.ErrBadTime)
}
