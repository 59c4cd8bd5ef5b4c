package ports

import (
	"context"

	"stockd/domain"
)

// ApplyBatch stores a batch of ticks. A source acknowledges the batch (a
// Kafka offset commit) only after it returns nil.
type ApplyBatch func(ctx context.Context, batch *domain.TickBatch) error

// PriceSource delivers ticks in batches, in source order.
type PriceSource interface {
	// Run reads the source and hands every batch to apply. A finite source
	// (a file) returns nil once read; an endless one (a topic) returns nil
	// when ctx is cancelled after its last batch is applied and
	// acknowledged. An error from apply stops Run and is returned.
	Run(ctx context.Context, apply ApplyBatch) error
}
