package kafka_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/kafka"
	"stockd/adapters/memory"
	"stockd/domain"
)

func attrOf(s sdktrace.ReadOnlySpan, key attribute.Key) attribute.Value {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// TestEveryBatchIsAPollAndAnApplySpan: with a tracer provider, each poll
// is a span and the apply of its batch a child span, which the store's
// context carries and which says how many records it took and that they
// were committed.
func TestEveryBatchIsAPollAndAnApplySpan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.produce(t, writeTicks(t, 500, 7))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	src, err := kafka.NewSource(kafka.SourceConfig{Brokers: e.brokers, Topic: e.topic, Group: e.group,
		MaxPoll: 200, Stocks: stocks(t), Logger: quiet, TracerProvider: tp})
	require.NoError(t, err)
	t.Cleanup(src.Close)

	store := memory.NewPriceStore()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var applied atomic.Int64
	var applyContexts []trace.SpanContext
	require.NoError(t, src.Run(ctx, func(ctx context.Context, b *domain.TickBatch) error {
		applyContexts = append(applyContexts, trace.SpanContextFromContext(ctx))
		if applied.Add(int64(b.Ticks())) >= int64(n) {
			cancel()
		}
		return store.Merge(ctx, b.Histories())
	}))

	polls := map[trace.SpanID]bool{}
	var applies []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		switch s.Name() {
		case "kafka poll":
			polls[s.SpanContext().SpanID()] = true
			assert.Equal(t, e.topic, attrOf(s, "messaging.destination.name").AsString())
		case "kafka apply":
			applies = append(applies, s)
		}
	}
	require.NotEmpty(t, applies)
	require.Len(t, applies, len(applyContexts), "one apply span per batch")
	var records int64
	for i, s := range applies {
		assert.True(t, polls[s.Parent().SpanID()], "an apply is the child of its poll")
		assert.Equal(t, s.SpanContext(), applyContexts[i], "the store gets the apply's span")
		assert.True(t, attrOf(s, "stockd.committed").AsBool())
		records += attrOf(s, "messaging.batch.message_count").AsInt64()
	}
	assert.Equal(t, int64(n), records, "every record in one apply")
}
