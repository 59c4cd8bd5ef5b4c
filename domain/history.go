package domain

import (
	"errors"
	"fmt"
	"slices"
)

// NoTick marks, in MinuteSeries.CloseAt and OpenAt, a minute that had no
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
// minute from the first minute with a tick to the last, ascending. Prices
// holds each minute's close; Open, High and Low its other candle values. A
// minute without a tick carries the previous minute's close in all four,
// and its CloseAt and OpenAt are NoTick; otherwise CloseAt and OpenAt are
// the times of the ticks that closed and opened it, which is what lets a
// stored series be merged with more ticks exactly.
//
// Day is the trading day the series is of; zero for an empty series, and
// for a stored series that carries no date (see Day).
type MinuteSeries struct {
	Day     Day
	Minutes []TimeOfDay
	Prices  []int64
	CloseAt []TimeOfDay
	Open    []int64
	High    []int64
	Low     []int64
	OpenAt  []TimeOfDay
}

// Len is the number of minutes in s.
func (s MinuteSeries) Len() int { return len(s.Minutes) }

// Latest returns the last price of s; ok is false for an empty series.
func (s MinuteSeries) Latest() (price int64, ok bool) {
	if len(s.Prices) == 0 {
		return 0, false
	}
	return s.Prices[len(s.Prices)-1], true
}

// Quote returns the last close of s with its day and the time of the tick
// that closed it (the minute itself when the series does not say); ok is
// false for an empty series.
func (s MinuteSeries) Quote() (q Quote, ok bool) {
	n := len(s.Prices)
	if n == 0 {
		return Quote{}, false
	}
	q = Quote{Day: s.Day, At: s.Minutes[n-1], Price: s.Prices[n-1]}
	if len(s.CloseAt) == n && s.CloseAt[n-1] != NoTick {
		q.At = s.CloseAt[n-1]
	}
	return q, true
}

// Series renders h minute by minute, carrying the close over minutes
// without a tick.
func (h *PriceHistory) Series() MinuteSeries {
	n := len(h.candles)
	s := MinuteSeries{
		Minutes: make([]TimeOfDay, n), Prices: make([]int64, n), CloseAt: make([]TimeOfDay, n),
		Open: make([]int64, n), High: make([]int64, n), Low: make([]int64, n), OpenAt: make([]TimeOfDay, n),
	}
	var carried int64
	for i, c := range h.candles {
		s.Minutes[i] = TimeOfDay((h.first + i) * 60)
		if c.empty() {
			s.Prices[i], s.Open[i], s.High[i], s.Low[i] = carried, carried, carried, carried
			s.CloseAt[i], s.OpenAt[i] = NoTick, NoTick
			continue
		}
		carried = c.close.price
		s.Prices[i], s.Open[i], s.High[i], s.Low[i] = c.close.price, c.open.price, c.high, c.low
		s.CloseAt[i], s.OpenAt[i] = c.close.at, c.open.at
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
// Entries this service wrote carry their close time in CloseAt (and their
// open time and candle in OpenAt, Open, High, Low) and are read exactly. Any
// other entry (the series was written by someone else, or edited since) is
// taken as a tick at its own time, as the contract says: a CloseAt that is
// missing, of another length, outside its minute, or NoTick on an entry
// whose price is not the carried one. An entry with a close time but no
// consistent candle (written by an older version, or edited) is taken as
// one tick at its close time: the series is upgraded in place, and a later
// re-application of the original ticks restores the full candle.
func HistoryFromSeries(s MinuteSeries) (*PriceHistory, error) {
	if len(s.Minutes) != len(s.Prices) {
		return nil, fmt.Errorf("%w: %d times but %d prices", ErrMalformedSeries, len(s.Minutes), len(s.Prices))
	}
	cols := s.columns()
	h := NewPriceHistory()
	for i, m := range s.Minutes {
		if !tickable(m, s.Prices[i]) {
			return nil, badEntry(i, m, s.Prices[i])
		}
		if c, ok := s.entryCandle(i, cols); ok {
			h.slot(int(m) / 60).join(c)
		}
	}
	return h, nil
}

// storedColumns says which optional columns of a series are whole, as this
// service writes them: CloseAt, and with it the rest of each candle (Open,
// High, Low, OpenAt). A column of another length is someone else's, and
// ignored.
type storedColumns struct{ closeAt, candles bool }

func (s *MinuteSeries) columns() storedColumns {
	n := len(s.Minutes)
	closeAt := len(s.CloseAt) == n
	return storedColumns{
		closeAt: closeAt,
		candles: closeAt && len(s.Open) == n && len(s.High) == n && len(s.Low) == n && len(s.OpenAt) == n,
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
// minute, in a series with a whole CloseAt, can be one this service wrote:
// with a close time inside its minute it is read exactly (closedCandle),
// and NoTick marks it carried if its price is the minute before's. Any
// other entry is one tick at the entry's own time.
func (s *MinuteSeries) entryCandle(i int, cols storedColumns) (c candle, ok bool) {
	m, p := s.Minutes[i], s.Prices[i]
	if cols.closeAt && m%60 == 0 {
		switch at := s.CloseAt[i]; {
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
	closing := pricedTick{at: at, price: s.Prices[i]}
	if withCandles {
		if full, ok := storedCandle(s.Minutes[i], closing, s.OpenAt[i], s.Open[i], s.High[i], s.Low[i]); ok {
			return full
		}
	}
	return tickCandle(closing)
}

// carried reports whether entry i repeats the price of the entry just
// before it, one minute earlier: what a minute without a tick of its own
// holds.
func (s *MinuteSeries) carried(i int) bool {
	return i > 0 && s.Minutes[i-1] == s.Minutes[i]-60 && s.Prices[i-1] == s.Prices[i]
}

// Equal reports whether two series hold the same minutes, candles and tick
// times.
func (s MinuteSeries) Equal(o MinuteSeries) bool {
	return s.Day == o.Day && slices.Equal(s.Minutes, o.Minutes) && slices.Equal(s.Prices, o.Prices) && slices.Equal(s.CloseAt, o.CloseAt) &&
		slices.Equal(s.Open, o.Open) && slices.Equal(s.High, o.High) && slices.Equal(s.Low, o.Low) &&
		slices.Equal(s.OpenAt, o.OpenAt)
}
