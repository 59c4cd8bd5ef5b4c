package redis

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.PriceStore = (*PriceStore)(nil)

// PriceStore keeps each stock's series by trading day (the contract's
// "Trading days"): the latest day's series as JSON under the stock's name,
// each earlier day's under stockd:day:{stock}:YYYY-MM-DD until it expires,
// the latest quote beside them. It is a writer (the merge, with the day
// rollover, in one script per stock) and a reader (quote, series, days)
// that share one cache of what the stored latest series holds: the writer
// tells it each value it wrote, so that a process parses nothing it wrote
// itself.
type PriceStore struct {
	*priceWriter
	*priceReader
}

// Keys beside a stock's series. Each carries the stock's key as a hash tag,
// so that on a Redis Cluster it lives in the series' slot and one script
// can write them together.

// latestKey holds the latest quote, "YYYY-MM-DD hhmmss price" (the day,
// the time of the tick that closed the last minute, its price), so that a
// buy needs neither to parse the series nor, with MAX_PRICE_AGE, to guess
// the quote's age.
func latestKey(stock string) string { return "stockd:last:{" + stock + "}" }

// latestOfKey holds the SHA-1 (hex) of the series value whose quote
// stockd:last holds. A reader trusts the quote only for a series with that
// digest: anything else that writes or deletes the series (an admin, a
// restore, another tool) leaves the two keys disagreeing.
func latestOfKey(stock string) string { return "stockd:last-of:{" + stock + "}" }

// dayKey holds the series of an earlier day of stock.
func dayKey(stock string, day domain.Day) string {
	return "stockd:day:{" + stock + "}:" + day.String()
}

// daysKey is the index of stock's earlier days: a sorted set of their
// dates, each scored by the Unix second its key expires at, so that the
// days are listed without a SCAN and expired ones are skipped by score.
func daysKey(stock string) string { return "stockd:days:{" + stock + "}" }

// channelOf is where every write of stock's latest series announces the
// minutes it changed (see PriceFeed): a channel per stock, so that a
// process receives the changes of the stocks it watches and no others.
// It carries the stock's key as a hash tag, as every key of the stock
// does (lua/price_merge.lua builds the same name).
func channelOf(stock string) string { return "stockd:prices:{" + stock + "}" }

// cacheTTL bounds how long a value may sit in the client-side cache.
// Server-assisted invalidation is what keeps it fresh; the bound only
// matters if an invalidation were lost without the connection dropping
// (a dropped connection empties the cache).
const cacheTTL = time.Minute

// PriceStoreOption configures a PriceStore.
type PriceStoreOption func(*priceConfig)

// priceConfig is how a store judges days: in which zone (APP_TIMEZONE),
// how long an earlier day is kept (PRICE_HISTORY_DAYS), and by which clock.
type priceConfig struct {
	zone     *time.Location
	keepDays int
	clock    ports.Clock
}

// WithTimezone sets the zone in which trading days begin and end
// (APP_TIMEZONE; UTC by default).
func WithTimezone(zone *time.Location) PriceStoreOption {
	return func(c *priceConfig) {
		if zone != nil {
			c.zone = zone
		}
	}
}

// WithHistoryDays sets how many full days an earlier day's series is kept
// after the day ends (PRICE_HISTORY_DAYS; 30 by default, at least 1).
func WithHistoryDays(days int) PriceStoreOption {
	return func(c *priceConfig) { c.keepDays = max(days, 1) }
}

// WithClock sets the clock that says which days are past keeping. Redis
// expires keys by its own clock, so this is for tests that move time.
func WithClock(clock ports.Clock) PriceStoreOption {
	return func(c *priceConfig) { c.clock = clock }
}

// DefaultHistoryDays is PRICE_HISTORY_DAYS' default.
const DefaultHistoryDays = 30

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// NewPriceStore returns a store on client (see also Connector).
func NewPriceStore(client rueidis.Client, opts ...PriceStoreOption) *PriceStore {
	return newPriceStore(connected{client}, opts)
}

func newPriceStore(clients clientSource, opts []PriceStoreOption) *PriceStore {
	cfg := priceConfig{zone: time.UTC, keepDays: DefaultHistoryDays, clock: systemClock{}}
	for _, o := range opts {
		o(&cfg)
	}
	cache := newSeriesCache()
	return &PriceStore{
		priceWriter: &priceWriter{clients: clients, cfg: cfg, cache: cache, known: map[string]*storedSeries{}},
		priceReader: &priceReader{clients: clients, cfg: cfg, cache: cache},
	}
}

// oldest is the earliest earlier day kept now.
func (c priceConfig) oldest() domain.Day {
	return domain.OldestKept(domain.DayOf(c.clock.Now().In(c.zone)), c.keepDays)
}

// expiresAt is the Unix second at which day's key expires.
func (c priceConfig) expiresAt(day domain.Day) int64 {
	return day.ExpiresAt(c.keepDays, c.zone).Unix()
}

// storedSeries is a stored value of a series as this process read it.
type storedSeries struct {
	raw     string // the stored bytes; "" for a missing key
	exists  bool
	digest  string               // SHA-1 of the stored bytes, hex; "" when the key is missing
	history *domain.PriceHistory // the ticks the value stands for (empty for a missing key)
	series  domain.MinuteSeries  // the value as a series, with its Day
	fields  map[string]json.RawMessage
}

// parseStored reads a stored value (nil for a missing key) of key.
func parseStored(key string, raw []byte) (*storedSeries, error) {
	stored, fields, err := decodeSeries(key, raw)
	if err != nil {
		return nil, err
	}
	h, err := domain.HistoryFromSeries(stored)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	series := h.Series()
	series = series.OnDay(stored.Day())
	return &storedSeries{raw: string(raw), exists: raw != nil, digest: digestOf(raw), history: h, series: series, fields: fields}, nil
}

func digestOf(raw []byte) string {
	if raw == nil {
		return ""
	}
	sum := sha1.Sum(raw)
	return hex.EncodeToString(sum[:])
}

// encodeQuote writes the value of stockd:last.
func encodeQuote(q domain.Quote) string {
	b := make([]byte, 0, 40)
	b = q.Day.AppendTo(b)
	b = append(b, ' ')
	b = q.At.AppendDigits(b)
	b = append(b, ' ')
	b = strconv.AppendInt(b, q.Price, 10)
	return string(b)
}

// decodeQuote reads the value of stockd:last; ok is false for anything
// else (a key written by an older version held the price alone, and is
// not trusted: the series is read instead).
func decodeQuote(s string) (q domain.Quote, ok bool) {
	if len(s) < 19 || s[10] != ' ' || s[17] != ' ' {
		return domain.Quote{}, false
	}
	day, err := domain.ParseDay(s[:10])
	if err != nil {
		return domain.Quote{}, false
	}
	at, err := domain.ParseTimeOfDay(s[11:17])
	if err != nil {
		return domain.Quote{}, false
	}
	price, err := strconv.ParseInt(s[18:], 10, 64)
	if err != nil || price <= 0 {
		return domain.Quote{}, false
	}
	return domain.Quote{Day: day, At: at, Price: price}, true
}
