package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/redis/rueidis"
	"golang.org/x/sync/errgroup"

	"stockd/domain"
	"stockd/internal/retry"
)

// priceWriter merges batches of ticks into the stored series. It remembers
// the latest series it last read or wrote of each stock, so that merging
// many batches into a stock's latest day (a Kafka updater all day) neither
// reads nor parses the stored JSON again while nobody else writes it.
// Earlier days are read when a batch touches them (a late tick, a day
// rollover): rarely, and not worth their memory.
type priceWriter struct {
	clients clientSource
	cfg     priceConfig
	cache   *seriesCache // the reader's, told of every latest series written

	mu    sync.Mutex
	known map[string]*storedSeries
}

// errStale: another writer changed a key since this process read it; the
// merge reads the stock again and retries.
var errStale = errors.New("redis: series changed meanwhile")

// roundStockDays bounds how many days of stocks (a batch's days of each
// stock) one pipelined round merges, so that a file of many days and
// stocks is written in rounds of a few megabytes rather than built in
// memory whole, while a Kafka batch (50 stocks of a day) is one round.
const roundStockDays = 64

// roundsInFlight is how many rounds of one merge are written at once. A
// batch of a market (10,000 stocks, each in nearly every Kafka batch) is
// 157 rounds: one after another, the merge waited on 157 round trips (a
// third of a second a batch, 30,000 ticks/s); eight at a time keep both
// the encoding and Redis busy, at eight rounds' memory. Rounds hold
// distinct stocks, so they never contend with each other.
const roundsInFlight = 8

// Merge folds each stock's histories, by day, into its stored series (see
// ports.PriceStore and domain.StockDays for the rule). Each stock is one
// script, a compare-and-set of every key it writes (so no command spans
// two slots of a cluster), and the scripts of many stocks go in one
// pipelined round, from the latest series this process last saw; a stock
// another writer changed meanwhile is read again and merged again, with
// the retry policy for contention.
func (w *priceWriter) Merge(ctx context.Context, histories map[string]domain.DayHistories) error {
	stocks := make([]string, 0, len(histories))
	for stock := range histories {
		stocks = append(stocks, stock)
	}
	sort.Strings(stocks)
	oldest := w.cfg.oldest()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(roundsInFlight)
	for len(stocks) > 0 && gctx.Err() == nil { // a failed round ends the merge
		n, load := 0, 0
		for n < len(stocks) && (n == 0 || load+len(histories[stocks[n]]) <= roundStockDays) {
			load += len(histories[stocks[n]])
			n++
		}
		round := stocks[:n]
		g.Go(func() error { return w.mergeRound(gctx, round, histories, oldest) })
		stocks = stocks[n:]
	}
	return g.Wait()
}

func (w *priceWriter) mergeRound(ctx context.Context, stocks []string, histories map[string]domain.DayHistories, oldest domain.Day) error {
	todo := stocks
	_, err := retry.Do(ctx, retry.Contention, func() (struct{}, error) {
		if err := w.refresh(ctx, todo); err != nil {
			return struct{}{}, retry.Permanent(err)
		}
		again, err := w.write(ctx, todo, histories, oldest)
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

// refresh reads the latest series of the stocks this process has no view
// of, in one pipelined round.
func (w *priceWriter) refresh(ctx context.Context, stocks []string) error {
	var missing []string
	w.mu.Lock()
	for _, stock := range stocks {
		if w.known[stock] == nil {
			missing = append(missing, stock)
		}
	}
	w.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	read, err := w.read(ctx, missing)
	if err != nil {
		return err
	}
	for i, stock := range missing {
		w.remember(stock, read[i])
	}
	return nil
}

// read GETs keys in one pipelined round and parses them.
func (w *priceWriter) read(ctx context.Context, keys []string) ([]*storedSeries, error) {
	client, err := w.clients.Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("read prices: %w", err)
	}
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = client.B().Get().Key(k).Build()
	}
	out := make([]*storedSeries, len(keys))
	for i, r := range client.DoMulti(ctx, cmds...) {
		raw, err := r.AsBytes()
		if err != nil && !rueidis.IsRedisNil(err) {
			return nil, fmt.Errorf("read prices %s: %w", keys[i], translate(err))
		}
		if out[i], err = parseStored(keys[i], raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (w *priceWriter) remember(stock string, seen *storedSeries) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seen == nil {
		delete(w.known, stock)
		return
	}
	w.known[stock] = seen
}

// earlierDaysToRead lists the earlier days a merge of batch into a stock
// whose latest series is of day latest (zero: undated; exists: there is
// one) writes, so that their keys are read first: every day of batch but
// the one that will be latest, and the latest day itself when a later day
// moves it to its key; none before oldest (a merge drops them). Which
// days these are follows from domain.StockDays' rule, which decides.
func earlierDaysToRead(latest domain.Day, exists bool, batch domain.DayHistories, oldest domain.Day) []domain.Day {
	days := slices.DeleteFunc(batch.Days(), func(d domain.Day) bool { return d.IsZero() })
	if len(days) == 0 {
		return nil
	}
	if exists && latest.IsZero() { // an undated series takes the batch's earliest day
		latest = days[0]
	}
	newest := max(latest, days[len(days)-1])
	var read []domain.Day
	if exists && latest < newest {
		days = append(days, latest)
	}
	for _, d := range days {
		if d != newest && d >= oldest && !slices.Contains(read, d) {
			read = append(read, d)
		}
	}
	return read
}

// stockWrite is what one stock's script writes.
type stockWrite struct {
	stock  string
	before *storedSeries // the latest series the merge started from
	after  *storedSeries // the latest series once written (before when unchanged)
	writes bool          // whether the script writes anything (else it only checks)
	exec   rueidis.LuaExec
}

// write merges each stock's histories into what this process last saw and
// writes every stock in one pipelined round of scripts. It returns the
// stocks whose keys had changed meanwhile, now forgotten so that the next
// round reads them again.
func (w *priceWriter) write(ctx context.Context, stocks []string, histories map[string]domain.DayHistories, oldest domain.Day) ([]string, error) {
	var stale []string
	var ready []string
	var seen []*storedSeries
	var dayKeys []string
	var daysOf [][]domain.Day
	for _, stock := range stocks {
		w.mu.Lock()
		s := w.known[stock]
		w.mu.Unlock()
		if s == nil { // forgotten by a concurrent merge that lost a race
			stale = append(stale, stock)
			continue
		}
		days := earlierDaysToRead(s.series.Day(), s.exists, histories[stock], oldest)
		for _, d := range days {
			dayKeys = append(dayKeys, dayKey(stock, d))
		}
		ready, seen, daysOf = append(ready, stock), append(seen, s), append(daysOf, days)
	}
	var earlier []*storedSeries
	if len(dayKeys) > 0 {
		var err error
		if earlier, err = w.read(ctx, dayKeys); err != nil {
			return nil, err
		}
	}
	writes := make([]stockWrite, len(ready))
	for i, stock := range ready {
		read := earlier[:len(daysOf[i])]
		earlier = earlier[len(daysOf[i]):]
		var err error
		if writes[i], err = w.merged(stock, seen[i], histories[stock], daysOf[i], read, oldest); err != nil {
			return nil, err
		}
	}
	if len(writes) == 0 {
		return stale, nil
	}
	client, err := w.clients.Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("write prices: %w", err)
	}
	execs := make([]rueidis.LuaExec, len(writes))
	for i, wr := range writes {
		execs[i] = wr.exec
	}
	var written []string
	for i, r := range mergeScript.ExecMulti(ctx, client, execs...) {
		ok, err := r.AsInt64()
		if err != nil {
			for _, wr := range writes { // their writes may or may not have happened
				w.remember(wr.stock, nil)
			}
			return nil, fmt.Errorf("write prices of %s: %w", writes[i].stock, translate(err)) // a merge is idempotent: whether it happened does not matter
		}
		wr := writes[i]
		if ok == 0 {
			w.remember(wr.stock, nil)
			stale = append(stale, wr.stock)
			continue
		}
		w.remember(wr.stock, wr.after)
		if wr.after != wr.before {
			w.cache.store(wr.stock, wr.after.raw, wr.after.series)
		}
		if wr.writes {
			written = append(written, wr.stock)
		}
	}
	w.syncCache(ctx, client, written)
	return stale, nil
}

// merged applies batch to the stock's latest series before and the earlier
// days read (their keys' values, in the order of days) by the domain's rule
// of days, and builds the script that writes what changed.
func (w *priceWriter) merged(stock string, before *storedSeries, batch domain.DayHistories, days []domain.Day, read []*storedSeries, oldest domain.Day) (stockWrite, error) {
	earlier := make(domain.DayHistories, len(days))
	for i, d := range days {
		earlier[d] = read[i].history
	}
	var current *domain.PriceHistory
	if before.exists {
		current = before.history.Clone()
	}
	sd := domain.LoadStockDays(before.series.Day(), current, earlier)
	m := sd.Merge(batch, oldest)

	wr := stockWrite{stock: stock, before: before, after: before}
	args := []string{before.digest, "", "", "", ""}
	keys := []string{stock, latestKey(stock), latestOfKey(stock), daysKey(stock)}
	if m.LatestChanged {
		series, _ := sd.Series(0)
		raw := encodeSeries(series, before.fields)
		if value := string(raw); value != before.raw {
			digest := digestOf(raw)
			q, _ := series.Quote()
			args[1], args[2], args[3] = value, encodeQuote(q), digest
			// Listed on every write that changes the latest series, watched
			// or not: the writer cannot tell whether any process watches
			// (see PriceFeed), and a listing costs one pass over a series
			// that encodeSeries has just made anyway.
			if change := domain.LatestChange(before.series, series); len(change.Minutes) > 0 {
				args[4] = string(encodeChange(stock, change))
			}
			wr.after = &storedSeries{raw: value, exists: true, digest: digest, history: sd.History(0), series: series, fields: before.fields}
			wr.writes = true
		}
	}
	for _, d := range m.Earlier {
		i := slices.Index(days, d)
		if i < 0 { // earlierDaysToRead and the domain's rule disagree: write nothing blind
			return stockWrite{}, fmt.Errorf("merge prices of %s: day %s was not read before its write", stock, d)
		}
		old := read[i]
		fields := old.fields
		if !old.exists && d == m.Moved {
			fields = before.fields // the latest series moves with its fields
		}
		series, _ := sd.Series(d)
		value := string(encodeSeries(series, fields))
		if value == old.raw {
			value = "" // a redelivered late tick: nothing to write
		} else {
			wr.writes = true
		}
		keys = append(keys, dayKey(stock, d))
		args = append(args, old.digest, value, strconv.FormatInt(w.cfg.expiresAt(d), 10), d.String())
	}
	wr.exec = rueidis.LuaExec{Keys: keys, Args: args}
	return wr, nil
}

// syncCache makes this process's own client-side cache forget what it just
// wrote (a latest series, its quote, an earlier day, the index of days),
// so that its next read sees its own write. Redis sends the invalidation
// of a client's own write after the write's reply, on the connection that
// wrote, which is the one its cache reads through (clientOption keeps one
// connection per node); one more command to that node, answered after the
// invalidation, means the client has processed it. Without this, a buy in the process that
// just ingested could still be judged at the previous price. An error here
// leaves the cache to the invalidation in flight, and is not the write's.
func (w *priceWriter) syncCache(ctx context.Context, client rueidis.Client, stocks []string) {
	if len(stocks) == 0 {
		return
	}
	cmds := make(rueidis.Commands, len(stocks))
	for i, stock := range stocks {
		cmds[i] = client.B().Exists().Key(latestKey(stock)).Build()
	}
	client.DoMulti(ctx, cmds...)
}
