package redis

import (
	"sync"

	"stockd/domain"
)

// seriesCache remembers, per stock, what was made of the latest-day value
// last read or written: its quote, its day and, once someone asked for
// it, its parsed series. Entries are keyed by the stored bytes, so an entry
// is used only for the very value it was made of: it can be out of date,
// never wrong. Keeping the value itself fresh is rueidis' client-side
// cache's job (Redis invalidates it on any write); this one only spares
// hashing and parsing a value already judged. The client-side cache hands
// back the same string while it holds a value, so matching bytes costs a
// pointer comparison in steady state.
type seriesCache struct {
	mu      sync.Mutex
	entries map[string]seriesEntry
}

// seriesEntry is what a stored latest-day value of a stock holds.
type seriesEntry struct {
	raw      string
	quote    domain.Quote
	hasQuote bool
	day      domain.Day
	// series is the value parsed, nil until a reader asked for it (a
	// quote taken from stockd:last needs no parse). Shared by every
	// caller: read it, do not change it.
	series *domain.MinuteSeries
}

func newSeriesCache() *seriesCache {
	return &seriesCache{entries: map[string]seriesEntry{}}
}

// lookup returns the entry of stock if it was made of raw. The entry
// keeps raw itself from then on: the entry of a value this process wrote
// holds its own copy of the bytes, and the next comparison with the
// string the client-side cache hands out is then a pointer's.
func (c *seriesCache) lookup(stock, raw string) (seriesEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[stock]
	if !ok || e.raw != raw {
		return seriesEntry{}, false
	}
	e.raw = raw
	c.entries[stock] = e
	return e, true
}

// store remembers series as what raw, stock's stored value, holds.
func (c *seriesCache) store(stock, raw string, series domain.MinuteSeries) seriesEntry {
	q, ok := series.Quote()
	e := seriesEntry{raw: raw, quote: q, hasQuote: ok, day: series.Day(), series: &series}
	c.put(stock, e)
	return e
}

// storeQuote remembers q as the quote of raw, stock's stored value, whose
// series nobody parsed; a parsed series of the same value is kept.
func (c *seriesCache) storeQuote(stock, raw string, q domain.Quote) seriesEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[stock]; ok && e.raw == raw && e.series != nil {
		return e
	}
	e := seriesEntry{raw: raw, quote: q, hasQuote: true, day: q.Day}
	c.entries[stock] = e
	return e
}

func (c *seriesCache) put(stock string, e seriesEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[stock] = e
}
