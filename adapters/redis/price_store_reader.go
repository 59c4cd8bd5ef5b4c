package redis

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/rueidis"

	"stockd/domain"
	"stockd/ports"
)

// priceReader answers quotes, series and days through rueidis' client-side
// cache (RESP3 tracking): while nobody writes a stock, a read costs
// neither a round trip nor a parse. Redis invalidates a cached value when
// any process writes or deletes it, and a process that writes waits for
// its own invalidation before its Merge returns (see syncCache), so a
// quote written by this process is what its next call returns, and one
// written by another process what a call returns once the invalidation
// arrives.
type priceReader struct {
	clients clientSource
	cfg     priceConfig
	cache   *seriesCache
}

// readLatest reads stock's latest series, stockd:last and stockd:last-of
// through the client-side cache, with any more cached reads of the same
// stock's keys (built by client); raw is nil when the stock has no series.
func (r *priceReader) readLatest(ctx context.Context, client rueidis.Client, stock string, more ...rueidis.Cacheable) (raw *string, last, lastOf string, rest []rueidis.RedisResult, err error) {
	cmds := appendLatestReads(make([]rueidis.CacheableTTL, 0, 3+len(more)), client, stock)
	for _, c := range more {
		cmds = append(cmds, rueidis.CT(c, cacheTTL))
	}
	rs := client.DoMultiCache(ctx, cmds...)
	raw, last, lastOf, err = latestValues(rs)
	return raw, last, lastOf, rs[3:], err
}

// appendLatestReads appends the three cached reads of stock's latest
// value that latestValues reads the answers of.
func appendLatestReads(cmds []rueidis.CacheableTTL, client rueidis.Client, stock string) []rueidis.CacheableTTL {
	return append(cmds,
		rueidis.CT(client.B().Get().Key(stock).Cache(), cacheTTL),
		rueidis.CT(client.B().Get().Key(latestKey(stock)).Cache(), cacheTTL),
		rueidis.CT(client.B().Get().Key(latestOfKey(stock)).Cache(), cacheTTL))
}

// latestValues reads the answers to appendLatestReads (the first three of
// rs).
func latestValues(rs []rueidis.RedisResult) (raw *string, last, lastOf string, err error) {
	var vals [3]string
	for i, res := range rs[:3] {
		v, err := res.ToString()
		if err != nil && !rueidis.IsRedisNil(err) {
			return nil, "", "", translate(err) // the caller names the stock
		}
		if i == 0 && err == nil {
			raw = &v
		}
		vals[i] = v
	}
	return raw, vals[1], vals[2], nil
}

// LatestQuotes returns the quotes of stocks (see ports.QuotesReader) from
// one DoMultiCache: the values the client-side cache holds answer at once,
// and the rest go as one pipeline to each node that holds some.
func (r *priceReader) LatestQuotes(ctx context.Context, stocks []string) ([]domain.Quote, error) {
	client, err := r.clients.Client(ctx)
	if err != nil {
		return nil, err
	}
	cmds := make([]rueidis.CacheableTTL, 0, 3*len(stocks))
	for _, stock := range stocks {
		cmds = appendLatestReads(cmds, client, stock)
	}
	rs := client.DoMultiCache(ctx, cmds...)
	quotes := make([]domain.Quote, len(stocks))
	for i, stock := range stocks {
		raw, last, lastOf, err := latestValues(rs[3*i:])
		if err != nil {
			return nil, fmt.Errorf("read the quote of %s: %w", stock, err)
		}
		if raw == nil {
			continue
		}
		e, err := r.judge(stock, *raw, last, lastOf)
		if err != nil {
			return nil, err
		}
		if e.hasQuote {
			quotes[i] = e.quote
		}
	}
	return quotes, nil
}

// judge returns what raw, stock's stored latest value, holds: from the
// cache when this value was judged before; from stockd:last when that
// quote was written with this very value (its digest matches); else by
// parsing the value (written by someone else, or by an older version).
func (r *priceReader) judge(stock, raw, last, lastOf string) (seriesEntry, error) {
	if e, ok := r.cache.lookup(stock, raw); ok {
		return e, nil
	}
	if q, ok := decodeQuote(last); ok && lastOf == digestOf([]byte(raw)) {
		return r.cache.storeQuote(stock, raw, q), nil
	}
	return r.parse(stock, raw)
}

func (r *priceReader) parse(stock, raw string) (seriesEntry, error) {
	s, err := parseStored(stock, []byte(raw))
	if err != nil {
		return seriesEntry{}, err
	}
	return r.cache.store(stock, raw, s.series), nil
}

// Latest returns the quote of stock's latest day. A series someone else
// deleted has no quote, whatever stockd:last still says; one someone else
// wrote is judged by its own last minute.
func (r *priceReader) Latest(ctx context.Context, stock string) (domain.Quote, bool, error) {
	client, err := r.clients.Client(ctx)
	if err != nil {
		return domain.Quote{}, false, err // the use case names the stock
	}
	raw, last, lastOf, _, err := r.readLatest(ctx, client, stock)
	if err != nil || raw == nil {
		return domain.Quote{}, false, err
	}
	e, err := r.judge(stock, *raw, last, lastOf)
	if err != nil {
		return domain.Quote{}, false, err
	}
	return e.quote, e.hasQuote, nil
}

// Series returns the series of stock on day (the latest day for zero).
func (r *priceReader) Series(ctx context.Context, stock string, day domain.Day) (domain.MinuteSeries, error) {
	client, err := r.clients.Client(ctx)
	if err != nil {
		return domain.MinuteSeries{}, err // the use case names the stock
	}
	if day.IsZero() {
		raw, err := client.DoCache(ctx, client.B().Get().Key(stock).Cache(), cacheTTL).ToString()
		if rueidis.IsRedisNil(err) {
			return domain.NewPriceHistory().Series(), nil
		}
		if err != nil {
			return domain.MinuteSeries{}, translate(err) // the use case names the stock
		}
		return r.latestSeries(stock, raw)
	}
	rs := client.DoMultiCache(ctx,
		rueidis.CT(client.B().Get().Key(stock).Cache(), cacheTTL),
		rueidis.CT(client.B().Get().Key(dayKey(stock, day)).Cache(), cacheTTL))
	var vals [2]*string
	for i, res := range rs {
		v, err := res.ToString()
		if err != nil && !rueidis.IsRedisNil(err) {
			return domain.MinuteSeries{}, translate(err) // the use case names the stock
		}
		if err == nil {
			vals[i] = &v
		}
	}
	if vals[0] != nil {
		latest, err := r.latestSeries(stock, *vals[0])
		if err != nil {
			return domain.MinuteSeries{}, err
		}
		if latest.Day() == day {
			return latest, nil
		}
	}
	if vals[1] == nil {
		return domain.MinuteSeries{}, fmt.Errorf("%s on %s: %w", stock, day, ports.ErrDayNotFound)
	}
	// An earlier day is read rarely (a person looking back), and a month
	// of days parsed and kept would cost far more memory than parsing
	// one now and then.
	s, err := parseStored(dayKey(stock, day), []byte(*vals[1]))
	if err != nil {
		return domain.MinuteSeries{}, err
	}
	s.series = s.series.OnDay(day)
	return s.series, nil
}

// latestSeries returns the parsed series of raw, stock's latest value.
func (r *priceReader) latestSeries(stock, raw string) (domain.MinuteSeries, error) {
	e, ok := r.cache.lookup(stock, raw)
	if !ok || e.series == nil {
		var err error
		if e, err = r.parse(stock, raw); err != nil {
			return domain.MinuteSeries{}, err
		}
	}
	return *e.series, nil
}

// Days lists the days of which stock has a series: the earlier days of
// its index that have not expired, and the latest series' day. A day is
// listed until its key expires; an earlier day's key that someone else
// deleted is listed until then too.
func (r *priceReader) Days(ctx context.Context, stock string) ([]domain.Day, error) {
	client, err := r.clients.Client(ctx)
	if err != nil {
		return nil, err // the use case names the stock
	}
	raw, last, lastOf, rest, err := r.readLatest(ctx, client, stock,
		client.B().Zrange().Key(daysKey(stock)).Min("0").Max("-1").Withscores().Cache())
	if err != nil {
		return nil, err
	}
	scored, err := rest[0].AsZScores()
	if err != nil && !rueidis.IsRedisNil(err) {
		return nil, translate(err) // the use case names the stock
	}
	now := r.cfg.clock.Now().Unix()
	days := make([]domain.Day, 0, len(scored)+1)
	for _, z := range scored {
		d, err := domain.ParseDay(z.Member)
		if err != nil || int64(z.Score) <= now {
			continue // not a day of ours, or expired
		}
		days = append(days, d)
	}
	if raw != nil {
		e, err := r.judge(stock, *raw, last, lastOf)
		if err != nil {
			return nil, err
		}
		if !e.day.IsZero() {
			days = append(days, e.day)
		}
	}
	slices.Sort(days)
	return slices.Compact(days), nil
}
