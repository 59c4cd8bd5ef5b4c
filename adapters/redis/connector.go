package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"stockd/internal/retry"
	"stockd/ports"
)

// Connector builds the client of the seeds at the first call after a seed
// answers, so that a long-running command can start while Redis is down
// and report the outage through readiness: rueidis cannot build a cluster
// client without reaching a node, and a single-server client of a cluster
// node would answer MOVED forever, so the real client (single server or
// cluster, as rueidis detects) waits for a seed. Until then every call
// fails at once with ErrUnavailable. One caller dials at a time, and the
// dials are spaced by retry.Outage; the others fail at once rather than
// queue behind a dial's timeout. Once built, the client is rueidis' own,
// which reconnects by itself.
type Connector struct {
	opt    rueidis.ClientOption
	client atomic.Pointer[rueidis.Client]
	dial   func(rueidis.ClientOption) (rueidis.Client, error) // rueidis.NewClient but in tests
	now    func() time.Time

	dialing sync.Mutex                               // held by the one dial in progress, and by Close
	closed  bool                                     // guarded by dialing
	wait    interface{ NextBackOff() time.Duration } // guarded by dialing
	next    time.Time                                // no dial before; guarded by dialing
	lastErr error                                    // guarded by dialing
}

var errClosed = errors.New("redis: client closed")

// NewConnector returns a connector of the seed addresses; it dials nothing
// yet. An error is a bad address.
func NewConnector(seeds []string) (*Connector, error) {
	opt, err := clientOption(seeds)
	if err != nil {
		return nil, err
	}
	return &Connector{opt: opt, dial: rueidis.NewClient, now: time.Now, wait: retry.Outage.BackOff()}, nil
}

// Client returns the client, building it first if none exists yet and it
// is time to try again.
func (c *Connector) Client(ctx context.Context) (rueidis.Client, error) {
	if client := c.client.Load(); client != nil {
		return *client, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !c.dialing.TryLock() {
		return nil, fmt.Errorf("%w: redis: connecting", ports.ErrUnavailable)
	}
	defer c.dialing.Unlock()
	if client := c.client.Load(); client != nil {
		return *client, nil
	}
	if c.closed {
		return nil, errClosed
	}
	if c.now().Before(c.next) {
		return nil, c.lastErr
	}
	client, err := c.dial(c.opt)
	if err != nil {
		seeds := strings.Join(c.opt.InitAddress, ",")
		if errors.Is(translate(err), ports.ErrUnavailable) {
			// Said once: "store unavailable: redis host:port: dial ...".
			c.lastErr = fmt.Errorf("%w: redis %s: %w", ports.ErrUnavailable, seeds, err)
		} else {
			c.lastErr = fmt.Errorf("redis %s: %w", seeds, err)
		}
		c.next = c.now().Add(c.wait.NextBackOff())
		return nil, c.lastErr
	}
	c.client.Store(&client)
	return client, nil
}

// Close closes the client, if one was built, and refuses to build one
// after.
func (c *Connector) Close() {
	c.dialing.Lock() // waits for a dial in progress
	defer c.dialing.Unlock()
	c.closed = true
	if client := c.client.Load(); client != nil {
		(*client).Close()
	}
}

// Ping reports whether every known node answers (see Ping); ErrUnavailable
// while no client could be built.
func (c *Connector) Ping(ctx context.Context) error {
	client, err := c.Client(ctx)
	if err != nil {
		return err
	}
	return Ping(ctx, client)
}

// PriceStore returns a price store on the connector's client.
func (c *Connector) PriceStore(opts ...PriceStoreOption) *PriceStore { return newPriceStore(c, opts) }

// CreditStore returns a credit store on the connector's client.
func (c *Connector) CreditStore(opts ...CreditStoreOption) *CreditStore {
	return newCreditStore(c, opts)
}

// IdempotencyStore returns an idempotency store on the connector's client.
func (c *Connector) IdempotencyStore() *IdempotencyStore { return &IdempotencyStore{clients: c} }

// TokenStore returns a token store on the connector's client.
func (c *Connector) TokenStore() *TokenStore { return &TokenStore{clients: c} }

// PriceFeed returns a price feed on the connector's client; nothing is
// received until Run.
func (c *Connector) PriceFeed(log *slog.Logger) *PriceFeed { return newPriceFeed(c, log) }

// clientSource yields the client a store sends its commands through: a
// Connector's, once a seed answered, or the one a store was made on.
type clientSource interface {
	Client(context.Context) (rueidis.Client, error)
}

// connected is the source of a client that exists already (Open's).
type connected struct{ client rueidis.Client }

func (c connected) Client(context.Context) (rueidis.Client, error) { return c.client, nil }
