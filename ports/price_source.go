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

// TickScanner reads a finite source of ticks (a file) one tick at a time,
// in source order, as often as asked: what the Kafka producer sends, after
// a first pass has checked every tick.
type TickScanner interface {
	// ScanTicks hands every tick to each, in source order, and stops at the
	// first bad tick (an error saying where it is) or the first error of
	// each.
	ScanTicks(ctx context.Context, each func(domain.Tick) error) error
}

// PriceMerger is where the price updater writes: the one call of
// PriceStore that ingesting needs.
type PriceMerger interface {
	// Merge folds each stock's histories, day by day, into its stored
	// series, atomically per stock (see PriceStore).
	Merge(ctx context.Context, histories map[string]domain.DayHistories) error
}
