package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"stockd/domain"
	"stockd/ports"
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
	order  domain.Order
	caller trace.SpanContext // the caller's span, linked from the flush's
	out    savedOrder
	done   chan struct{} // closed once out is set
	lead   chan struct{} // closed when this call is handed the next flush

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
	// tracer starts a span per flush; nil is no tracing.
	tracer trace.Tracer

	mu       sync.Mutex
	queue    []*saveCall
	flushing bool
}

// save queues o and returns once the flush that holds it has ended. A
// caller whose ctx ends first gets ctx's error at once, and a flush it
// already joined goes on for the others; the one caller that runs a flush
// waits for it to end (within flushTimeout).
func (g *groupCommit) save(ctx context.Context, o domain.Order) (domain.Order, error) {
	c := &saveCall{order: o, caller: trace.SpanContextFromContext(ctx), done: make(chan struct{}), lead: make(chan struct{})}
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
	fctx, span := g.startFlushSpan(fctx, batch)
	outs := g.flush(fctx, orders)
	endFlushSpan(span, outs)
	for i, out := range outs {
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

// startFlushSpan starts the span of one flush: the child of the span of
// the caller that runs it, linked to the span of every caller it serves,
// so that each request's trace leads to the commit its order waited for.
func (g *groupCommit) startFlushSpan(ctx context.Context, batch []*saveCall) (context.Context, trace.Span) {
	tracer := g.tracer
	if tracer == nil {
		tracer = noop.Tracer{}
	}
	links := make([]trace.Link, 0, len(batch))
	for _, c := range batch {
		if c.caller.IsValid() {
			links = append(links, trace.Link{SpanContext: c.caller})
		}
	}
	return tracer.Start(ctx, "postgres group commit", trace.WithSpanKind(trace.SpanKindClient), trace.WithLinks(links...),
		trace.WithAttributes(semconv.DBSystemNamePostgreSQL, semconv.DBOperationName("INSERT"),
			semconv.DBCollectionName("orders"), semconv.DBOperationBatchSize(len(batch))))
}

// endFlushSpan ends a flush's span, failed when an order of it could not
// be stored (a forgone order is an answer, not a failure).
func endFlushSpan(span trace.Span, outs []savedOrder) {
	failed := 0
	var first error
	for _, out := range outs {
		if out.err != nil && !errors.Is(out.err, ports.ErrOrderForgone) {
			failed++
			if first == nil {
				first = out.err
			}
		}
	}
	if first != nil {
		span.SetAttributes(attribute.Int("stockd.orders.failed", failed))
		span.RecordError(first)
		span.SetStatus(codes.Error, "orders not stored")
	}
	span.End()
}
