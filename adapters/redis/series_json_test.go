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
	for i, ticks := range []int{0, 1, 10, 5000} {
		s := randomDay(r, ticks).Series()
		if i%2 == 1 {
			s = s.OnDay(domain.Day(20260302 + i))
		}
		raw := encodeSeries(s, kept)
		require.True(t, json.Valid(raw), "%s", raw)
		got, fields, err := decodeSeries("stock1", raw)
		require.NoError(t, err)
		h, err := domain.HistoryFromSeries(got)
		require.NoError(t, err)
		back := h.Series()
		back = back.OnDay(got.Day())
		assert.True(t, back.Equal(s), "ticks %d", ticks)
		assert.Equal(t, len(kept), len(fields))
		for k, v := range kept {
			assert.JSONEq(t, string(v), string(fields[k]))
		}
		again := encodeSeries(back, fields)
		assert.Equal(t, string(raw), string(again), "the same series gives the same bytes")
	}
}

// TestSeriesDate: "date" is written for a dated series only, read back,
// and a series without one (or with null) is undated; a date that is not
// one is a malformed series, not an undated one.
func TestSeriesDate(t *testing.T) {
	s := randomDay(rand.New(rand.NewPCG(3, 4)), 3).Series()
	assert.NotContains(t, string(encodeSeries(s, nil)), `"date"`)
	s = s.OnDay(20260302)
	raw := encodeSeries(s, map[string]json.RawMessage{"a": json.RawMessage(`1`)})
	assert.Contains(t, string(raw), `"close_time":[`)
	assert.Contains(t, string(raw), `],"date":"2026-03-02","high":[`, "keys stay sorted")
	got, _, err := decodeSeries("stock1", raw)
	require.NoError(t, err)
	assert.Equal(t, domain.Day(20260302), got.Day())
	for _, undated := range []string{`{"time":["090000"],"price":[1]}`, `{"time":["090000"],"price":[1],"date":null}`} {
		got, fields, err := decodeSeries("stock1", []byte(undated))
		require.NoError(t, err)
		assert.True(t, got.Day().IsZero(), undated)
		assert.NotContains(t, fields, "date", "date is ours, not a kept field")
	}
	_, _, err = decodeSeries("stock1", []byte(`{"time":[],"price":[],"date":"2026-02-30"}`))
	require.ErrorIs(t, err, domain.ErrMalformedSeries)
}

func TestChangeRoundTrip(t *testing.T) {
	change := domain.DayChange{Day: 20261129, Minutes: []domain.MinuteCandle{{Minute: 9 * 3600, Open: 1, High: 9, Low: 1, Close: 5}, {Minute: 86340, Open: 1 << 62, High: 1 << 62, Low: 1 << 62, Close: 1 << 62}}}
	raw := encodeChange("st\"ock", change)
	require.True(t, json.Valid(raw), "%s", raw)
	stock, got, err := decodeChange(string(raw))
	require.NoError(t, err)
	assert.Equal(t, "st\"ock", stock)
	assert.Equal(t, change, got)
	_, _, err = decodeChange(`{"stock":"a","date":"2026-11-29","minutes":[{"time":"9am"}]}`)
	require.Error(t, err)
	_, _, err = decodeChange(`{"stock":"a","minutes":[]}`)
	require.Error(t, err, "a change says its day")

	// A message of a writer from before the minutes carried their day too
	// (a rolling deploy) still reads.
	stock, got, err = decodeChange(`{"stock":"a","date":"2026-11-29","minutes":[{"time":"090000","price":5,"open":1,"high":9,"low":1}]}`)
	require.NoError(t, err)
	assert.Equal(t, "a", stock)
	assert.Equal(t, domain.DayChange{Day: 20261129, Minutes: change.Minutes[:1]}, got)
}

// TestQuoteRoundTrip: stockd:last holds the day, the time of the closing
// tick and the price; a value of the old format (a bare price) or anything
// else is not trusted.
func TestQuoteRoundTrip(t *testing.T) {
	q := domain.Quote{Day: 20260302, At: 9*3600 + 59*60 + 56, Price: 1124}
	assert.Equal(t, "2026-03-02 095956 1124", encodeQuote(q))
	got, ok := decodeQuote(encodeQuote(q))
	require.True(t, ok)
	assert.Equal(t, q, got)
	for _, bad := range []string{"", "1124", "2026-03-02 095956 0", "2026-03-02 095956 -5", "2026-13-02 095956 5", "2026-03-02 096056 5", "2026-03-02 095956 5x"} {
		_, ok := decodeQuote(bad)
		assert.False(t, ok, bad)
	}
}

// TestEarlierDaysToRead: the keys a merge reads before it writes are every
// day it may write: batch days but the new latest, the latest series' day
// when a later day moves it, none past keeping.
func TestEarlierDaysToRead(t *testing.T) {
	batch := func(days ...domain.Day) domain.DayHistories {
		h := domain.DayHistories{}
		for _, d := range days {
			h[d] = randomDay(rand.New(rand.NewPCG(1, 1)), 1)
		}
		return h
	}
	for _, c := range []struct {
		name   string
		latest domain.Day
		exists bool
		batch  domain.DayHistories
		want   []domain.Day
	}{
		{"no series, one day", 0, false, batch(5), nil},
		{"no series, days", 0, false, batch(3, 5, 4), []domain.Day{3, 4}},
		{"same day", 5, true, batch(5), nil},
		{"late tick", 5, true, batch(4, 5), []domain.Day{4}},
		{"rollover", 5, true, batch(6), []domain.Day{5}},
		{"rollover with the old day", 5, true, batch(5, 7), []domain.Day{5}},
		{"undated adopts the earliest", 0, true, batch(4, 6), []domain.Day{4}},
		{"past keeping", 5, true, batch(1, 2, 6), []domain.Day{2, 5}},
	} {
		assert.Equal(t, c.want, earlierDaysToRead(c.latest, c.exists, c.batch, 2), c.name)
	}
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
