package domain

import (
	"errors"
	"fmt"
)

// ErrBadPrice reports a price that is not a positive integer.
var ErrBadPrice = errors.New("price must be a positive integer")

// Tick is one observed price of a stock at a time of day.
type Tick struct {
	Stock string
	At    TimeOfDay
	Price int64
}

// NewTick validates a tick. The stock name must already be canonical (see
// Stocks.Canonical); the time must be a time of day; the price positive.
func NewTick(stock string, at TimeOfDay, price int64) (Tick, error) {
	if at < 0 || at >= SecondsPerDay {
		return Tick{}, fmt.Errorf("%w: %d seconds", ErrBadTime, at)
	}
	if price <= 0 {
		return Tick{}, fmt.Errorf("%w: %d", ErrBadPrice, price)
	}
	if stock == "" {
		return Tick{}, fmt.Errorf("%w: empty name", ErrUnknownStock)
	}
	return Tick{Stock: stock, At: at, Price: price}, nil
}

// TickBatch groups ticks by stock, each stock's ticks already folded into a
// PriceHistory, so that a batch of a million ticks costs memory in proportion
// to stocks × minutes, not to ticks, and a store writes each stock once.
type TickBatch struct {
	histories map[string]*PriceHistory
	ticks     int
}

// NewTickBatch returns an empty batch.
func NewTickBatch() *TickBatch {
	return &TickBatch{histories: make(map[string]*PriceHistory)}
}

// Add folds t into its stock's history, by the rule of
// PriceHistory.Record (which decides, too, between two ticks of a second).
func (b *TickBatch) Add(t Tick) {
	h := b.histories[t.Stock]
	if h == nil {
		h = NewPriceHistory()
		b.histories[t.Stock] = h
	}
	h.Record(t.At, t.Price)
	b.ticks++
}

// Ticks is the number of ticks added, repetitions included.
func (b *TickBatch) Ticks() int { return b.ticks }

// Histories returns the batch's history of every stock that has a tick. The
// map is the batch's own: callers read it and must not change it.
func (b *TickBatch) Histories() map[string]*PriceHistory { return b.histories }
