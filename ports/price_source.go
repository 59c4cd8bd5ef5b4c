package ports

import (
	"context"

	"stockd/domain"
)

// ApplyBatch stores a batch of ticks. A source acknowledges the batch (a
// Kafka offset commit) only after it returns nil.
type ApplyBatch func(ctx context.Context, batch *domain.TickBatch) error

// PriceSource delivers ticks in batches, in source order: what the price
// updater reads.
type PriceSource interface {
	// Run reads the source and hands every batch to apply. A finite source
	// (a file) returns nil once read, and apply's error if apply fails. An
	// endless one (a topic) retries a batch that apply refuses until apply
	// takes it or ctx ends, since skipping it would lose ticks; when ctx
	// ends it returns nil, and a batch not yet acknowledged is delivered
	// again to the next run.
	Run(ctx context.Context, apply ApplyBatch) error
}
