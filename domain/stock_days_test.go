package domain_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"stockd/domain"
	"stockd/internal/domaintest"
)

// daysOf folds ticks of one stock into its histories by day, as a batch
// does.
func daysOf(ticks []domain.Tick) domain.DayHistories {
	b := domain.NewTickBatch()
	for _, tk := range ticks {
		b.Add(tk)
	}
	return b.Histories()["s"]
}

// randomDayTicks spreads randomTicks over up to maxDays days in a row.
func randomDayTicks(r *rand.Rand, n, maxDays int) []domain.Tick {
	ticks := randomTicks(r, n)
	first := testDay.AddDays(-r.IntN(10))
	for i := range ticks {
		tk := ticks[i]
		ticks[i] = domaintest.Tick(tk.Stock(), first.AddDays(r.IntN(maxDays)), tk.At(), tk.Price())
	}
	return ticks
}

// modelDays is what a store must hold after every tick of ticks with days
// before oldest dropped: each day's series of its own ticks, the latest
// day the greatest, never dropped.
func modelDays(ticks []domain.Tick, oldest domain.Day) (domain.Day, map[domain.Day]domain.MinuteSeries) {
	byDay := map[domain.Day][]domain.Tick{}
	var latest domain.Day
	for _, tk := range ticks {
		byDay[tk.Day()] = append(byDay[tk.Day()], tk)
		latest = max(latest, tk.Day())
	}
	want := map[domain.Day]domain.MinuteSeries{}
	for d, dayTicks := range byDay {
		if d >= oldest || d == latest {
			s := seriesOf(dayTicks)
			s = s.OnDay(d)
			want[d] = s
		}
	}
	return latest, want
}

func checkDays(t *testing.T, round int, got *domain.StockDays, latest domain.Day, want map[domain.Day]domain.MinuteSeries) {
	t.Helper()
	if got.Latest() != latest {
		t.Fatalf("round %d: latest day %v, want %v", round, got.Latest(), latest)
	}
	wantDays := make([]domain.Day, 0, len(want))
	for d := range want {
		wantDays = append(wantDays, d)
	}
	slices.Sort(wantDays)
	if days := got.Days(); !slices.Equal(days, wantDays) {
		t.Fatalf("round %d: days %v, want %v", round, days, wantDays)
	}
	for d, w := range want {
		if s, ok := got.Series(d); !ok || !s.Equal(w) {
			t.Fatalf("round %d: day %v = %v (kept %v), want %v", round, d, s, ok, w)
		}
	}
	if s, _ := got.Series(0); !s.Equal(want[latest]) {
		t.Fatalf("round %d: series of day zero is not the latest day's", round)
	}
}

// TestStockDaysMergeIsOrderIndependent is the cross-day law: any order,
// any repetition, any split of ticks over any number of days into batches
// gives the same days, with or without days dropped as past keeping. And
// after every batch, the latest quote is that of the greatest day seen so
// far: a batch of earlier days leaves it as it was.
func TestStockDaysMergeIsOrderIndependent(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	for round := range 400 {
		ticks := randomDayTicks(r, 1+r.IntN(150), 1+r.IntN(6))
		var oldest domain.Day
		if r.IntN(2) == 0 {
			oldest = testDay.AddDays(-r.IntN(12)) // some days dropped, perhaps all but the latest
		}
		latest, want := modelDays(ticks, oldest)

		shuffled := slices.Clone(ticks)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		shuffled = append(shuffled, shuffled[:r.IntN(len(shuffled)+1)]...)

		got := domain.NewStockDays()
		var seen []domain.Tick
		for len(shuffled) > 0 {
			n := 1 + r.IntN(len(shuffled))
			batch := daysOf(shuffled[:n])
			before, hadQuote := got.Quote()
			m := got.Merge(batch, oldest)
			if r.IntN(3) == 0 {
				got.Merge(batch, oldest)
			}
			seen = append(seen, shuffled[:n]...)
			seenLatest, seenWant := modelDays(seen, oldest)
			if q, _ := got.Quote(); !hadQuote || batch.Latest() >= before.Day {
				if w, _ := seenWant[seenLatest].Quote(); q != w {
					t.Fatalf("round %d: quote %+v, want the latest day's %+v", round, q, w)
				}
			} else if q != before {
				t.Fatalf("round %d: a batch of earlier days %v changed the quote from %+v to %+v", round, batch.Days(), before, q)
			}
			if m.Latest != seenLatest {
				t.Fatalf("round %d: merge reports latest %v, want %v", round, m.Latest, seenLatest)
			}
			shuffled = shuffled[n:]
		}
		checkDays(t, round, got, latest, want)
	}
}

func TestStockDaysRollover(t *testing.T) {
	t.Parallel()
	d1, d2, d3 := testDay, testDay.AddDays(1), testDay.AddDays(2)
	tick := func(d domain.Day, clock string, p int64) domain.Tick {
		return domaintest.Tick("s", d, at(t, clock), p)
	}
	s := domain.NewStockDays()
	if q, ok := s.Quote(); ok {
		t.Fatalf("empty stock has quote %+v", q)
	}
	if series, ok := s.Series(0); !ok || series.Len() != 0 || series.Day() != 0 {
		t.Fatalf("empty stock's latest series = %v %v, want empty of no day", series, ok)
	}
	if _, ok := s.Series(d1); ok {
		t.Fatal("empty stock has a series for a given day")
	}

	m := s.Merge(daysOf([]domain.Tick{tick(d1, "095956", 1124)}), 0)
	if m.Before != 0 || m.Latest != d1 || !m.LatestChanged || m.Moved != 0 || len(m.Earlier) != 0 {
		t.Fatalf("first merge = %+v", m)
	}

	// The second morning: a tick at 09:00:05 of day 2 is the
	// latest price, though yesterday's 09:59:56 is later in the day.
	m = s.Merge(daysOf([]domain.Tick{tick(d2, "090005", 5000)}), 0)
	if m.Before != d1 || m.Latest != d2 || m.Moved != d1 || !slices.Equal(m.Earlier, []domain.Day{d1}) {
		t.Fatalf("rollover merge = %+v", m)
	}
	if q, _ := s.Quote(); q != (domain.Quote{Day: d2, At: at(t, "090005"), Price: 5000}) {
		t.Fatalf("quote after rollover = %+v", q)
	}

	// A late tick of day 1 goes to day 1 and leaves the quote.
	m = s.Merge(daysOf([]domain.Tick{tick(d1, "100000", 7)}), 0)
	if m.Latest != d2 || m.LatestChanged || m.Moved != 0 || !slices.Equal(m.Earlier, []domain.Day{d1}) {
		t.Fatalf("late merge = %+v", m)
	}
	if q, _ := s.Quote(); q.Price != 5000 {
		t.Fatalf("a late tick changed the quote to %+v", q)
	}
	if series, _ := s.Series(d1); series.Day() != d1 || series.Closes()[len(series.Closes())-1] != 7 {
		t.Fatalf("day 1 = %v", series)
	}

	// One batch of three days: day 3 is latest, day 2 moves, day 1 merges.
	m = s.Merge(daysOf([]domain.Tick{tick(d1, "090000", 1), tick(d2, "090100", 2), tick(d3, "090000", 3)}), 0)
	if m.Latest != d3 || m.Moved != d2 || !slices.Equal(m.Earlier, []domain.Day{d1, d2}) {
		t.Fatalf("three-day merge = %+v", m)
	}
	if days := s.Days(); !slices.Equal(days, []domain.Day{d1, d2, d3}) {
		t.Fatalf("days = %v", days)
	}
	if h := s.History(d2); h == nil {
		t.Fatal("no history of day 2")
	}
	if series, _ := s.Series(d2); !slices.Equal(series.Closes(), []int64{5000, 2}) {
		t.Fatalf("day 2 = %v, want its two ticks", series.Closes())
	}

	// Past keeping: a late tick of day 1 is dropped, and so is day 1.
	m = s.Merge(daysOf([]domain.Tick{tick(d1, "110000", 99)}), d2)
	if !slices.Equal(m.Dropped, []domain.Day{d1}) || len(m.Earlier) != 0 {
		t.Fatalf("merge past keeping = %+v", m)
	}
	if _, ok := s.Series(d1); ok {
		t.Fatal("day 1 is kept past keeping")
	}
	s.Expire(d3.AddDays(10)) // every earlier day past keeping: the latest stays
	if days := s.Days(); !slices.Equal(days, []domain.Day{d3}) {
		t.Fatalf("days after expiry = %v, want only the latest", days)
	}
}

// TestStockDaysAdoptsEarliestDay: an undated stored series takes the
// earliest day of the first merge that reaches it, whatever the order of
// that batch's ticks; then the usual rules apply.
func TestStockDaysAdoptsEarliestDay(t *testing.T) {
	t.Parallel()
	d1, d2 := testDay, testDay.AddDays(1)
	undated := func() *domain.PriceHistory {
		h, err := domain.HistoryFromSeries(domain.SeriesFromStored(domain.StoredSeries{
			Minutes: []domain.TimeOfDay{at(t, "090000"), at(t, "090100")}, Closes: []int64{10, 11},
		}))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	s := domain.LoadStockDays(0, undated(), nil)
	if q, _ := s.Quote(); q.Day != 0 || q.Price != 11 {
		t.Fatalf("undated quote = %+v", q)
	}
	if days := s.Days(); len(days) != 0 {
		t.Fatalf("an undated series lists days %v", days)
	}
	m := s.Merge(daysOf([]domain.Tick{domaintest.Tick("s", d1, at(t, "090200"), 12)}), 0)
	if !m.Adopted || m.Latest != d1 || m.Moved != 0 {
		t.Fatalf("adopting merge = %+v", m)
	}
	if series, _ := s.Series(0); series.Day() != d1 || !slices.Equal(series.Closes(), []int64{10, 11, 12}) {
		t.Fatalf("adopted series = %v", series)
	}

	// A batch of two days: the undated series takes the earlier one and
	// moves there, as the latest series of that day would.
	for _, order := range [][]domain.Day{{d1, d2}, {d2, d1}} {
		s := domain.LoadStockDays(0, undated(), nil)
		ticks := []domain.Tick{
			domaintest.Tick("s", order[0], at(t, "090500"), 20),
			domaintest.Tick("s", order[1], at(t, "090500"), 20),
		}
		m := s.Merge(daysOf(ticks), 0)
		if !m.Adopted || m.Moved != d1 || m.Latest != d2 {
			t.Fatalf("order %v: merge = %+v", order, m)
		}
		if series, _ := s.Series(d1); !slices.Equal(series.Closes(), []int64{10, 11, 11, 11, 11, 20}) {
			t.Fatalf("order %v: day 1 = %v", order, series.Closes())
		}
		if series, _ := s.Series(d2); !slices.Equal(series.Closes(), []int64{20}) {
			t.Fatalf("order %v: day 2 = %v", order, series.Closes())
		}
	}

	// A merge with no dated tick leaves the series undated.
	s = domain.LoadStockDays(0, undated(), nil)
	if m := s.Merge(domain.DayHistories{}, 0); m.Adopted || s.Latest() != 0 {
		t.Fatalf("empty merge adopted a day: %+v", m)
	}
}

func TestLatestChange(t *testing.T) {
	t.Parallel()
	d1, d2 := testDay, testDay.AddDays(1)
	before := seriesOf([]domain.Tick{domaintest.Tick("s", testDay, at(t, "090000"), 10), domaintest.Tick("s", testDay, at(t, "090100"), 11)})
	before = before.OnDay(d1)
	same := seriesOf([]domain.Tick{domaintest.Tick("s", testDay, at(t, "090000"), 10), domaintest.Tick("s", testDay, at(t, "090100"), 11), domaintest.Tick("s", testDay, at(t, "090200"), 12)})
	same = same.OnDay(d1)
	if c := domain.LatestChange(before, same); c.Day != d1 || len(c.Minutes) != 1 || c.Minutes[0].Close != 12 {
		t.Fatalf("change within a day = %+v", c)
	}
	// A new day sends all its minutes, even those equal to yesterday's.
	next := seriesOf([]domain.Tick{domaintest.Tick("s", testDay, at(t, "090000"), 10)})
	next = next.OnDay(d2)
	if c := domain.LatestChange(before, next); c.Day != d2 || len(c.Minutes) != 1 || c.Minutes[0].Close != 10 {
		t.Fatalf("change to a new day = %+v", c)
	}
}

// TestStockDaysKeepsNoPartOfTheBatch: a batch stays the caller's: later
// merges into the days it started or filled leave it as it was.
func TestStockDaysKeepsNoPartOfTheBatch(t *testing.T) {
	t.Parallel()
	d1, d2 := testDay, testDay.AddDays(1)
	batch := daysOf([]domain.Tick{domaintest.Tick("s", d1, 9*3600, 1), domaintest.Tick("s", d2, 9*3600, 2)})
	want1, want2 := batch[d1].Series(), batch[d2].Series()
	s := domain.NewStockDays()
	s.Merge(batch, 0)
	s.Merge(daysOf([]domain.Tick{domaintest.Tick("s", d1, 10*3600, 3), domaintest.Tick("s", d2, 10*3600, 4)}), 0)
	s.Merge(daysOf([]domain.Tick{domaintest.Tick("s", d2.AddDays(1), 9*3600, 5)}), 0)
	if !batch[d1].Series().Equal(want1) || !batch[d2].Series().Equal(want2) {
		t.Fatal("a merge changed the batch it was given")
	}
}
