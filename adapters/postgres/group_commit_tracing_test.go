package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// batchSizeOf is the db.operation.batch.size of a flush's span.
func batchSizeOf(s sdktrace.ReadOnlySpan) int64 {
	for _, kv := range s.Attributes() {
		if kv.Key == "db.operation.batch.size" {
			return kv.Value.AsInt64()
		}
	}
	return -1
}

// TestGroupCommitFlushIsOneSpan: each flush is one span with its batch
// size, the child of the caller that runs it and linked to every caller
// it serves; a flush that fails is a failed span.
func TestGroupCommitFlushIsOneSpan(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewSpanRecorder()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)).Tracer("test")
	f := &fakeFlush{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	g := &groupCommit{flush: f.flush, tracer: tracer}

	const late = 5
	callers := make([]trace.SpanContext, late+1)
	var wg sync.WaitGroup
	save := func(i int) {
		ctx, span := tracer.Start(context.Background(), "caller")
		defer span.End()
		callers[i] = span.SpanContext()
		_, err := g.save(ctx, testOrder(t, i))
		assert.NoError(t, err)
	}
	wg.Go(func() { save(0) })
	<-f.started // the first save flushes alone, and is held there
	for i := 1; i <= late; i++ {
		wg.Go(func() { save(i) })
	}
	require.Eventually(t, func() bool { return queued(g) == late }, 10*time.Second, time.Millisecond)
	f.gate <- struct{}{}
	f.gate <- struct{}{}
	wg.Wait()

	var flushes []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "postgres group commit" {
			flushes = append(flushes, s)
		}
	}
	require.Len(t, flushes, 2)
	assert.Equal(t, []int64{1, late}, []int64{batchSizeOf(flushes[0]), batchSizeOf(flushes[1])})
	assert.Equal(t, callers[0].SpanID(), flushes[0].Parent().SpanID(), "run by the first caller")
	linked := map[trace.SpanID]bool{}
	for _, l := range flushes[1].Links() {
		linked[l.SpanContext.SpanID()] = true
	}
	for i := 1; i <= late; i++ {
		assert.True(t, linked[callers[i].SpanID()], "caller %d is linked from the flush that stored its order", i)
	}
	assert.Contains(t, []trace.SpanID{callers[1].SpanID(), callers[2].SpanID(), callers[3].SpanID(), callers[4].SpanID(), callers[5].SpanID()},
		flushes[1].Parent().SpanID(), "the second flush is run by one of its callers")

	f.fail = assert.AnError
	go func() { f.gate <- struct{}{} }()
	_, err := g.save(context.Background(), testOrder(t, 99))
	require.ErrorIs(t, err, assert.AnError)
	ended := spans.Ended()
	assert.Equal(t, codes.Error, ended[len(ended)-1].Status().Code)
}
