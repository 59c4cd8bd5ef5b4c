//go:build integration

package postgres_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/postgres"
	"stockd/domain"
	"stockd/internal/testenv"
)

// TestGroupCommitFlushIsASpanOnPostgres: on a real database, every flush
// is a span with its batch size; together they count every save once and
// link each caller's span once.
func TestGroupCommitFlushIsASpanOnPostgres(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	repo := postgres.NewOrderRepository(pool(t, testenv.Postgres(t)), postgres.WithOrderTracing(tp))
	tracer := tp.Tracer("test")

	const saves = 20
	callers := make([]trace.SpanID, saves)
	var wg sync.WaitGroup
	for i := range saves {
		wg.Go(func() {
			ctx, span := tracer.Start(t.Context(), "caller")
			defer span.End()
			callers[i] = span.SpanContext().SpanID()
			o, err := domain.NewOrder(testenv.UniqueName(fmt.Sprintf("traced-%d", i)), "user1", "stock1", domain.Accepted, 10, 1, time.Now())
			if assert.NoError(t, err) {
				_, err = repo.Save(ctx, o)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()

	var sizes int64
	links := map[trace.SpanID]int{}
	for _, s := range spans.Ended() {
		if s.Name() != "postgres group commit" {
			continue
		}
		for _, kv := range s.Attributes() {
			if kv.Key == "db.operation.batch.size" {
				sizes += kv.Value.AsInt64()
			}
		}
		for _, l := range s.Links() {
			links[l.SpanContext.SpanID()]++
		}
	}
	assert.Equal(t, int64(saves), sizes, "every save in one flush")
	for i, id := range callers {
		assert.Equal(t, 1, links[id], "caller %d linked once", i)
	}
}
