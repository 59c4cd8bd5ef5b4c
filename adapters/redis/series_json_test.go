package redis

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
)

func randomDay(r *rand.Rand, ticks int) *domain.PriceHistory {
	h := domain.NewPriceHistory()
	for range ticks {
		h.Record(domain.TimeOfDay(r.IntN(domain.SecondsPerDay)), 1+r.Int64N(1<<40))
	}
	return h
}

// TestSeriesRoundTrip: what encodeSeries writes is valid JSON that
// decodes to the same series and the same kept fields, whatever their
// names.
func TestSeriesRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	kept := map[string]json.RawMessage{"source": json.RawMessage(`"django"`), "odd \u0001 \"key\" é": json.RawMessage(`{"x": [1, 2]}`)}
	for _, ticks := range []int{0, 1, 10, 5000} {
		s := randomDay(r, ticks).Series()
		raw := encodeSeries(s, kept)
		require.True(t, json.Valid(raw), "%s", raw)
		got, fields, err := decodeSeries("stock1", raw)
		require.NoError(t, err)
		h, err := domain.HistoryFromSeries(got)
		require.NoError(t, err)
		assert.True(t, h.Series().Equal(s), "ticks %d", ticks)
		assert.Equal(t, len(kept), len(fields))
		for k, v := range kept {
			assert.JSONEq(t, string(v), string(fields[k]))
		}
		again := encodeSeries(h.Series(), fields)
		assert.Equal(t, string(raw), string(again), "the same series gives the same bytes")
	}
}

func TestChangeRoundTrip(t *testing.T) {
	minutes := []domain.MinuteCandle{{Minute: 9 * 3600, Open: 1, High: 9, Low: 1, Close: 5}, {Minute: 86340, Open: 1 << 62, High: 1 << 62, Low: 1 << 62, Close: 1 << 62}}
	raw := encodeChange("st\"ock", minutes)
	require.True(t, json.Valid(raw), "%s", raw)
	stock, got, err := decodeChange(string(raw))
	require.NoError(t, err)
	assert.Equal(t, "st\"ock", stock)
	assert.Equal(t, minutes, got)
	_, _, err = decodeChange(`{"stock":"a","minutes":[{"time":"9am"}]}`)
	require.Error(t, err)
}

// The cost the store's memory of the last series saves on each batch: to
// read and parse a full day's stored JSON, against encoding it.
func BenchmarkParseFullDay(b *testing.B) {
	raw := encodeSeries(randomDay(rand.New(rand.NewPCG(1, 2)), 20000).Series(), nil)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := parseStored("stock1", raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeFullDay(b *testing.B) {
	s := randomDay(rand.New(rand.NewPCG(1, 2)), 20000).Series()
	for b.Loop() {
		encodeSeries(s, nil)
	}
}
