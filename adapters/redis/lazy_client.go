package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"stockd/ports"
)

// lazyClient is the client Open returns when no seed answered: it builds
// the real client (single server or cluster, as rueidis detects) at the
// first use after a seed answers, and fails fast with ErrUnavailable until
// then. One caller dials at a time, at most once per redialEvery; the
// others fail at once rather than queue behind a dial timeout.
type lazyClient struct {
	opt     rueidis.ClientOption
	builder rueidis.Builder
	client  atomic.Pointer[rueidis.Client]
	dialing sync.Mutex
	lastErr error     // guarded by dialing
	lastTry time.Time // guarded by dialing
	closed  atomic.Bool
}

// redialEvery spaces the attempts to build the real client.
const redialEvery = 500 * time.Millisecond

var errClosed = errors.New("redis: client closed")

// errRebuilt: a command built before the real client existed named no
// cluster slot (see lazyClient.B); it is refused, as an outage, rather than
// sent to a wrong node.
var errRebuilt = fmt.Errorf("%w: redis: connected meanwhile, try again", ports.ErrUnavailable)

func newLazyClient(opt rueidis.ClientOption) *lazyClient {
	return &lazyClient{opt: opt, builder: placeholderBuilder(opt)}
}

// placeholderBuilder returns the command builder of a single-server client,
// for commands built before the real client exists. rueidis offers a
// builder only through a client, so it makes one that never dials.
func placeholderBuilder(opt rueidis.ClientOption) rueidis.Builder {
	opt.ForceSingleClient = true
	opt.DialCtxFn = func(context.Context, string, *net.Dialer, *tls.Config) (net.Conn, error) {
		return nil, errors.New("placeholder never dials")
	}
	c, _ := rueidis.NewClient(opt) // ForceSingleClient returns the client even when the dial fails
	defer c.Close()
	return c.B()
}

// get returns the real client, building it if it is time to try.
func (l *lazyClient) get() (rueidis.Client, error) {
	if c := l.client.Load(); c != nil {
		return *c, nil
	}
	if l.closed.Load() {
		return nil, errClosed
	}
	if !l.dialing.TryLock() {
		return nil, fmt.Errorf("%w: redis: connecting", ports.ErrUnavailable)
	}
	defer l.dialing.Unlock()
	if c := l.client.Load(); c != nil {
		return *c, nil
	}
	if time.Since(l.lastTry) < redialEvery {
		return nil, l.lastErr
	}
	l.lastTry = time.Now()
	c, err := rueidis.NewClient(l.opt)
	if err != nil {
		l.lastErr = fmt.Errorf("%w: redis: %v", ports.ErrUnavailable, err)
		return nil, l.lastErr
	}
	if l.closed.Load() {
		c.Close()
		return nil, errClosed
	}
	l.client.Store(&c)
	return c, nil
}

// usable reports whether cmd, built by B, may go to c.
func usable(c rueidis.Client, slot uint16) bool {
	const noSlot = 1 << 15 // what a single-server builder marks its commands with
	return c.Mode() != rueidis.ClientModeCluster || slot&noSlot == 0
}

func (l *lazyClient) B() rueidis.Builder {
	if c := l.client.Load(); c != nil {
		return (*c).B()
	}
	return l.builder
}

func (l *lazyClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	c, err := l.get()
	if err != nil {
		return rueidis.NewErrorResult(err)
	}
	if !usable(c, cmd.Slot()) {
		return rueidis.NewErrorResult(errRebuilt)
	}
	return c.Do(ctx, cmd)
}

func (l *lazyClient) DoMulti(ctx context.Context, multi ...rueidis.Completed) []rueidis.RedisResult {
	c, failed := l.clientForAll(len(multi), func(i int) uint16 { return multi[i].Slot() })
	if failed != nil {
		return failed
	}
	return c.DoMulti(ctx, multi...)
}

// clientForAll returns the client when it can take every one of n
// commands (slot(i) is the slot of the i-th), else one error result for
// each of them.
func (l *lazyClient) clientForAll(n int, slot func(int) uint16) (rueidis.Client, []rueidis.RedisResult) {
	c, err := l.get()
	for i := 0; err == nil && i < n; i++ {
		if !usable(c, slot(i)) {
			err = errRebuilt
		}
	}
	if err == nil {
		return c, nil
	}
	out := make([]rueidis.RedisResult, n)
	for i := range out {
		out[i] = rueidis.NewErrorResult(err)
	}
	return nil, out
}

func (l *lazyClient) DoCache(ctx context.Context, cmd rueidis.Cacheable, ttl time.Duration) rueidis.RedisResult {
	c, err := l.get()
	if err != nil {
		return rueidis.NewErrorResult(err)
	}
	if !usable(c, cmd.Slot()) {
		return rueidis.NewErrorResult(errRebuilt)
	}
	return c.DoCache(ctx, cmd, ttl)
}

func (l *lazyClient) DoMultiCache(ctx context.Context, multi ...rueidis.CacheableTTL) []rueidis.RedisResult {
	c, failed := l.clientForAll(len(multi), func(i int) uint16 { return multi[i].Cmd.Slot() })
	if failed != nil {
		return failed
	}
	return c.DoMultiCache(ctx, multi...)
}

func (l *lazyClient) DoStream(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResultStream {
	c, err := l.get()
	if err != nil {
		return rueidis.NewErrorResultStream(err)
	}
	if !usable(c, cmd.Slot()) {
		return rueidis.NewErrorResultStream(errRebuilt)
	}
	return c.DoStream(ctx, cmd)
}

func (l *lazyClient) DoMultiStream(ctx context.Context, multi ...rueidis.Completed) rueidis.MultiRedisResultStream {
	c, err := l.get()
	if err != nil {
		return rueidis.NewErrorResultStream(err)
	}
	for _, cmd := range multi {
		if !usable(c, cmd.Slot()) {
			return rueidis.NewErrorResultStream(errRebuilt)
		}
	}
	return c.DoMultiStream(ctx, multi...)
}

func (l *lazyClient) Receive(ctx context.Context, subscribe rueidis.Completed, fn func(msg rueidis.PubSubMessage)) error {
	c, err := l.get()
	if err != nil {
		return err
	}
	if !usable(c, subscribe.Slot()) {
		return errRebuilt
	}
	return c.Receive(ctx, subscribe, fn)
}

func (l *lazyClient) Dedicated(fn func(rueidis.DedicatedClient) error) error {
	c, err := l.get()
	if err != nil {
		return err
	}
	return c.Dedicated(fn)
}

// Dedicate needs a connection to hand out: without one it returns a nil
// client, which stockd never asks for (it uses Dedicated, which reports
// the outage).
func (l *lazyClient) Dedicate() (rueidis.DedicatedClient, func()) {
	c, err := l.get()
	if err != nil {
		return nil, func() {}
	}
	return c.Dedicate()
}

// Nodes is empty until the real client exists; nodesOf reports the outage.
func (l *lazyClient) Nodes() map[string]rueidis.Client {
	c, err := l.get()
	if err != nil {
		return map[string]rueidis.Client{}
	}
	return c.Nodes()
}

func (l *lazyClient) Mode() rueidis.ClientMode {
	if c, err := l.get(); err == nil {
		return c.Mode()
	}
	return rueidis.ClientModeStandalone
}

func (l *lazyClient) Close() {
	l.closed.Store(true)
	l.dialing.Lock() // wait for a dial in progress, which sees closed
	defer l.dialing.Unlock()
	if c := l.client.Load(); c != nil {
		(*c).Close()
	}
}

// nodesOf returns the nodes of c to scan or ping, each once: the server,
// or every node of a cluster.
func nodesOf(c rueidis.Client) (map[string]rueidis.Client, error) {
	if l, ok := c.(*lazyClient); ok {
		real, err := l.get()
		if err != nil {
			return nil, err
		}
		c = real
	}
	nodes := c.Nodes()
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w: redis: no node known", ports.ErrUnavailable)
	}
	return nodes, nil
}
