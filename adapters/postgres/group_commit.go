package postgres

import (
	"context"
	"slices"
	"sync"
	"time"

	"stockd/domain"
)

// maxBatch bounds one flush: the rows of one INSERT, and so how long one
// statement holds its locks and how much one failure takes down.
const maxBatch = 256

// flushTimeout bounds one flush. A flush runs on no single caller's context
// (a caller that gives up must not roll back the others' orders), so this is
// what keeps a stalled server from holding a batch forever.
const flushTimeout = 10 * time.Second

// savedOrder is the outcome of one save: the order as stored, or why not.
type savedOrder struct {
	order domain.Order
	err   error
}

// saveCall is one Save waiting for its order to be committed.
type saveCall struct {
	order domain.Order
	out   savedOrder
	done  chan struct{} // closed once out is set
	lead  chan struct{} // closed when this call is handed the next flush

	// Guarded by groupCommit.mu.
	taken   bool // in a flush: its outcome no longer depends on its caller
	leading bool // lead was closed
}

// groupCommit gathers concurrent saves into one flush each, with no
// goroutine of its own: the caller that finds no flush running flushes the
// queue's head (its own order among them), then hands the next flush to
// the first caller still queued. So a flush starts as soon as the previous
// one ended, an idle repository adds no wait, and every flush is run by one
// of the callers it serves.
//
// Invariant: when no flush is running, the queue is empty; when one is
// running or handed over, the queue's head is the call that runs the next.
type groupCommit struct {
	// flush stores orders (at most maxBatch) and returns the outcome of
	// each, in the same order.
	flush func(ctx context.Context, orders []domain.Order) []savedOrder

	mu       sync.Mutex
	queue    []*saveCall
	flushing bool
}

// save queues o and returns once the flush that holds it has ended. A
// caller whose ctx ends first gets ctx's error at once, and a flush it
// already joined goes on for the others; the one caller that runs a flush
// waits for it to end (within flushTimeout).
func (g *groupCommit) save(ctx context.Context, o domain.Order) (domain.Order, error) {
	c := &saveCall{order: o, done: make(chan struct{}), lead: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	first := !g.flushing
	g.flushing = true
	g.mu.Unlock()
	lead := c.lead
	if first {
		lead = nil
		g.runFlush(ctx)
	}
	for {
		select {
		case <-c.done:
			return c.out.order, c.out.err
		case <-lead:
			lead = nil // a closed channel stays ready: lead once
			g.runFlush(ctx)
			continue
		case <-ctx.Done():
		}
		select {
		case <-c.done: // finished meanwhile: the truth is better than ctx's error
			return c.out.order, c.out.err
		default:
		}
		g.mu.Lock()
		if !c.taken {
			i := slices.Index(g.queue, c)
			g.queue = slices.Delete(g.queue, i, i+1)
			if c.leading {
				g.handOff()
			}
		}
		g.mu.Unlock()
		return domain.Order{}, ctx.Err()
	}
}

// runFlush flushes the queue's head (the caller's own call first) and hands
// the next flush on.
func (g *groupCommit) runFlush(ctx context.Context) {
	g.mu.Lock()
	n := min(len(g.queue), maxBatch)
	batch := slices.Clone(g.queue[:n])
	clear(g.queue[:n])
	g.queue = g.queue[n:]
	for _, c := range batch {
		c.taken = true
	}
	g.mu.Unlock()

	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	orders := make([]domain.Order, len(batch))
	for i, c := range batch {
		orders[i] = c.order
	}
	for i, out := range g.flush(fctx, orders) {
		batch[i].out = out
		close(batch[i].done)
	}

	g.mu.Lock()
	g.handOff()
	g.mu.Unlock()
}

// handOff gives the next flush to the queue's head, or ends flushing when
// nobody waits. g.mu must be held.
func (g *groupCommit) handOff() {
	if len(g.queue) == 0 {
		g.flushing = false
		return
	}
	next := g.queue[0]
	next.leading = true
	close(next.lead)
}
