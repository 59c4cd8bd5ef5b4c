package redis

import (
	"errors"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"stockd/ports"
)

// tracerName names the spans this package starts.
const tracerName = "stockd/adapters/redis"

// endSpan ends span, marked failed when err says the store failed. A
// missing user is an answer, not a failure of the store.
func endSpan(span trace.Span, err error) {
	if err != nil && !errors.Is(err, ports.ErrUserNotFound) {
		span.RecordError(err)
		span.SetStatus(codes.Error, "debit failed")
	}
	span.End()
}
