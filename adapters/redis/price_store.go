package redis

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"stockd/domain"
	"stockd/internal/retry"
	"stockd/ports"
)

var _ ports.PriceStore = (*PriceStore)(nil)

// Keys beside a stock's series. Each carries the stock's key as a hash tag,
// so that on a Redis Cluster it lives in the series' slot and one script
// can write them together.
func latestKey(stock string) string { return "stockd:last:{" + stock + "}" }

// latestOfKey holds the SHA-1 (hex) of the series value whose last price
// stockd:last holds. A reader trusts the latest price only for a series
// with that digest: anything else that writes or deletes the series
// (an admin, a restore, another tool) leaves the two keys disagreeing.
func latestOfKey(stock string) string { return "stockd:last-of:{" + stock + "}" }

// pricesChannel is where every write of a series announces the minutes it
// changed (see PriceFeed). One channel for every stock: a process that
// watches prices holds one subscription, however many stocks and watchers.
const pricesChannel = "stockd:prices"

// latestTTL bounds how long a value may sit in the client-side cache.
// Server-assisted invalidation is what keeps it fresh; the bound only
// matters if an invalidation were lost without the connection dropping
// (a dropped connection empties the cache).
const latestTTL = time.Minute

// PriceStore keeps each stock's series as JSON under the stock's name, its
// latest price beside it (stockd:last:{stock}), and remembers the last
// series it read or wrote of each stock, so that merging many batches into
// a stock neither reads nor parses the stored JSON again while nobody else
// writes it.
type PriceStore struct {
	client rueidis.Client

	mu     sync.Mutex
	known  map[string]*storedSeries
	priced map[string]pricedSeries

	// ownWrites holds, per stock this process just wrote, until when its
	// reads skip the client-side cache (a time.Time).
	ownWrites sync.Map
}

// ownWriteWindow is how long after writing a stock this process does not
// trust its client-side cache for it. The invalidation of its own write
// reaches the cache asynchronously (rueidis may hold several connections to
// a node, and the one that cached a value is not always the one that
// wrote). For that moment a read asks Redis, uncached, whether the series
// is still the one this process wrote (its length and the digest beside
// it: two small replies) and answers from the series it holds; only a
// series someone else changed meanwhile is read whole. An updater that
// writes every batch would otherwise read a whole series per buy.
const ownWriteWindow = time.Second

// readThrough reports whether reads of stock skip the cache now.
func (s *PriceStore) readThrough(stock string) bool {
	until, ok := s.ownWrites.Load(stock)
	return ok && time.Now().Before(until.(time.Time))
}

// ownWrite is the series this process wrote for stock, while its reads of
// stock skip the cache and Redis still holds that series; nil otherwise.
func (s *PriceStore) ownWrite(ctx context.Context, stock string) *storedSeries {
	if !s.readThrough(stock) {
		return nil
	}
	s.mu.Lock()
	seen := s.known[stock]
	s.mu.Unlock()
	if seen == nil || seen.raw == "" {
		return nil
	}
	rs := s.client.DoMulti(ctx,
		s.client.B().Strlen().Key(stock).Build(),
		s.client.B().Get().Key(latestOfKey(stock)).Build())
	n, err := rs[0].AsInt64()
	if err != nil || n != int64(len(seen.raw)) {
		return nil
	}
	if of, err := rs[1].ToString(); err != nil || of != seen.digest {
		return nil
	}
	return seen
}

// pricedSeries is the latest price of one stored value of a series, so
// that a Latest of a value already judged neither hashes nor parses it.
// A value's price never changes, so this can be out of date but never
// wrong.
type pricedSeries struct {
	raw   string // the stored value; the cache hands back the same string while it holds it
	price int64
	ok    bool
}

// storedSeries is a stored value as this process last saw it.
type storedSeries struct {
	raw     string // the stored bytes: a read that gets them back is matched by comparing, not hashing
	digest  string // SHA-1 of the stored bytes, hex; "" when the key is missing
	history *domain.PriceHistory
	series  domain.MinuteSeries
	fields  map[string]json.RawMessage // fields of others, kept
}

// NewPriceStore returns a store on client.
func NewPriceStore(client rueidis.Client) *PriceStore {
	return &PriceStore{client: client, known: map[string]*storedSeries{}, priced: map[string]pricedSeries{}}
}

// writeScript replaces the series KEYS[1] with ARGV[2] only if the stored
// bytes still have the SHA-1 ARGV[1] ("" for a missing key): the
// compare-and-set of the merge, which sends a digest rather than the old
// value. With the series it sets the latest price KEYS[2] to ARGV[3], the
// digest of the new series KEYS[3] to ARGV[5], and publishes ARGV[4], the
// changed minutes, on the prices channel. An empty
// ARGV[2] only checks the digest: the batch changed nothing, and writing
// nothing spares every buyer's cache an invalidation. It returns 1 when
// the digest matched.
var writeScript = rueidis.NewLuaScript(`
local cur = redis.call('GET', KEYS[1])
local digest = ''
if cur then digest = redis.sha1hex(cur) end
if digest ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return 1 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[5])
redis.call('PUBLISH', '` + pricesChannel + `', ARGV[4])
return 1
`)

// errStale: another writer changed a series since this process last saw
// it; the merge reads it again and retries.
var errStale = errors.New("redis: series changed meanwhile")

// Merge folds each stock's history into its series. It writes every stock
// in one pipelined round of scripts, one script per stock (so no command
// spans two slots of a cluster), from the series it last saw; a stock
// another writer changed meanwhile is read again (one GET per stock,
// pipelined) and merged again, with the retry policy for contention.
func (s *PriceStore) Merge(ctx context.Context, histories map[string]*domain.PriceHistory) error {
	todo := make([]string, 0, len(histories))
	for stock := range histories {
		todo = append(todo, stock)
	}
	sort.Strings(todo)
	_, err := retry.Do(ctx, retry.Contention, func() (struct{}, error) {
		if err := s.refresh(ctx, todo); err != nil {
			return struct{}{}, retry.Permanent(err)
		}
		again, err := s.write(ctx, todo, histories)
		if err != nil {
			return struct{}{}, retry.Permanent(err)
		}
		todo = again
		if len(todo) > 0 {
			return struct{}{}, errStale
		}
		return struct{}{}, nil
	}, nil)
	if err != nil {
		return fmt.Errorf("merge prices: %w", err)
	}
	return nil
}

// refresh reads the stocks this process has no view of.
func (s *PriceStore) refresh(ctx context.Context, stocks []string) error {
	var missing []string
	s.mu.Lock()
	for _, stock := range stocks {
		if s.known[stock] == nil {
			missing = append(missing, stock)
		}
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	cmds := make(rueidis.Commands, len(missing))
	for i, stock := range missing {
		cmds[i] = s.client.B().Get().Key(stock).Build()
	}
	for i, r := range s.client.DoMulti(ctx, cmds...) {
		raw, err := r.AsBytes()
		if err != nil && !rueidis.IsRedisNil(err) {
			return fmt.Errorf("read prices of %s: %w", missing[i], translate(err))
		}
		seen, err := parseStored(missing[i], raw)
		if err != nil {
			return err
		}
		s.remember(missing[i], seen)
	}
	return nil
}

// parseStored reads a stored value (nil for a missing key).
func parseStored(stock string, raw []byte) (*storedSeries, error) {
	stored, fields, err := decodeSeries(stock, raw)
	if err != nil {
		return nil, err
	}
	h, err := domain.HistoryFromSeries(stored)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stock, err)
	}
	return &storedSeries{raw: string(raw), digest: digestOf(raw), history: h, series: h.Series(), fields: fields}, nil
}

func digestOf(raw []byte) string {
	if raw == nil {
		return ""
	}
	sum := sha1.Sum(raw)
	return hex.EncodeToString(sum[:])
}

func (s *PriceStore) remember(stock string, seen *storedSeries) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seen == nil {
		delete(s.known, stock)
		return
	}
	s.known[stock] = seen
}

// write merges each stock's history into the series last seen and writes
// them in one pipelined round. It returns the stocks whose series had
// changed meanwhile, now forgotten so that the next round reads them.
func (s *PriceStore) write(ctx context.Context, stocks []string, histories map[string]*domain.PriceHistory) ([]string, error) {
	var stale, sent, written []string
	var execs []rueidis.LuaExec
	var next, seenBefore []*storedSeries
	for _, stock := range stocks {
		s.mu.Lock()
		seen := s.known[stock]
		s.mu.Unlock()
		if seen == nil { // forgotten by a concurrent merge that lost a race
			stale = append(stale, stock)
			continue
		}
		merged := seen.history.Clone()
		merged.Absorb(histories[stock])
		series := merged.Series()
		changed := series.ChangedFrom(seen.series)
		sent = append(sent, stock)
		seenBefore = append(seenBefore, seen)
		if len(changed) == 0 {
			execs = append(execs, rueidis.LuaExec{Keys: []string{stock, latestKey(stock), latestOfKey(stock)}, Args: []string{seen.digest, "", "", "", ""}})
			next = append(next, seen)
			continue
		}
		raw := encodeSeries(series, seen.fields)
		value := string(raw)
		latest, _ := series.Latest()
		digest := digestOf(raw)
		execs = append(execs, rueidis.LuaExec{
			Keys: []string{stock, latestKey(stock), latestOfKey(stock)},
			Args: []string{seen.digest, value, strconv.FormatInt(latest, 10), string(encodeChange(stock, changed)), digest},
		})
		next = append(next, &storedSeries{raw: value, digest: digest, history: merged, series: series, fields: seen.fields})
	}
	if len(execs) == 0 {
		return stale, nil
	}
	for i, r := range writeScript.ExecMulti(ctx, s.client, execs...) {
		ok, err := r.AsInt64()
		if err != nil {
			for _, stock := range sent { // their writes may or may not have happened
				s.remember(stock, nil)
			}
			return nil, fmt.Errorf("write prices of %s: %w", sent[i], translate(err))
		}
		if ok == 0 {
			s.remember(sent[i], nil)
			stale = append(stale, sent[i])
			continue
		}
		s.remember(sent[i], next[i])
		if next[i] != seenBefore[i] {
			written = append(written, sent[i])
		}
	}
	s.syncCache(ctx, written)
	return stale, nil
}

// syncCache makes this process's own client-side cache forget what it just
// wrote. Redis sends the invalidation of a client's own write after the
// script's reply, on the same connection; one more command to that node,
// answered after it, guarantees the client has processed it. Without this,
// a buy in the process that just ingested could still be judged at the
// previous price. An error here leaves the cache to the invalidation in
// flight, and is not the write's error.
func (s *PriceStore) syncCache(ctx context.Context, stocks []string) {
	if len(stocks) == 0 {
		return
	}
	until := time.Now().Add(ownWriteWindow)
	for _, stock := range stocks {
		s.ownWrites.Store(stock, until)
	}
	cmds := make(rueidis.Commands, len(stocks))
	for i, stock := range stocks {
		cmds[i] = s.client.B().Exists().Key(latestKey(stock)).Build()
	}
	s.client.DoMulti(ctx, cmds...)
}

// Series reads the stored series of stock, through the client-side cache:
// while nobody writes it, a read costs neither a round trip nor a parse
// (the bytes are compared with the series last seen, parsing
// a full day's JSON costs milliseconds).
func (s *PriceStore) Series(ctx context.Context, stock string) (domain.MinuteSeries, error) {
	if own := s.ownWrite(ctx, stock); own != nil {
		return own.series, nil
	}
	var res rueidis.RedisResult
	if s.readThrough(stock) {
		res = s.client.Do(ctx, s.client.B().Get().Key(stock).Build())
	} else {
		res = s.client.DoCache(ctx, s.client.B().Get().Key(stock).Cache(), latestTTL)
	}
	raw, err := res.ToString()
	if rueidis.IsRedisNil(err) {
		return domain.NewPriceHistory().Series(), nil
	}
	if err != nil {
		return domain.MinuteSeries{}, translate(err) // the use case names the stock
	}
	s.mu.Lock()
	seen := s.known[stock]
	s.mu.Unlock()
	if seen != nil && seen.raw == raw {
		return seen.series, nil
	}
	seen, err = parseStored(stock, []byte(raw))
	if err != nil {
		return domain.MinuteSeries{}, err
	}
	s.remember(stock, seen)
	return seen.series, nil
}

// Latest returns the price of the last minute of stock's series. It reads
// the series, the latest-price key and the digest of the series that price
// belongs to in one multi-read through the client-side cache: in steady
// state a buy costs no round trip for its price, and Redis invalidates the
// cached values when any process writes or deletes one. The series decides:
// a missing one has no price, whatever the latest-price key still says; the
// latest-price key is used only for the series it was written with, and any
// other series (written by someone else) is read whole.
func (s *PriceStore) Latest(ctx context.Context, stock string) (int64, bool, error) {
	if own := s.ownWrite(ctx, stock); own != nil {
		price, ok := own.series.Latest()
		return price, ok, nil
	}
	var rs []rueidis.RedisResult
	if s.readThrough(stock) {
		rs = s.client.DoMulti(ctx,
			s.client.B().Get().Key(stock).Build(),
			s.client.B().Get().Key(latestKey(stock)).Build(),
			s.client.B().Get().Key(latestOfKey(stock)).Build())
	} else {
		rs = s.client.DoMultiCache(ctx,
			rueidis.CT(s.client.B().Get().Key(stock).Cache(), latestTTL),
			rueidis.CT(s.client.B().Get().Key(latestKey(stock)).Cache(), latestTTL),
			rueidis.CT(s.client.B().Get().Key(latestOfKey(stock)).Cache(), latestTTL))
	}
	var vals [3]string
	for i, r := range rs {
		v, err := r.ToString()
		if err != nil && !rueidis.IsRedisNil(err) {
			return 0, false, translate(err) // the use case names the stock
		}
		if i == 0 && err != nil {
			return 0, false, nil
		}
		vals[i] = v
	}
	raw, latest, latestOf := vals[0], vals[1], vals[2]
	s.mu.Lock()
	p, ok := s.priced[stock]
	seen := s.known[stock]
	s.mu.Unlock()
	if ok && p.raw == raw {
		return p.price, p.ok, nil
	}
	p = pricedSeries{raw: raw}
	price, err := strconv.ParseInt(latest, 10, 64)
	switch {
	case seen != nil && seen.raw == raw:
		p.price, p.ok = seen.series.Latest()
	case err == nil && price > 0 && latestOf == digestOf([]byte(raw)):
		p.price, p.ok = price, true
	default: // not a value this process knows or the latest-price key describes
		seen, err := parseStored(stock, []byte(raw))
		if err != nil {
			return 0, false, err
		}
		s.remember(stock, seen)
		p.price, p.ok = seen.series.Latest()
	}
	s.mu.Lock()
	s.priced[stock] = p
	s.mu.Unlock()
	return p.price, p.ok, nil
}
