//go:build integration

package redis_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/redis"
	"stockd/internal/testenv"
	"stockd/ports"
)

// TestDebitIsASpanOfTheCaller: with a tracer provider, a debit is one
// client span, the child of the span in the caller's context, carrying
// the verdict; a store that fails marks it failed.
func TestDebitIsASpanOfTheCaller(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	set(t, c, "user1", `{"credit": 1000}`)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	s := redis.NewCreditStore(c, redis.WithCreditTracing(tp))

	ctx, caller := tp.Tracer("test").Start(t.Context(), "caller")
	_, err := s.Debit(ctx, ports.DebitRequest{Order: buyOrder(t, "user1", 10, 2)})
	require.NoError(t, err)
	caller.End()

	ended := spans.Ended()
	require.Len(t, ended, 2, "the debit and the caller")
	debit := ended[0]
	assert.Equal(t, "redis debit", debit.Name())
	assert.Equal(t, trace.SpanKindClient, debit.SpanKind())
	assert.Equal(t, caller.SpanContext().SpanID(), debit.Parent().SpanID(), "a child of the caller's span")
	assert.Equal(t, caller.SpanContext().TraceID(), debit.SpanContext().TraceID())
	assert.Contains(t, debit.Attributes(), attribute.String("stockd.order.status", "accepted"))
	assert.Equal(t, codes.Unset, debit.Status().Code)

	srv.Stop()
	_, err = s.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, "user1", 10, 2)})
	require.Error(t, err)
	ended = spans.Ended()
	require.Len(t, ended, 3)
	assert.Equal(t, codes.Error, ended[2].Status().Code, "a store outage is a failed span")
}
