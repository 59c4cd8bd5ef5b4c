package domain_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"stockd/domain"
)

// TestCandlesAcrossRestarts: a series read back from its stored form and
// merged with more ticks equals the series of all ticks at once, for any
// split of the ticks, same-second ones included. The stored form carries
// what the merge needs (OpenAt and CloseAt beside the candle).
func TestCandlesAcrossRestarts(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 300 {
		ticks := randomTicks(r, 2+r.IntN(150))
		want := seriesOf(ticks)
		r.Shuffle(len(ticks), func(i, j int) { ticks[i], ticks[j] = ticks[j], ticks[i] })
		var stored domain.MinuteSeries
		for len(ticks) > 0 {
			n := 1 + r.IntN(len(ticks))
			h, err := domain.HistoryFromSeries(stored)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range ticks[:n] {
				h.Record(tk.At(), tk.Price())
			}
			stored = h.Series()
			ticks = ticks[n:]
		}
		if !stored.Equal(want) {
			t.Fatalf("round %d: restarted merge differs\n got %v\nwant %v", round, stored, want)
		}
	}
}

func TestCandleOfAMinute(t *testing.T) {
	t.Parallel()
	h := domain.NewPriceHistory()
	for _, tk := range []struct {
		at    string
		price int64
	}{
		{"090030", 50}, {"090005", 40}, {"090005", 45}, {"090059", 42}, {"090020", 70}, {"090040", 10},
		{"090230", 60},
	} {
		h.Record(at(t, tk.at), tk.price)
	}
	s := h.Series()
	want := []domain.MinuteCandle{
		{Minute: at(t, "090000"), Open: 40, High: 70, Low: 10, Close: 42},
		{Minute: at(t, "090100"), Open: 42, High: 42, Low: 42, Close: 42}, // carried
		{Minute: at(t, "090200"), Open: 60, High: 60, Low: 60, Close: 60},
	}
	for i, w := range want {
		if got := s.Candle(i); got != w {
			t.Errorf("minute %d = %+v, want %+v", i, got, w)
		}
	}
	if s.OpenTimes()[0] != at(t, "090005") || s.CloseTimes()[0] != at(t, "090059") || s.OpenTimes()[1] != domain.NoTick {
		t.Errorf("OpenAt %v CloseAt %v", s.OpenTimes(), s.CloseTimes())
	}
}

// TestUpgradeInPlace: a series written before candles existed (a close time
// but no open/high/low) reads as one tick at each close; applying the
// original ticks again restores every candle exactly.
func TestUpgradeInPlace(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	for range 100 {
		ticks := randomTicks(r, 1+r.IntN(100))
		full := seriesOf(ticks)
		old := domain.SeriesFromStored(domain.StoredSeries{Minutes: full.Minutes(), Closes: full.Closes(), CloseTimes: full.CloseTimes()})
		h, err := domain.HistoryFromSeries(old)
		if err != nil {
			t.Fatal(err)
		}
		up := h.Series()
		if !slices.Equal(up.Closes(), full.Closes()) || !slices.Equal(up.CloseTimes(), full.CloseTimes()) {
			t.Fatalf("upgrade changed the closes: %v, want %v", up.Closes(), full.Closes())
		}
		for i := range up.Minutes() {
			if up.CloseTimes()[i] != domain.NoTick && (up.Opens()[i] != up.Closes()[i] || up.Highs()[i] != up.Closes()[i] || up.Lows()[i] != up.Closes()[i]) {
				t.Fatalf("upgraded minute %d is not the close alone: %+v", i, up.Candle(i))
			}
		}
		for _, tk := range ticks {
			h.Record(tk.At(), tk.Price())
		}
		if got := h.Series(); !got.Equal(full) {
			t.Fatalf("re-applied ticks do not restore the candles\n got %v\nwant %v", got, full)
		}
	}
}

// TestInconsistentCandleIsOneTick: stored candle values that no set of
// ticks could give (edited by hand) are not trusted: the entry is the tick
// at its close time, as for a series written before candles.
func TestInconsistentCandleIsOneTick(t *testing.T) {
	t.Parallel()
	m := at(t, "090000")
	base := func() domain.StoredSeries {
		return domain.StoredSeries{
			Minutes: []domain.TimeOfDay{m}, Closes: []int64{50}, CloseTimes: []domain.TimeOfDay{m + 30},
			Opens: []int64{40}, Highs: []int64{60}, Lows: []int64{30}, OpenTimes: []domain.TimeOfDay{m + 10},
		}
	}
	good, err := domain.HistoryFromSeries(domain.SeriesFromStored(base()))
	if err != nil {
		t.Fatal(err)
	}
	if got := good.Series(); !got.Equal(domain.SeriesFromStored(base())) {
		t.Fatalf("a consistent candle is not read exactly: %v", got)
	}
	for name, edit := range map[string]func(*domain.StoredSeries){
		"open after close":         func(s *domain.StoredSeries) { s.OpenTimes[0] = m + 40 },
		"open outside minute":      func(s *domain.StoredSeries) { s.OpenTimes[0] = m - 1 },
		"high below close":         func(s *domain.StoredSeries) { s.Highs[0] = 45 },
		"low above open":           func(s *domain.StoredSeries) { s.Lows[0] = 41 },
		"zero low":                 func(s *domain.StoredSeries) { s.Lows[0] = 0 },
		"same second, open higher": func(s *domain.StoredSeries) { s.OpenTimes[0] = m + 30; s.Opens[0] = 55; s.Highs[0] = 60 },
		"arrays of another length": func(s *domain.StoredSeries) { s.Highs = nil },
	} {
		s := base()
		edit(&s)
		h, err := domain.HistoryFromSeries(domain.SeriesFromStored(s))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := h.Series().Candle(0); got != (domain.MinuteCandle{Minute: m, Open: 50, High: 50, Low: 50, Close: 50}) {
			t.Errorf("%s: candle %+v, want the close alone", name, got)
		}
	}
}

func TestChangedFrom(t *testing.T) {
	t.Parallel()
	h := domain.NewPriceHistory()
	h.Record(at(t, "090010"), 10)
	h.Record(at(t, "090310"), 30)
	old := h.Series()
	if got := old.ChangedFrom(old); len(got) != 0 {
		t.Fatalf("a series changed from itself: %v", got)
	}
	h.Record(at(t, "090050"), 20) // closes 09:00 and so changes the carried 09:01, 09:02
	h.Record(at(t, "090320"), 5)  // a later tick of 09:03: its close and its low
	h.Record(at(t, "090400"), 40) // a new minute
	got := h.Series().ChangedFrom(old)
	want := []domain.MinuteCandle{
		{Minute: at(t, "090000"), Open: 10, High: 20, Low: 10, Close: 20},
		{Minute: at(t, "090100"), Open: 20, High: 20, Low: 20, Close: 20},
		{Minute: at(t, "090200"), Open: 20, High: 20, Low: 20, Close: 20},
		{Minute: at(t, "090300"), Open: 30, High: 30, Low: 5, Close: 5},
		{Minute: at(t, "090400"), Open: 40, High: 40, Low: 40, Close: 40},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("changed = %+v\nwant %+v", got, want)
	}
	before := h.Series()
	h.Record(at(t, "090330"), 7) // only 09:03 changes
	if got := h.Series().ChangedFrom(before); len(got) != 1 || got[0].Minute != at(t, "090300") {
		t.Fatalf("changed = %+v, want 09:03 alone", got)
	}
}

func TestWindow(t *testing.T) {
	t.Parallel()
	s := series(t, 10, 20, 30, 40) // 09:00 .. 09:03
	for _, tc := range []struct {
		from, to string
		want     []int64
	}{
		{"000000", "235959", []int64{10, 20, 30, 40}},
		{"090100", "090200", []int64{20, 30}},
		{"090130", "090200", []int64{30}},
		{"090300", "120000", []int64{40}},
		{"100000", "110000", nil},
		{"090200", "090100", nil},
	} {
		w := s.Window(at(t, tc.from), at(t, tc.to))
		if !slices.Equal(w.Closes(), tc.want) || len(w.Minutes()) != len(tc.want) || len(w.Highs()) != len(tc.want) || len(w.OpenTimes()) != len(tc.want) {
			t.Errorf("Window(%s, %s) = %v, want %v", tc.from, tc.to, w.Closes(), tc.want)
		}
	}
}

func series(t *testing.T, prices ...int64) domain.MinuteSeries {
	t.Helper()
	h := domain.NewPriceHistory()
	for i, p := range prices {
		h.Record(at(t, "090000")+domain.TimeOfDay(60*i), p)
	}
	return h.Series()
}

// TestChangedFromAnyShape: an old series with holes or unordered entries
// (not one this service rendered) is compared minute by minute too.
func TestChangedFromAnyShape(t *testing.T) {
	t.Parallel()
	s := series(t, 10, 20, 30)
	old := domain.SeriesFromStored(domain.StoredSeries{Minutes: []domain.TimeOfDay{at(t, "090200"), at(t, "090000")}, Closes: []int64{30, 11}})
	got := s.ChangedFrom(old)
	want := []domain.MinuteCandle{
		{Minute: at(t, "090000"), Open: 10, High: 10, Low: 10, Close: 10},
		{Minute: at(t, "090100"), Open: 20, High: 20, Low: 20, Close: 20},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("changed = %+v, want %+v", got, want)
	}
}
