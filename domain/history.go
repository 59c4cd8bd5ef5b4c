package domain

import (
	"errors"
	"fmt"
	"slices"
)

// NoTick marks, in MinuteSeries.CloseAt, a minute that had no tick and
// carries the previous minute's price.
const NoTick TimeOfDay = -1

// ErrMalformedSeries reports a stored series that cannot be read as ticks.
var ErrMalformedSeries = errors.New("malformed price series")

// closeTick is the tick that currently closes a minute.
type closeTick struct {
	at    TimeOfDay
	price int64
}

// PriceHistory is what the service knows of one stock's prices: the closing
// tick of every minute that had a tick. It is the canonical state behind the
// stored series. Recording ticks commutes (the latest tick time of a minute
// wins, whatever the order they arrive in) and is idempotent, which is what
// lets a Kafka consumer redeliver after a crash without corrupting anything.
type PriceHistory struct {
	closes map[TimeOfDay]closeTick // keyed by the start of the minute
}

// NewPriceHistory returns an empty history.
func NewPriceHistory() *PriceHistory {
	return &PriceHistory{closes: make(map[TimeOfDay]closeTick)}
}

// Record applies a tick at time at. The tick closes its minute unless the
// minute already has a later tick; on the same second the recorded tick
// wins, since it is the later one in its source.
func (h *PriceHistory) Record(at TimeOfDay, price int64) {
	m := at.Minute()
	if c, ok := h.closes[m]; ok && c.at > at {
		return
	}
	h.closes[m] = closeTick{at: at, price: price}
}

// Absorb records every close of later into h, as if later's ticks had been
// recorded after h's.
func (h *PriceHistory) Absorb(later *PriceHistory) {
	for _, c := range later.closes {
		h.Record(c.at, c.price)
	}
}

// Clone returns an independent copy of h.
func (h *PriceHistory) Clone() *PriceHistory {
	c := NewPriceHistory()
	for m, t := range h.closes {
		c.closes[m] = t
	}
	return c
}

// Empty reports whether h has no tick.
func (h *PriceHistory) Empty() bool { return len(h.closes) == 0 }

// MinuteSeries is the stored, minute-wise form of a history: one entry per
// minute from the first minute with a tick to the last, ascending. A minute
// without a tick carries the previous minute's price, and its CloseAt is
// NoTick; otherwise CloseAt is the time of the tick that closed it.
type MinuteSeries struct {
	Minutes []TimeOfDay
	Prices  []int64
	CloseAt []TimeOfDay
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

// Series renders h minute by minute, carrying prices over minutes without a
// tick.
func (h *PriceHistory) Series() MinuteSeries {
	if len(h.closes) == 0 {
		return MinuteSeries{Minutes: []TimeOfDay{}, Prices: []int64{}, CloseAt: []TimeOfDay{}}
	}
	first, last := TimeOfDay(SecondsPerDay), TimeOfDay(-1)
	for m := range h.closes {
		first, last = min(first, m), max(last, m)
	}
	n := int(last-first)/60 + 1
	s := MinuteSeries{
		Minutes: make([]TimeOfDay, 0, n),
		Prices:  make([]int64, 0, n),
		CloseAt: make([]TimeOfDay, 0, n),
	}
	var carried int64
	for m := first; m <= last; m += 60 {
		at := NoTick
		if c, ok := h.closes[m]; ok {
			carried, at = c.price, c.at
		}
		s.Minutes = append(s.Minutes, m)
		s.Prices = append(s.Prices, carried)
		s.CloseAt = append(s.CloseAt, at)
	}
	return s
}

// Latest returns the price of the latest minute of h.
func (h *PriceHistory) Latest() (price int64, ok bool) {
	last := TimeOfDay(-1)
	for m, c := range h.closes {
		if m > last {
			last, price = m, c.price
		}
	}
	return price, last >= 0
}

// HistoryFromSeries reads a stored series back into the ticks it stands for.
// Entries this service wrote carry their close time in CloseAt and are read
// exactly. Any other entry (the series was written by someone else, or edited
// since) is taken as a tick at its own time, as the contract says: a CloseAt
// that is missing, of another length, outside its minute, or NoTick on an
// entry whose price is not the carried one.
func HistoryFromSeries(s MinuteSeries) (*PriceHistory, error) {
	if len(s.Minutes) != len(s.Prices) {
		return nil, fmt.Errorf("%w: %d times but %d prices", ErrMalformedSeries, len(s.Minutes), len(s.Prices))
	}
	ours := len(s.CloseAt) == len(s.Minutes)
	h := NewPriceHistory()
	for i, m := range s.Minutes {
		p := s.Prices[i]
		if m < 0 || m >= SecondsPerDay {
			return nil, fmt.Errorf("%w: entry %d has time %d", ErrMalformedSeries, i, m)
		}
		if p <= 0 {
			return nil, fmt.Errorf("%w: entry %d has price %d", ErrMalformedSeries, i, p)
		}
		if ours && m%60 == 0 {
			at := s.CloseAt[i]
			if at != NoTick && at >= m && at < m+60 {
				h.Record(at, p)
				continue
			}
			if at == NoTick && i > 0 && s.Minutes[i-1] == m-60 && s.Prices[i-1] == p {
				continue // a carried minute: no tick of its own
			}
		}
		h.Record(m, p)
	}
	return h, nil
}

// Equal reports whether two series hold the same minutes, prices and close
// times.
func (s MinuteSeries) Equal(o MinuteSeries) bool {
	return slices.Equal(s.Minutes, o.Minutes) && slices.Equal(s.Prices, o.Prices) && slices.Equal(s.CloseAt, o.CloseAt)
}
