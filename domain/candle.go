package domain

// pricedTick is a tick of a known stock: when and at what price.
type pricedTick struct {
	at    TimeOfDay
	price int64
}

// later orders ticks by time and, within one second, by price: of two ticks
// of a stock in the same second the higher one counts as the later (the
// contract's rule). The order is total, so "the latest tick" and "the
// earliest tick" of any set are well defined whatever order the set arrives
// in, and applying a tick twice changes nothing.
func (t pricedTick) later(o pricedTick) bool {
	return t.at > o.at || (t.at == o.at && t.price > o.price)
}

// candle summarises the ticks of one minute. close is the latest tick and
// open the earliest, in the order of pricedTick.later: so of two ticks in
// the same second the higher price closes and the lower price opens (the
// mirror of the close rule). high and low bound every tick. Each part is a
// maximum or a minimum, so joining candles is commutative, associative and
// idempotent. The zero candle is a minute with no tick (prices are
// positive).
type candle struct {
	open, close pricedTick
	high, low   int64
}

func (c *candle) empty() bool { return c.close.price == 0 }

// tickCandle is the candle of one tick.
func tickCandle(t pricedTick) candle {
	return candle{open: t, close: t, high: t.price, low: t.price}
}

// add records one tick.
func (c *candle) add(t pricedTick) { c.join(tickCandle(t)) }

// join records every tick of o.
func (c *candle) join(o candle) {
	if c.empty() {
		*c = o
		return
	}
	if o.close.later(c.close) {
		c.close = o.close
	}
	if c.open.later(o.open) {
		c.open = o.open
	}
	c.high, c.low = max(c.high, o.high), min(c.low, o.low)
}

// storedCandle rebuilds the candle of minute m from its stored values, or
// reports that they are not a candle this service could have written
// (a time outside the minute, an open after the close, a bound that does
// not hold every price).
func storedCandle(m TimeOfDay, closing pricedTick, openAt TimeOfDay, open, high, low int64) (candle, bool) {
	opening := pricedTick{at: openAt, price: open}
	switch {
	case openAt < m || openAt >= m+60, open <= 0, low <= 0,
		opening.later(closing),
		low > min(open, closing.price), high < max(open, closing.price):
		return candle{}, false
	}
	return candle{open: opening, close: closing, high: high, low: low}, true
}

// MinuteCandle is one minute of a series as clients see it: its start and
// its open, high, low and close prices. A minute without a tick repeats the
// previous close in all four.
type MinuteCandle struct {
	Minute                 TimeOfDay
	Open, High, Low, Close int64
}

// DayChange is what one write changed in a stock's latest day: the day,
// and the minutes it changed, ascending, with their new values.
type DayChange struct {
	Day     Day
	Minutes []MinuteCandle
}

// StockChange is what one write changed of one stock's latest day.
type StockChange struct {
	Stock string
	DayChange
}

// Candle returns the minute at index i of s.
func (s MinuteSeries) Candle(i int) MinuteCandle {
	c := MinuteCandle{Minute: s.minutes[i], Close: s.closes[i]}
	if len(s.opens) == len(s.minutes) && len(s.highs) == len(s.minutes) && len(s.lows) == len(s.minutes) {
		c.Open, c.High, c.Low = s.opens[i], s.highs[i], s.lows[i]
	} else {
		c.Open, c.High, c.Low = c.Close, c.Close, c.Close
	}
	return c
}

// ChangedFrom lists the minutes of s that old does not have or holds with
// other values, ascending: what a merge that turned old into s changed,
// carried minutes included.
func (s MinuteSeries) ChangedFrom(old MinuteSeries) []MinuteCandle {
	var before map[TimeOfDay]int // only for an old series with holes
	find := func(m TimeOfDay) (int, bool) {
		if old.Len() == 0 {
			return 0, false
		}
		// A rendered series has one entry a minute: try the index that
		// gives, and look further only if old is shaped otherwise.
		if j := int(m-old.minutes[0]) / 60; j >= 0 && j < old.Len() && old.minutes[j] == m {
			return j, true
		}
		if before == nil {
			before = make(map[TimeOfDay]int, old.Len())
			for j, om := range old.minutes {
				before[om] = j
			}
		}
		j, ok := before[m]
		return j, ok
	}
	var changed []MinuteCandle
	for i := range s.minutes {
		c := s.Candle(i)
		if j, ok := find(c.Minute); !ok || old.Candle(j) != c {
			changed = append(changed, c)
		}
	}
	return changed
}

// Window returns the minutes of s from from to to, both inclusive. The
// result shares s's arrays.
func (s MinuteSeries) Window(from, to TimeOfDay) MinuteSeries {
	lo, hi := 0, len(s.minutes)
	for lo < hi && s.minutes[lo] < from {
		lo++
	}
	for hi > lo && s.minutes[hi-1] > to {
		hi--
	}
	cut := func(a []int64) []int64 {
		if len(a) != len(s.minutes) {
			return a
		}
		return a[lo:hi]
	}
	cutAt := func(a []TimeOfDay) []TimeOfDay {
		if len(a) != len(s.minutes) {
			return a
		}
		return a[lo:hi]
	}
	return MinuteSeries{
		day:     s.day,
		minutes: s.minutes[lo:hi], closes: s.closes[lo:hi], closeTimes: cutAt(s.closeTimes),
		opens: cut(s.opens), highs: cut(s.highs), lows: cut(s.lows), openTimes: cutAt(s.openTimes),
	}
}
