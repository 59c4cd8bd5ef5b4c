package domain_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"stockd/domain"
	"stockd/internal/domaintest"
)

func at(t *testing.T, s string) domain.TimeOfDay {
	t.Helper()
	v, err := domain.ParseTimeOfDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func render(s domain.MinuteSeries) ([]string, []int64) {
	times := make([]string, len(s.Minutes()))
	for i, m := range s.Minutes() {
		times[i] = m.String()
	}
	return times, s.Closes()
}

func TestSeriesCarriesGapsAndKeepsLatestTick(t *testing.T) {
	t.Parallel()
	h := domain.NewPriceHistory()
	h.Record(at(t, "090041"), 1008)
	h.Record(at(t, "090031"), 1041) // earlier in the minute: loses to 09:00:41
	h.Record(at(t, "090154"), 1054)
	h.Record(at(t, "090134"), 992)
	h.Record(at(t, "090400"), 1100) // 09:02 and 09:03 carry 09:01's close
	times, prices := render(h.Series())
	wantTimes := []string{"090000", "090100", "090200", "090300", "090400"}
	wantPrices := []int64{1008, 1054, 1054, 1054, 1100}
	if !slices.Equal(times, wantTimes) || !slices.Equal(prices, wantPrices) {
		t.Fatalf("series = %v %v, want %v %v", times, prices, wantTimes, wantPrices)
	}
	s := h.Series()
	wantClose := []domain.TimeOfDay{at(t, "090041"), at(t, "090154"), domain.NoTick, domain.NoTick, at(t, "090400")}
	if !slices.Equal(s.CloseTimes(), wantClose) {
		t.Fatalf("CloseAt = %v, want %v", s.CloseTimes(), wantClose)
	}
	if p, ok := s.Latest(); !ok || p != 1100 {
		t.Fatalf("Latest = %d %v", p, ok)
	}
}

// TestSameSecondOrderedByPrice: of two ticks in one second the higher
// price closes the minute and the lower opens it, whichever arrives first
// (the contract's rule, so that re-applying a file never changes a value).
func TestSameSecondOrderedByPrice(t *testing.T) {
	t.Parallel()
	for _, order := range [][]int64{{5, 7}, {7, 5}, {5, 7, 5, 7}} {
		h := domain.NewPriceHistory()
		for _, p := range order {
			h.Record(at(t, "090010"), p)
		}
		s := h.Series()
		if s.Closes()[0] != 7 || s.Opens()[0] != 5 || s.Highs()[0] != 7 || s.Lows()[0] != 5 {
			t.Fatalf("order %v: candle o=%d h=%d l=%d c=%d, want o=5 h=7 l=5 c=7", order, s.Opens()[0], s.Highs()[0], s.Lows()[0], s.Closes()[0])
		}
		if s.OpenTimes()[0] != at(t, "090010") || s.CloseTimes()[0] != at(t, "090010") {
			t.Fatalf("order %v: open at %v, close at %v", order, s.OpenTimes()[0], s.CloseTimes()[0])
		}
	}
}

func TestSameSecondLaterWins(t *testing.T) {
	t.Parallel()
	h := domain.NewPriceHistory()
	h.Record(at(t, "090010"), 5)
	h.Record(at(t, "090010"), 7)
	if _, p := render(h.Series()); p[0] != 7 {
		t.Fatalf("price = %d, want the later tick's 7", p[0])
	}
}

func TestEmptyHistory(t *testing.T) {
	t.Parallel()
	s := domain.NewPriceHistory().Series()
	if s.Len() != 0 || s.Minutes() == nil || s.Closes() == nil {
		t.Fatalf("empty series = %#v, want empty non-nil lists", s)
	}
	if _, ok := s.Latest(); ok {
		t.Fatal("empty series has a latest price")
	}
}

// randomTicks makes ticks of one stock within an hour. About a third
// share their second with an earlier tick at another price, so that the
// same-second rule is exercised by every property below.
func randomTicks(r *rand.Rand, n int) []domain.Tick {
	ticks := make([]domain.Tick, 0, n)
	for len(ticks) < n {
		s := domain.TimeOfDay(9*3600 + r.IntN(3600))
		if len(ticks) > 0 && r.IntN(3) == 0 {
			s = ticks[r.IntN(len(ticks))].At()
		}
		ticks = append(ticks, domaintest.Tick("s", testDay, s, 1+r.Int64N(3000)))
	}
	return ticks
}

func seriesOf(ticks []domain.Tick) domain.MinuteSeries {
	h := domain.NewPriceHistory()
	for _, tk := range ticks {
		h.Record(tk.At(), tk.Price())
	}
	return h.Series()
}

// TestMergeIsOrderIndependentAndIdempotent is the law the Kafka updater
// relies on: any order, any repetition, any split into batches gives the
// same series.
func TestMergeIsOrderIndependentAndIdempotent(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		ticks := randomTicks(r, 1+r.IntN(200))
		want := seriesOf(ticks)

		shuffled := slices.Clone(ticks)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		// Repeat a random prefix, as a redelivery after a crash would.
		shuffled = append(shuffled, shuffled[:r.IntN(len(shuffled)+1)]...)

		// Split into batches absorbed one after another, some twice.
		acc := domain.NewPriceHistory()
		for len(shuffled) > 0 {
			n := 1 + r.IntN(len(shuffled))
			b := domain.NewPriceHistory()
			for _, tk := range shuffled[:n] {
				b.Record(tk.At(), tk.Price())
			}
			acc.Absorb(b)
			if r.IntN(3) == 0 {
				acc.Absorb(b)
			}
			shuffled = shuffled[n:]
		}
		if got := acc.Series(); !got.Equal(want) {
			t.Fatalf("round %d: batched shuffled series differs\n got %v\nwant %v", round, got, want)
		}
	}
}

// tickLater is the contract's order of ticks: time, then price.
func tickLater(a, b domain.Tick) bool {
	return a.At() > b.At() || (a.At() == b.At() && a.Price() > b.Price())
}

func modelCandles(ticks []domain.Tick) map[domain.TimeOfDay]domain.Tick {
	closes := map[domain.TimeOfDay]domain.Tick{}
	for _, tk := range ticks {
		if c, ok := closes[tk.At().Minute()]; !ok || tickLater(tk, c) {
			closes[tk.At().Minute()] = tk
		}
	}
	return closes
}

// TestSeriesInvariants checks the shape of every series: consecutive
// minutes, each candle that of its minute's ticks or the carried close.
func TestSeriesInvariants(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		ticks := randomTicks(r, 1+r.IntN(100))
		s := seriesOf(ticks)
		closes := modelCandles(ticks)
		opens := map[domain.TimeOfDay]domain.Tick{}
		highs, lows := map[domain.TimeOfDay]int64{}, map[domain.TimeOfDay]int64{}
		for _, tk := range ticks {
			m := tk.At().Minute()
			if o, ok := opens[m]; !ok || tickLater(o, tk) {
				opens[m] = tk
			}
			if h, ok := highs[m]; !ok || tk.Price() > h {
				highs[m] = tk.Price()
			}
			if l, ok := lows[m]; !ok || tk.Price() < l {
				lows[m] = tk.Price()
			}
		}
		for i, m := range s.Minutes() {
			if m%60 != 0 || (i > 0 && m != s.Minutes()[i-1]+60) {
				t.Fatalf("minutes not consecutive: %v", s.Minutes())
			}
			c, ok := closes[m]
			switch {
			case ok && (s.Closes()[i] != c.Price() || s.CloseTimes()[i] != c.At()):
				t.Fatalf("minute %s: %d at %v, want close %d at %v", m, s.Closes()[i], s.CloseTimes()[i], c.Price(), c.At())
			case ok && (s.Opens()[i] != opens[m].Price() || s.OpenTimes()[i] != opens[m].At() || s.Highs()[i] != highs[m] || s.Lows()[i] != lows[m]):
				t.Fatalf("minute %s: o=%d at %v h=%d l=%d, want o=%d at %v h=%d l=%d", m, s.Opens()[i], s.OpenTimes()[i], s.Highs()[i], s.Lows()[i],
					opens[m].Price(), opens[m].At(), highs[m], lows[m])
			case !ok && (i == 0 || s.Closes()[i] != s.Closes()[i-1] || s.CloseTimes()[i] != domain.NoTick):
				t.Fatalf("minute %s has no tick but does not carry", m)
			case !ok && (s.Opens()[i] != s.Closes()[i-1] || s.Highs()[i] != s.Closes()[i-1] || s.Lows()[i] != s.Closes()[i-1] || s.OpenTimes()[i] != domain.NoTick):
				t.Fatalf("minute %s has no tick but its candle is not the carried close", m)
			}
		}
		if len(closes) > 0 && (s.Minutes()[0] != slices.Min(mapKeys(closes)) || s.Minutes()[len(s.Minutes())-1] != slices.Max(mapKeys(closes))) {
			t.Fatalf("series does not span first to last tick minute")
		}
	}
}

func mapKeys(m map[domain.TimeOfDay]domain.Tick) []domain.TimeOfDay {
	var ks []domain.TimeOfDay
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestHistoryFromSeriesRoundTrips(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		ticks := randomTicks(r, 1+r.IntN(100))
		s := seriesOf(ticks)
		h, err := domain.HistoryFromSeries(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Series(); !got.Equal(s) {
			t.Fatalf("round trip changed the series:\n got %v\nwant %v", got, s)
		}
		// Reading back then applying the rest of the ticks again is the
		// same as applying them once: the stored form loses nothing.
		more := randomTicks(r, 20)
		for _, tk := range more {
			h.Record(tk.At(), tk.Price())
		}
		if got, want := h.Series(), seriesOf(append(slices.Clone(ticks), more...)); !got.Equal(want) {
			t.Fatalf("stored history then more ticks differs:\n got %v\nwant %v", got, want)
		}
	}
}

func TestHistoryFromForeignSeries(t *testing.T) {
	t.Parallel()
	// Written by someone else: no CloseAt. Every entry is a tick at its
	// own time (second 00 of its minute), so any later tick in that minute
	// replaces it, and carried-looking entries count as ticks too.
	foreign := domain.SeriesFromStored(domain.StoredSeries{
		Minutes: []domain.TimeOfDay{at(t, "090000"), at(t, "090100"), at(t, "090200")},
		Closes:  []int64{10, 10, 30},
	})
	h, err := domain.HistoryFromSeries(foreign)
	if err != nil {
		t.Fatal(err)
	}
	h.Record(at(t, "090130"), 20)
	h.Record(at(t, "090300"), 40)
	_, prices := render(h.Series())
	if want := []int64{10, 20, 30, 40}; !slices.Equal(prices, want) {
		t.Fatalf("prices = %v, want %v", prices, want)
	}

	// A carried entry whose price someone changed is a tick too.
	ours := domain.SeriesFromStored(domain.StoredSeries{
		Minutes:    []domain.TimeOfDay{at(t, "090000"), at(t, "090100")},
		Closes:     []int64{10, 99},
		CloseTimes: []domain.TimeOfDay{at(t, "090010"), domain.NoTick},
	})
	h, err = domain.HistoryFromSeries(ours)
	if err != nil {
		t.Fatal(err)
	}
	if s := h.Series(); !slices.Equal(s.CloseTimes(), []domain.TimeOfDay{at(t, "090010"), at(t, "090100")}) {
		t.Fatalf("CloseAt = %v", s.CloseTimes())
	}

	for _, bad := range []domain.MinuteSeries{
		domain.SeriesFromStored(domain.StoredSeries{Minutes: []domain.TimeOfDay{0}, Closes: nil}),
		domain.SeriesFromStored(domain.StoredSeries{Minutes: []domain.TimeOfDay{0}, Closes: []int64{0}}),
		domain.SeriesFromStored(domain.StoredSeries{Minutes: []domain.TimeOfDay{domain.SecondsPerDay}, Closes: []int64{1}}),
	} {
		if _, err := domain.HistoryFromSeries(bad); err == nil {
			t.Errorf("HistoryFromSeries(%v) accepted a malformed series", bad)
		}
	}
}

// testDay is the day of ticks whose day does not matter to a test.
const testDay domain.Day = 20260302

func TestTickBatch(t *testing.T) {
	t.Parallel()
	b := domain.NewTickBatch()
	next := testDay.AddDays(1)
	for _, tk := range []domain.Tick{
		domaintest.Tick("a", testDay, 10, 1), domaintest.Tick("b", testDay, 20, 2), domaintest.Tick("a", testDay, 70, 3), domaintest.Tick("a", testDay, 70, 4),
		domaintest.Tick("a", next, 5, 9), // the next day, earlier in its day: a day of its own
	} {
		b.Add(tk)
	}
	if b.Ticks() != 5 || len(b.Histories()) != 2 {
		t.Fatalf("batch has %d ticks, %d stocks", b.Ticks(), len(b.Histories()))
	}
	a := b.Histories()["a"]
	if days := a.Days(); !slices.Equal(days, []domain.Day{testDay, next}) || a.Latest() != next {
		t.Fatalf("days of a = %v latest %v, want [%v %v] latest %v", days, a.Latest(), testDay, next, next)
	}
	if p, _ := a[testDay].Latest(); p != 4 {
		t.Fatalf("latest of a on %v = %d, want 4 (later same-second tick)", testDay, p)
	}
	if p, _ := a[next].Latest(); p != 9 {
		t.Fatalf("latest of a on %v = %d, want 9", next, p)
	}
	if len(b.Histories()["b"]) != 1 {
		t.Fatalf("b has days %v, want one", b.Histories()["b"].Days())
	}
	if got := (domain.DayHistories{}).Latest(); got != 0 {
		t.Fatalf("latest of no days = %v", got)
	}
}

func TestNewTick(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		stock string
		day   domain.Day
		at    domain.TimeOfDay
		price int64
		want  error
	}{
		{"valid", "a", testDay, 10, 1, nil},
		{"price zero", "a", testDay, 10, 0, domain.ErrBadPrice},
		{"past midnight", "a", testDay, domain.SecondsPerDay, 1, domain.ErrBadTime},
		{"negative time", "a", testDay, -1, 1, domain.ErrBadTime},
		{"no day", "a", 0, 10, 1, domain.ErrBadDay},
		{"no such date", "a", 20260230, 10, 1, domain.ErrBadDay},
		{"no stock", "", testDay, 10, 1, domain.ErrUnknownStock},
	} {
		tk, err := domain.NewTick(c.stock, c.day, c.at, c.price)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if c.want == nil && tk != (domaintest.Tick(c.stock, c.day, c.at, c.price)) {
			t.Errorf("%s: tick = %+v", c.name, tk)
		}
	}
}

// TestSeriesFromStoredAndOnDay: a read-back series is the stored columns
// as they were, and OnDay dates a copy, leaving its receiver undated.
func TestSeriesFromStoredAndOnDay(t *testing.T) {
	t.Parallel()
	stored := domain.StoredSeries{
		Day: testDay, Minutes: []domain.TimeOfDay{9 * 3600, 9*3600 + 60}, Closes: []int64{10, 11},
		CloseTimes: []domain.TimeOfDay{9*3600 + 5, domain.NoTick}, Opens: []int64{9}, Highs: []int64{12, 11},
		Lows: []int64{8, 11}, OpenTimes: []domain.TimeOfDay{9*3600 + 1, domain.NoTick},
	}
	s := domain.SeriesFromStored(stored)
	if s.Day() != stored.Day || !slices.Equal(s.Minutes(), stored.Minutes) || !slices.Equal(s.Closes(), stored.Closes) ||
		!slices.Equal(s.CloseTimes(), stored.CloseTimes) || !slices.Equal(s.Opens(), stored.Opens) ||
		!slices.Equal(s.Highs(), stored.Highs) || !slices.Equal(s.Lows(), stored.Lows) || !slices.Equal(s.OpenTimes(), stored.OpenTimes) {
		t.Fatalf("SeriesFromStored(%+v) = %+v", stored, s)
	}
	undated := seriesOf([]domain.Tick{domaintest.Tick("s", testDay, 9*3600, 10)})
	dated := undated.OnDay(testDay)
	if undated.Day() != 0 || dated.Day() != testDay || !slices.Equal(dated.Closes(), undated.Closes()) {
		t.Fatalf("OnDay: receiver day %v, result day %v", undated.Day(), dated.Day())
	}
}
