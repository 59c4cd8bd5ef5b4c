package domain

import (
	"slices"
	"time"
)

// StockDays is one stock's prices as a store keeps them: the series of its
// latest trading day (under the stock's own key in Redis) and the series
// of each earlier day it still keeps. It holds the one rule of merging
// across days, so that every store applies it alike:
//
//   - the latest day is the greatest day ever merged; a batch with a later
//     day moves the latest series to its own day and starts the new day;
//   - a batch day that is not the latest merges into that day's series and
//     changes neither the latest series nor the latest price;
//   - an undated latest series (written before ticks had dates, or by
//     another program) takes the earliest day of the first batch merged
//     into it: of the contract's "first dated tick merged into it", the
//     one reading that does not depend on the order of a batch's ticks;
//   - an earlier day before the oldest day kept is dropped, both when the
//     latest series moves there and when a late tick arrives for it; the
//     latest series is never dropped.
//
// With the same oldest day, merging any split of a set of dated ticks into
// any number of batches, in any order, any of them repeated, leaves the
// same StockDays: each day's series is a join of its ticks, and the latest
// day a maximum.
type StockDays struct {
	latest  Day           // the day of current; zero when undated or empty
	current *PriceHistory // the latest day's history; nil when none
	earlier DayHistories  // days before latest, each with at least one tick
}

// NewStockDays returns the prices of a stock that has none.
func NewStockDays() *StockDays { return &StockDays{earlier: DayHistories{}} }

// LoadStockDays rebuilds what a store holds: latest is the latest series'
// day (zero for an undated series), current its history (nil for none),
// and earlier the earlier days' histories the caller read (a store may
// load only the days a merge touches). The histories become the value's
// own: the caller must not use them afterwards.
func LoadStockDays(latest Day, current *PriceHistory, earlier DayHistories) *StockDays {
	s := &StockDays{latest: latest, current: current, earlier: DayHistories{}}
	if s.current.empty() {
		s.current = nil
	}
	for d, h := range earlier {
		if !h.empty() && !d.IsZero() {
			s.earlier[d] = h
		}
	}
	return s
}

func (h *PriceHistory) empty() bool { return h == nil || len(h.candles) == 0 }

// DaysMerge says what one merge changed, so that a store writes only that.
type DaysMerge struct {
	// Before and Latest are the latest day before and after the merge
	// (Before is zero for a stock with no series or an undated one).
	Before, Latest Day
	// Adopted is set when an undated latest series took a day.
	Adopted bool
	// Moved is the day the former latest series moved to (zero: none
	// moved). It is in Earlier unless the day was already past keeping.
	Moved Day
	// LatestChanged is set when the latest series changed.
	LatestChanged bool
	// Earlier lists the earlier days whose series changed, ascending.
	Earlier []Day
	// Dropped lists the earlier days a late tick or the move went to that
	// were past keeping, ascending: nothing of them was kept.
	Dropped []Day
}

// Merge folds batch (one stock's ticks by day) into s, keeping no earlier
// day before oldest (zero: keep every day). Days of batch that are zero
// or hold no tick are ignored.
func (s *StockDays) Merge(batch DayHistories, oldest Day) DaysMerge {
	days := make([]Day, 0, len(batch))
	for d, h := range batch {
		if !d.IsZero() && !h.empty() {
			days = append(days, d)
		}
	}
	slices.Sort(days)
	m := DaysMerge{Before: s.latest, Latest: s.latest}
	if len(days) == 0 {
		return m
	}
	if s.latest.IsZero() && s.current != nil {
		s.latest, m.Adopted, m.LatestChanged = days[0], true, true
	}
	if newest := days[len(days)-1]; newest > s.latest {
		if s.current != nil {
			m.Moved = s.latest
			s.keep(s.latest, s.current, true, oldest, &m)
		}
		s.latest, s.current = newest, nil
	}
	m.Latest = s.latest
	for _, d := range days {
		if d == s.latest {
			if s.current == nil {
				s.current = batch[d].Clone() // the batch stays the caller's
			} else {
				s.current.Absorb(batch[d])
			}
			m.LatestChanged = true
			continue
		}
		s.keep(d, batch[d], false, oldest, &m)
	}
	slices.Sort(m.Earlier)
	m.Earlier = slices.Compact(m.Earlier)
	slices.Sort(m.Dropped)
	m.Dropped = slices.Compact(m.Dropped)
	return m
}

// keep merges h into the earlier day d, or drops it when d is before
// oldest. own says whether h is s's own, to be kept as it is rather than
// copied (the former latest day's history moving to its day).
func (s *StockDays) keep(d Day, h *PriceHistory, own bool, oldest Day, m *DaysMerge) {
	if d < oldest {
		delete(s.earlier, d)
		m.Dropped = append(m.Dropped, d)
		return
	}
	switch e := s.earlier[d]; {
	case e != nil:
		e.Absorb(h)
	case own:
		s.earlier[d] = h
	default:
		s.earlier[d] = h.Clone()
	}
	m.Earlier = append(m.Earlier, d)
}

// Expire forgets the earlier days before oldest; the latest day stays.
func (s *StockDays) Expire(oldest Day) {
	for d := range s.earlier {
		if d < oldest {
			delete(s.earlier, d)
		}
	}
}

// Latest returns the latest day (zero when the stock has no series or an
// undated one).
func (s *StockDays) Latest() Day { return s.latest }

// Series renders the series of day, or of the latest day when day is zero,
// with its Day set. ok is false for a day that is not kept; for day zero
// ok is always true, and a stock without a series has an empty series.
func (s *StockDays) Series(day Day) (series MinuteSeries, ok bool) {
	if day.IsZero() || day == s.latest {
		if s.current == nil {
			if !day.IsZero() {
				return MinuteSeries{}, false
			}
			return NewPriceHistory().Series(), true
		}
		series = s.current.Series()
		series.day = s.latest
		return series, true
	}
	h := s.earlier[day]
	if h == nil {
		return MinuteSeries{}, false
	}
	series = h.Series()
	series.day = day
	return series, true
}

// History returns the history of day (the latest day for zero), or nil. It
// is s's own: for a store that writes it back, not to be changed.
func (s *StockDays) History(day Day) *PriceHistory {
	if day.IsZero() || day == s.latest {
		return s.current
	}
	return s.earlier[day]
}

// Days lists the days of which s has a series, ascending, the latest
// included (an undated latest series has no day to list).
func (s *StockDays) Days() []Day {
	days := s.earlier.Days()
	if s.current != nil && !s.latest.IsZero() {
		days = append(days, s.latest)
	}
	return days
}

// Quote returns the last close of the latest day; ok is false when the
// stock has no price.
func (s *StockDays) Quote() (q Quote, ok bool) {
	if s.current == nil {
		return Quote{}, false
	}
	series, _ := s.Series(0)
	return series.Quote()
}

// LatestChange is what a write that turned before into after, a stock's
// latest series, changed in its latest day: every minute of after when it
// is of another day than before (a new day started, or an undated series
// took its day), else the minutes that differ.
func LatestChange(before, after MinuteSeries) DayChange {
	if before.day != after.day {
		return DayChange{Day: after.day, Minutes: after.ChangedFrom(MinuteSeries{})}
	}
	return DayChange{Day: after.day, Minutes: after.ChangedFrom(before)}
}

// OldestKept is the earliest earlier day still kept on today when days are
// kept keepDays full days after they end: day D is kept until the start of
// D + keepDays + 1 (see ExpiresAt).
func OldestKept(today Day, keepDays int) Day { return today.AddDays(-keepDays) }

// ExpiresAt is the instant at which an earlier day's series is dropped:
// the start, in zone, of the day keepDays + 1 days after d.
func (d Day) ExpiresAt(keepDays int, zone *time.Location) time.Time {
	return d.AddDays(keepDays+1).At(0, zone)
}
