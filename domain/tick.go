package domain

import (
	"errors"
	"fmt"
	"slices"
)

// ErrBadPrice reports a price that is not a positive integer.
var ErrBadPrice = errors.New("price must be a positive integer")

// Tick is one observed price of a stock on a trading day at a time of day.
type Tick struct {
	stock string
	day   Day
	at    TimeOfDay
	price int64
}

// Stock is the canonical name of the tick's stock.
func (t Tick) Stock() string { return t.stock }

// Day is the trading day the tick belongs to.
func (t Tick) Day() Day { return t.day }

// At is the time of day the price was observed.
func (t Tick) At() TimeOfDay { return t.at }

// Price is the observed price, positive.
func (t Tick) Price() int64 { return t.price }

// NewTick validates a tick. The stock name must already be canonical (see
// Stocks.Canonical); the day a real date; the time a time of day; the price
// positive.
func NewTick(stock string, day Day, at TimeOfDay, price int64) (Tick, error) {
	if _, err := NewDay(day.Date()); err != nil {
		return Tick{}, err
	}
	if at < 0 || at >= SecondsPerDay {
		return Tick{}, fmt.Errorf("%w: %d seconds", ErrBadTime, at)
	}
	if price <= 0 {
		return Tick{}, fmt.Errorf("%w: %d", ErrBadPrice, price)
	}
	if stock == "" {
		return Tick{}, fmt.Errorf("%w: empty name", ErrUnknownStock)
	}
	return Tick{stock: stock, day: day, at: at, price: price}, nil
}

// DayHistories is one stock's ticks folded per trading day: a PriceHistory
// is one day's minutes.
type DayHistories map[Day]*PriceHistory

// Days returns the days of h, ascending.
func (h DayHistories) Days() []Day {
	days := make([]Day, 0, len(h))
	for d := range h {
		days = append(days, d)
	}
	slices.Sort(days)
	return days
}

// Latest returns the latest day of h (zero for an empty h).
func (h DayHistories) Latest() Day {
	var latest Day
	for d := range h {
		latest = max(latest, d)
	}
	return latest
}

// TickBatch groups ticks by stock and trading day, each day's ticks already
// folded into a PriceHistory, so that a batch of a million ticks costs
// memory in proportion to stocks × days × minutes, not to ticks, and a
// store writes each stock once.
type TickBatch struct {
	histories map[string]DayHistories
	ticks     int
}

// NewTickBatch returns an empty batch.
func NewTickBatch() *TickBatch {
	return &TickBatch{histories: make(map[string]DayHistories)}
}

// Add folds t into its stock's history of its day, by the rule of
// PriceHistory.Record (which decides, too, between two ticks of a second).
func (b *TickBatch) Add(t Tick) {
	days := b.histories[t.stock]
	if days == nil {
		days = make(DayHistories, 1)
		b.histories[t.stock] = days
	}
	h := days[t.day]
	if h == nil {
		h = NewPriceHistory()
		days[t.day] = h
	}
	h.Record(t.at, t.price)
	b.ticks++
}

// Ticks is the number of ticks added, repetitions included.
func (b *TickBatch) Ticks() int { return b.ticks }

// Histories returns the batch's histories of every stock that has a tick,
// by day. The map is the batch's own: callers read it and must not change
// it.
func (b *TickBatch) Histories() map[string]DayHistories { return b.histories }
