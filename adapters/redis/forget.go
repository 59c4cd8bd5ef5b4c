package redis

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// forgetDelay is how long a recorded order's pending record may outlive
// its order before a LaterSettler forgets it: long enough to gather the
// forgets of many concurrent buys into one round trip, far shorter than
// the settler's grace period, so that the settler never sees a record
// whose forget is merely queued (and would only find the order recorded
// if it did: settling is idempotent).
const forgetDelay = 2 * time.Millisecond

// maxForgets bounds one round of forgets: a queue this long is sent at
// once rather than after forgetDelay.
const maxForgets = 1024

// forgetTimeout bounds one round, which runs on no caller's context; it
// is also the most a round under way can add to a shutdown (Close).
const forgetTimeout = 2 * time.Second

// LaterSettler is the PendingSettler of the buy path: it forgets the
// pending records of recorded orders a moment later, in one pipelined
// round (an HDEL per user) for all the buys of that moment, instead of
// one round trip per buy inside the request. The request answers without
// waiting for Redis a second time, and Redis reads and answers one
// command for many orders.
//
// Nothing is lost by the wait: the record exists only so that the
// settler can record an order whose request died before its save; an
// order already recorded is found recorded (the save is idempotent by
// order key). A forget that never happens (the process is killed, Redis
// fails) is what a failed HDEL was already: the settler forgets the
// record after its grace period. SettlePending never fails, since there
// is nothing a buy could do about it.
type LaterSettler struct {
	clients clientSource

	mu     sync.Mutex
	queue  map[string][]string // order keys by user
	n      int                 // keys queued
	armed  bool                // a round is due after forgetDelay
	closed bool                // Close began: no round starts any more
	rounds sync.WaitGroup      // rounds under way (see Close)
}

// LaterSettler returns the delayed settler of the connector's pending
// records.
func (c *Connector) LaterSettler() *LaterSettler { return newLaterSettler(c) }

// NewLaterSettler returns the delayed settler of the pending records on
// client.
func NewLaterSettler(client rueidis.Client) *LaterSettler {
	return newLaterSettler(connected{client})
}

func newLaterSettler(clients clientSource) *LaterSettler {
	return &LaterSettler{clients: clients, queue: map[string][]string{}}
}

// SettlePending queues the forget of user's pending orders with these
// order keys and returns at once. After Close it forgets nothing: the
// settler will.
func (l *LaterSettler) SettlePending(_ context.Context, user string, orderKeys ...string) error {
	if len(orderKeys) == 0 {
		return nil
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.queue[user] = append(l.queue[user], orderKeys...)
	l.n += len(orderKeys)
	full, arm := l.n >= maxForgets, !l.armed
	if arm && !full {
		l.armed = true
	}
	if full {
		l.startRound()
	}
	l.mu.Unlock()
	if arm && !full {
		time.AfterFunc(forgetDelay, l.roundDue)
	}
	return nil
}

// roundDue sends what the queue holds when the delay of its first forget
// ends.
func (l *LaterSettler) roundDue() {
	l.mu.Lock()
	l.armed = false
	l.startRound()
	l.mu.Unlock()
}

// startRound takes the queue and sends it in a goroutine of its own. l.mu
// must be held.
func (l *LaterSettler) startRound() {
	if l.n == 0 || l.closed {
		return
	}
	batch := l.queue
	l.queue, l.n = map[string][]string{}, 0
	l.rounds.Add(1)
	go func() {
		defer l.rounds.Done()
		ctx, cancel := context.WithTimeout(context.Background(), forgetTimeout)
		defer cancel()
		_ = l.forget(ctx, batch) // left to the settler: see LaterSettler
	}()
}

// forget sends one HDEL per user, pipelined.
func (l *LaterSettler) forget(ctx context.Context, batch map[string][]string) error {
	client, err := l.clients.Client(ctx)
	if err != nil {
		return fmt.Errorf("forget pending orders: %w", err)
	}
	cmds := make(rueidis.Commands, 0, len(batch))
	for user, keys := range batch {
		cmds = append(cmds, forgetPending(client, user, keys))
	}
	for _, r := range client.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return fmt.Errorf("forget pending orders: %w", translate(err))
		}
	}
	return nil
}

// Close sends the queued forgets now and waits until every round under
// way has ended: after it, every order settled before the call is
// forgotten (unless Redis failed, which the settler covers). Forgets that
// come later (a buy still finishing while the process stops) are left to
// the settler: no round starts once Close has, so none can use a client
// closed after it, and none is added to rounds while Close waits for
// them. For a shutdown, and for tests, which must not wait for a timer.
func (l *LaterSettler) Close() {
	l.mu.Lock()
	l.startRound()
	l.closed = true
	l.mu.Unlock()
	l.rounds.Wait()
}
