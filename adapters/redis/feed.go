package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"stockd/domain"
	"stockd/internal/pricefeed"
	"stockd/internal/retry"
	"stockd/ports"
)

var _ ports.PriceFeed = (*PriceFeed)(nil)

// PriceFeed follows the channel that every write of a stock's latest day
// publishes on (stockd:prices:{stock}, with the day: see
// lua/price_merge.lua; writes of earlier days publish nothing), and fans
// each change out to the process's watchers in memory. It holds one
// connection, and subscribes on it to the channels of the stocks watched
// in this process, and only those: a process whose clients watch 50 of
// 10,000 stocks receives and decodes the changes of 50. A thousand
// watchers of a stock cost one subscription, not a thousand. Run holds
// the connection.
//
// The writer publishes whether or not anyone watches: PUBLISH is cheap to
// a channel without subscribers, and on a cluster no one node knows every
// subscriber (PUBSUB NUMSUB counts one node's), so a writer cannot tell
// cheaply and exactly, and a guess would lose a new watcher's first
// changes. On a cluster a PUBLISH reaches every node, so the one
// connection may be to any of them.
type PriceFeed struct {
	clients clientSource
	log     *slog.Logger
	hub     *pricefeed.Hub
	// wake tells Run that the watched stocks changed.
	wake chan struct{}

	mu sync.Mutex
	// subscribed are the stocks the connection has subscribed to, as
	// Redis confirmed; a stock leaves it before its UNSUBSCRIBE is sent.
	subscribed map[string]bool
	// waiting are the watches not yet subscribed to, each released once
	// all of its stocks are (or the connection is lost).
	waiting []subscriptionWait
}

type subscriptionWait struct {
	stocks []string
	done   chan struct{}
}

// NewPriceFeed returns a feed on client (see also Connector); nothing is
// received until Run.
func NewPriceFeed(client rueidis.Client, log *slog.Logger) *PriceFeed {
	return newPriceFeed(connected{client}, log)
}

func newPriceFeed(clients clientSource, log *slog.Logger) *PriceFeed {
	f := &PriceFeed{clients: clients, log: log, wake: make(chan struct{}, 1), subscribed: map[string]bool{}}
	f.hub = pricefeed.NewHubTelling(f.signal)
	return f
}

// signal wakes Run without waiting (a wake already pending covers this
// one too).
func (f *PriceFeed) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// subscribeWait bounds how long Watch waits for the subscription: with
// Redis away it never comes, and the series read that follows the watch
// fails (503) rather than the request hanging.
const subscribeWait = 2 * time.Second

// Watch registers a watcher of stocks until ctx ends (see
// ports.PriceFeed), and returns once this process is subscribed to every
// one of them, so that a series read after it misses no change: the
// watch and the subscription both come before the read. It returns
// earlier when ctx ends, when the connection is lost meanwhile (the
// channel is closed too: the watcher starts again), and after
// subscribeWait at the latest.
func (f *PriceFeed) Watch(ctx context.Context, stocks []string) <-chan domain.StockChange {
	ch := f.hub.Watch(ctx, stocks)
	done := f.await(stocks)
	if done == nil {
		return ch
	}
	timer := time.NewTimer(subscribeWait)
	defer timer.Stop()
	select {
	case <-done:
		return ch
	case <-ctx.Done():
	case <-timer.C:
		f.log.Warn("price feed did not subscribe in time; the stream may miss changes until it does", "stocks", len(stocks), "wait", subscribeWait.String())
	}
	f.forget(done)
	return ch
}

// await returns a channel closed once every one of stocks is subscribed
// to; nil when they are already.
func (f *PriceFeed) await(stocks []string) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.allSubscribedLocked(stocks) {
		return nil
	}
	w := subscriptionWait{stocks: stocks, done: make(chan struct{})}
	f.waiting = append(f.waiting, w)
	f.signal()
	return w.done
}

// forget drops the wait of done if it is still waiting: a watch that gave
// up leaves nothing behind.
func (f *PriceFeed) forget(done <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiting = slices.DeleteFunc(f.waiting, func(w subscriptionWait) bool { return w.done == done })
}

func (f *PriceFeed) allSubscribedLocked(stocks []string) bool {
	for _, s := range stocks {
		if !f.subscribed[s] {
			return false
		}
	}
	return true
}

// releaseLocked lets go the watches whose stocks are all subscribed to,
// or every one of them (the connection was lost: their channels are
// closed, and their watchers start again).
func (f *PriceFeed) releaseLocked(all bool) {
	kept := f.waiting[:0]
	for _, w := range f.waiting {
		if all || f.allSubscribedLocked(w.stocks) {
			close(w.done)
			continue
		}
		kept = append(kept, w)
	}
	clear(f.waiting[len(kept):])
	f.waiting = kept
}

var errUnsubscribed = errors.New("redis: prices subscription ended")

// subscribeBatch bounds the channels of one SUBSCRIBE or UNSUBSCRIBE, so
// that a process watching a whole market sends commands of a sane size.
const subscribeBatch = 1000

// Run holds the connection and keeps its subscriptions to what is watched
// until ctx ends, then returns nil. When the connection is lost (Redis
// restarted, a failover, a network cut) every watcher is dropped, since
// changes may have been missed meanwhile, and Run connects again under
// the outage retry policy; the watchers' clients reconnect and read the
// series afresh.
func (f *PriceFeed) Run(ctx context.Context) error {
	_, err := retry.Do(ctx, retry.Outage, func() (struct{}, error) {
		err := f.hold(ctx)
		f.lost()
		if err == nil {
			err = errUnsubscribed
		}
		return struct{}{}, translate(err)
	}, func(err error, wait time.Duration) {
		f.log.Warn("price feed lost its subscription; subscribing again", "error", err, "wait", wait.String())
	})
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("price feed: %w", err)
}

// lost forgets the subscriptions of a connection that is gone, drops
// every watcher (it may have missed changes) and releases every watch
// still waiting.
func (f *PriceFeed) lost() {
	f.mu.Lock()
	clear(f.subscribed)
	f.releaseLocked(true)
	f.mu.Unlock()
	f.hub.DropAll()
}

// hold runs one connection: it subscribes to what is watched whenever
// that changes, until the connection is lost or ctx ends (nil then).
func (f *PriceFeed) hold(ctx context.Context) error {
	client, err := f.clients.Client(ctx)
	if err != nil {
		return err
	}
	conn, release := client.Dedicate()
	defer release()
	lost := conn.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(msg rueidis.PubSubMessage) {
		stock, change, err := decodeChange(msg.Message)
		if err != nil || channelOf(stock) != msg.Channel {
			f.log.Warn("ignoring a malformed price change", "channel", msg.Channel, "error", err)
			return
		}
		f.hub.Publish(stock, change)
	}})
	f.signal() // what is watched already
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-lost:
			return err
		case <-f.wake:
			if err := f.resubscribe(ctx, conn); err != nil {
				return err
			}
		}
	}
}

// resubscribe brings the connection's subscriptions to the stocks watched
// now. A stock that is no longer watched leaves subscribed before its
// UNSUBSCRIBE goes out, under the same lock as await reads it: a watch of
// it that starts meanwhile waits for the next round, which subscribes to
// it again.
func (f *PriceFeed) resubscribe(ctx context.Context, conn rueidis.DedicatedClient) error {
	var add, drop []string
	f.mu.Lock()
	// What is watched is read under the lock: a watch that starts after
	// this read and finds its stock subscribed must not see it dropped
	// by this round (its stock is in watched, or await finds it gone).
	watched := f.hub.Watched()
	want := make(map[string]bool, len(watched))
	for _, s := range watched {
		want[s] = true
	}
	// A wait for a stock nobody watches belongs to a watcher that is gone
	// (dropped with a lost connection before it waited): nothing will
	// subscribe to it.
	f.waiting = slices.DeleteFunc(f.waiting, func(w subscriptionWait) bool {
		for _, s := range w.stocks {
			if !want[s] {
				close(w.done)
				return true
			}
		}
		return false
	})
	for s := range f.subscribed {
		if !want[s] {
			drop = append(drop, channelOf(s))
			delete(f.subscribed, s)
		}
	}
	for _, s := range watched {
		if !f.subscribed[s] {
			add = append(add, s)
		}
	}
	f.mu.Unlock()
	for chunk := range slices.Chunk(drop, subscribeBatch) {
		if err := conn.Do(ctx, conn.B().Unsubscribe().Channel(chunk...).Build()).Error(); err != nil {
			return err
		}
	}
	for chunk := range slices.Chunk(add, subscribeBatch) {
		channels := make([]string, len(chunk))
		for i, s := range chunk {
			channels[i] = channelOf(s)
		}
		// Do returns once Redis has confirmed the subscription: a write
		// after that reaches this connection.
		if err := conn.Do(ctx, conn.B().Subscribe().Channel(channels...).Build()).Error(); err != nil {
			return err
		}
		f.mu.Lock()
		for _, s := range chunk {
			f.subscribed[s] = true
		}
		f.releaseLocked(false)
		f.mu.Unlock()
	}
	return nil
}

// changeJSON is the message of one write of a stock's latest day: the
// stock, the day, and the minutes it changed, each as the stream sends it
// (pricefeed.Minute, with its day again). Writes of earlier days publish
// nothing.
type changeJSON struct {
	Stock   string             `json:"stock"`
	Date    string             `json:"date"`
	Minutes []pricefeed.Minute `json:"minutes"`
}

// encodeChange writes the message by hand: it is built once per stock per
// batch on the ingest path, and a write of a whole day changes 1440
// minutes.
func encodeChange(stock string, change domain.DayChange) []byte {
	name, _ := json.Marshal(stock) // a string always marshals
	b := make([]byte, 0, 48+len(name)+len(change.Minutes)*90)
	b = append(b, `{"stock":`...)
	b = append(b, name...)
	b = append(b, `,"date":"`...)
	b = change.Day.AppendTo(b)
	b = append(b, `","minutes":[`...)
	for i, m := range change.Minutes {
		if i > 0 {
			b = append(b, ',')
		}
		b = pricefeed.AppendMinute(b, change.Day, m)
	}
	return append(b, "]}"...)
}

func decodeChange(msg string) (string, domain.DayChange, error) {
	var c changeJSON
	if err := json.Unmarshal([]byte(msg), &c); err != nil {
		return "", domain.DayChange{}, err
	}
	day, err := domain.ParseDay(c.Date)
	if err != nil {
		return "", domain.DayChange{}, err
	}
	out := domain.DayChange{Day: day, Minutes: make([]domain.MinuteCandle, len(c.Minutes))}
	for i, m := range c.Minutes {
		if out.Minutes[i], err = m.Candle(); err != nil {
			return "", domain.DayChange{}, err
		}
	}
	return c.Stock, out, nil
}
