package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/rueidis"

	"stockd/domain"
	"stockd/internal/pricefeed"
	"stockd/internal/retry"
	"stockd/ports"
)

var _ ports.PriceFeed = (*PriceFeed)(nil)

// PriceFeed follows the prices channel that every write of a stock's
// latest day publishes on, with the day (see lua/price_merge.lua; writes of
// earlier days publish nothing), with one subscription per process, and
// fans each change out to the process's watchers in memory: a thousand
// watchers cost one subscription, not a thousand. Run holds the
// subscription.
//
// The writer publishes whether or not anyone watches: PUBLISH is cheap to
// a channel without subscribers, and on a cluster no one node knows every
// subscriber (PUBSUB NUMSUB counts one node's), so a writer cannot tell
// cheaply and exactly, and a guess would lose a new watcher's first
// changes.
type PriceFeed struct {
	clients clientSource
	log     *slog.Logger
	hub     *pricefeed.Hub
}

// NewPriceFeed returns a feed on client (see also Connector); nothing is
// received until Run.
func NewPriceFeed(client rueidis.Client, log *slog.Logger) *PriceFeed {
	return newPriceFeed(connected{client}, log)
}

func newPriceFeed(clients clientSource, log *slog.Logger) *PriceFeed {
	return &PriceFeed{clients: clients, log: log, hub: pricefeed.NewHub()}
}

// Watch registers a watcher of stock until ctx ends (see ports.PriceFeed).
func (f *PriceFeed) Watch(ctx context.Context, stock string) <-chan domain.DayChange {
	return f.hub.Watch(ctx, stock)
}

var errUnsubscribed = errors.New("redis: prices subscription ended")

// Run subscribes and fans out until ctx ends, then returns nil. When the
// subscription is lost (Redis restarted, a failover, a network cut) every
// watcher is dropped, since changes may have been missed meanwhile, and Run
// subscribes again under the outage retry policy; the watchers' clients
// reconnect and read the series afresh.
func (f *PriceFeed) Run(ctx context.Context) error {
	_, err := retry.Do(ctx, retry.Outage, func() (struct{}, error) {
		client, err := f.clients.Client(ctx)
		if err != nil { // a watcher of the meantime could miss what is written before the subscription
			f.hub.DropAll()
			return struct{}{}, err
		}
		err = client.Receive(ctx, client.B().Subscribe().Channel(pricesChannel).Build(), func(msg rueidis.PubSubMessage) {
			stock, change, err := decodeChange(msg.Message)
			if err != nil {
				f.log.Warn("ignoring a malformed price change", "channel", msg.Channel, "error", err)
				return
			}
			f.hub.Publish(stock, change)
		})
		f.hub.DropAll()
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
