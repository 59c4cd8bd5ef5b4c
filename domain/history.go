package domain

import (
	"errors"
	"fmt"
	"slices"
)

// NoTick marks, in MinuteSeries.CloseTimes and OpenTimes, a minute that had no
// tick and carries the previous minute's price.
const NoTick TimeOfDay = -1

// ErrMalformedSeries reports a stored series that cannot be read as ticks.
var ErrMalformedSeries = errors.New("malformed price series")

// PriceHistory is what the service knows of one stock's prices: the candle
// of every minute that had a tick (see candle). It is the canonical state
// behind the stored series. Recording ticks commutes and is idempotent: a
// candle is a join of its ticks (the latest closes, the earliest opens, the
// highest and lowest bound), so any order, any repetition and any split into
// batches give the same history. That is what lets a Kafka consumer
// redeliver after a crash, or a file be applied twice, without changing a
// value.
type PriceHistory struct {
	// candles[i] is the candle of minute number first+i (minutes since
	// midnight). The slice spans the first to the last minute with a tick;
	// a minute in between without one is the zero candle. A day has 1440
	// minutes, so a dense slice is both smaller and faster than a map.
	first   int
	candles []candle
}

// NewPriceHistory returns an empty history.
func NewPriceHistory() *PriceHistory { return &PriceHistory{} }

// Record applies a tick at time at (see candle for the rule).
func (h *PriceHistory) Record(at TimeOfDay, price int64) {
	h.slot(int(at) / 60).add(pricedTick{at: at, price: price})
}

// slot returns the candle of minute number m, growing the span to hold it.
func (h *PriceHistory) slot(m int) *candle {
	switch {
	case len(h.candles) == 0:
		h.first, h.candles = m, make([]candle, 1, 16)
	case m < h.first:
		grown := make([]candle, h.first-m+len(h.candles))
		copy(grown[h.first-m:], h.candles)
		h.first, h.candles = m, grown
	case m >= h.first+len(h.candles):
		h.candles = append(h.candles, make([]candle, m-h.first-len(h.candles)+1)...)
	}
	return &h.candles[m-h.first]
}

// Absorb records every candle of other into h: the result is that of
// recording both histories' ticks, in any order.
func (h *PriceHistory) Absorb(other *PriceHistory) {
	for i, c := range other.candles {
		if !c.empty() {
			h.slot(other.first + i).join(c)
		}
	}
}

// Clone returns an independent copy of h.
func (h *PriceHistory) Clone() *PriceHistory {
	return &PriceHistory{first: h.first, candles: slices.Clone(h.candles)}
}

// MinuteSeries is the stored, minute-wise form of a history: one entry per
// minute from the first minute with a tick to the last, ascending. Closes
// holds each minute's close; Opens, Highs and Lows its other candle values.
// A minute without a tick carries the previous minute's close in all four,
// and its CloseTimes and OpenTimes entries are NoTick; otherwise they are
// the times of the ticks that closed and opened it, which is what lets a
// stored series be merged with more ticks exactly.
//
// The columns stay parallel slices, not one slice of per-minute structs,
// because that is the shape a stored series has: a series written by
// another program may lack a column or hold one of another length, and
// HistoryFromSeries must see that to read it as that program meant; the
// encoders write it column by column too. A series is made by
// PriceHistory.Series, or read back by SeriesFromStored; the slices its
// accessors return are its own, to be read and not changed.
type MinuteSeries struct {
	day        Day
	minutes    []TimeOfDay
	closes     []int64
	closeTimes []TimeOfDay
	opens      []int64
	highs      []int64
	lows       []int64
	openTimes  []TimeOfDay
}

// StoredSeries is a series as a store holds it, column by column, read
// back without judgement: the columns may be missing or of other lengths
// when another program wrote the value. Only SeriesFromStored reads it.
type StoredSeries struct {
	Day        Day // zero for a value that carries no date
	Minutes    []TimeOfDay
	Closes     []int64
	CloseTimes []TimeOfDay
	Opens      []int64
	Highs      []int64
	Lows       []int64
	OpenTimes  []TimeOfDay
}

// SeriesFromStored makes the series a store read back. It judges nothing:
// HistoryFromSeries decides, when the series is merged, which columns are
// whole and which entries are malformed, and a reader serves what was
// stored. The series keeps the stored slices; the caller must not change
// them.
func SeriesFromStored(st StoredSeries) MinuteSeries {
	return MinuteSeries{
		day: st.Day, minutes: st.Minutes, closes: st.Closes, closeTimes: st.CloseTimes,
		opens: st.Opens, highs: st.Highs, lows: st.Lows, openTimes: st.OpenTimes,
	}
}

// Day is the trading day the series is of; zero for an empty series, and
// for a stored series that carries no date.
func (s MinuteSeries) Day() Day { return s.day }

// OnDay returns s as the series of day d.
func (s MinuteSeries) OnDay(d Day) MinuteSeries { s.day = d; return s }

// Minutes holds the start of each minute, ascending (for a series another
// program wrote: each entry's own time).
func (s MinuteSeries) Minutes() []TimeOfDay { return s.minutes }

// Closes holds each minute's close, the "price" of the stored form.
func (s MinuteSeries) Closes() []int64 { return s.closes }

// CloseTimes holds the time of the tick that closed each minute, NoTick
// for a carried minute; nil when the stored series does not say.
func (s MinuteSeries) CloseTimes() []TimeOfDay { return s.closeTimes }

// Opens holds each minute's open.
func (s MinuteSeries) Opens() []int64 { return s.opens }

// Highs holds each minute's highest price.
func (s MinuteSeries) Highs() []int64 { return s.highs }

// Lows holds each minute's lowest price.
func (s MinuteSeries) Lows() []int64 { return s.lows }

// OpenTimes holds the time of the tick that opened each minute, NoTick for
// a carried minute.
func (s MinuteSeries) OpenTimes() []TimeOfDay { return s.openTimes }

// Len is the number of minutes in s.
func (s MinuteSeries) Len() int { return len(s.minutes) }

// Latest returns the last price of s; ok is false for an empty series.
func (s MinuteSeries) Latest() (price int64, ok bool) {
	if len(s.closes) == 0 {
		return 0, false
	}
	return s.closes[len(s.closes)-1], true
}

// Quote returns the last close of s with its day and the time of the tick
// that closed it (the minute itself when the series does not say); ok is
// false for an empty series.
func (s MinuteSeries) Quote() (q Quote, ok bool) {
	n := len(s.closes)
	if n == 0 {
		return Quote{}, false
	}
	q = Quote{Day: s.day, At: s.minutes[n-1], Price: s.closes[n-1]}
	if len(s.closeTimes) == n && s.closeTimes[n-1] != NoTick {
		q.At = s.closeTimes[n-1]
	}
	return q, true
}

// Series renders h minute by minute, carrying the close over minutes
// without a tick.
func (h *PriceHistory) Series() MinuteSeries {
	n := len(h.candles)
	s := MinuteSeries{
		minutes: make([]TimeOfDay, n), closes: make([]int64, n), closeTimes: make([]TimeOfDay, n),
		opens: make([]int64, n), highs: make([]int64, n), lows: make([]int64, n), openTimes: make([]TimeOfDay, n),
	}
	var carried int64
	for i, c := range h.candles {
		s.minutes[i] = TimeOfDay((h.first + i) * 60)
		if c.empty() {
			s.closes[i], s.opens[i], s.highs[i], s.lows[i] = carried, carried, carried, carried
			s.closeTimes[i], s.openTimes[i] = NoTick, NoTick
			continue
		}
		carried = c.close.price
		s.closes[i], s.opens[i], s.highs[i], s.lows[i] = c.close.price, c.open.price, c.high, c.low
		s.closeTimes[i], s.openTimes[i] = c.close.at, c.open.at
	}
	return s
}

// Latest returns the close of the latest minute of h.
func (h *PriceHistory) Latest() (price int64, ok bool) {
	if len(h.candles) == 0 {
		return 0, false
	}
	return h.candles[len(h.candles)-1].close.price, true
}

// HistoryFromSeries reads a stored series back into the ticks it stands for.
// Entries this service wrote carry their close time in CloseTimes (and their
// open time and candle in OpenTimes, Opens, Highs, Lows) and are read exactly. Any
// other entry (the series was written by someone else, or edited since) is
// taken as a tick at its own time, as the contract says: a CloseTimes that is
// missing, of another length, outside its minute, or NoTick on an entry
// whose price is not the carried one. An entry with a close time but no
// consistent candle (written by an older version, or edited) is taken as
// one tick at its close time: the series is upgraded in place, and a later
// re-application of the original ticks restores the full candle.
func HistoryFromSeries(s MinuteSeries) (*PriceHistory, error) {
	if len(s.minutes) != len(s.closes) {
		return nil, fmt.Errorf("%w: %d times but %d prices", ErrMalformedSeries, len(s.minutes), len(s.closes))
	}
	cols := s.columns()
	h := NewPriceHistory()
	for i, m := range s.minutes {
		if !tickable(m, s.closes[i]) {
			return nil, badEntry(i, m, s.closes[i])
		}
		if c, ok := s.entryCandle(i, cols); ok {
			h.slot(int(m) / 60).join(c)
		}
	}
	return h, nil
}

// storedColumns says which optional columns of a series are whole, as this
// service writes them: CloseTimes, and with it the rest of each candle
// (Opens, Highs, Lows, OpenTimes). A column of another length is someone else's, and
// ignored.
type storedColumns struct{ closeAt, candles bool }

func (s *MinuteSeries) columns() storedColumns {
	n := len(s.minutes)
	closeAt := len(s.closeTimes) == n
	return storedColumns{
		closeAt: closeAt,
		candles: closeAt && len(s.opens) == n && len(s.highs) == n && len(s.lows) == n && len(s.openTimes) == n,
	}
}

// tickable reports whether a tick can stand for an entry at time m and
// price p: a time within the day, a positive price.
func tickable(m TimeOfDay, p int64) bool { return m >= 0 && m < SecondsPerDay && p > 0 }

// badEntry says why entry i, at time m and price p, is not tickable.
func badEntry(i int, m TimeOfDay, p int64) error {
	if m < 0 || m >= SecondsPerDay {
		return fmt.Errorf("%w: entry %d has time %d", ErrMalformedSeries, i, m)
	}
	return fmt.Errorf("%w: entry %d has price %d", ErrMalformedSeries, i, p)
}

// entryCandle returns the candle that entry i of s stands for; ok is false
// for a carried minute, which stands for no tick. Only an entry on a whole
// minute, in a series with a whole CloseTimes, can be one this service wrote:
// with a close time inside its minute it is read exactly (closedCandle),
// and NoTick marks it carried if its price is the minute before's. Any
// other entry is one tick at the entry's own time.
func (s *MinuteSeries) entryCandle(i int, cols storedColumns) (c candle, ok bool) {
	m, p := s.minutes[i], s.closes[i]
	if cols.closeAt && m%60 == 0 {
		switch at := s.closeTimes[i]; {
		case at != NoTick && at >= m && at < m+60:
			return s.closedCandle(i, at, cols.candles), true
		case at == NoTick && s.carried(i):
			return candle{}, false
		}
	}
	return tickCandle(pricedTick{at: m, price: p}), true
}

// closedCandle rebuilds the candle of entry i, closed at at: the stored
// candle when the series has the columns and they hold one this service
// could have written, else one tick at the close time (an older version's
// entry, or an edited one).
func (s *MinuteSeries) closedCandle(i int, at TimeOfDay, withCandles bool) candle {
	closing := pricedTick{at: at, price: s.closes[i]}
	if withCandles {
		if full, ok := storedCandle(s.minutes[i], closing, s.openTimes[i], s.opens[i], s.highs[i], s.lows[i]); ok {
			return full
		}
	}
	return tickCandle(closing)
}

// carried reports whether entry i repeats the price of the entry just
// before it, one minute earlier: what a minute without a tick of its own
// holds.
func (s *MinuteSeries) carried(i int) bool {
	return i > 0 && s.minutes[i-1] == s.minutes[i]-60 && s.closes[i-1] == s.closes[i]
}

// Equal reports whether two series hold the same minutes, candles and tick
// times.
func (s MinuteSeries) Equal(o MinuteSeries) bool {
	return s.day == o.day && slices.Equal(s.minutes, o.minutes) && slices.Equal(s.closes, o.closes) && slices.Equal(s.closeTimes, o.closeTimes) &&
		slices.Equal(s.opens, o.opens) && slices.Equal(s.highs, o.highs) && slices.Equal(s.lows, o.lows) &&
		slices.Equal(s.openTimes, o.openTimes)
}
