package app

import (
	"context"

	"stockd/domain"
	"stockd/ports"
)

// IngestTicks is the price updater: it reads a price source and merges each
// batch into the price store.
type IngestTicks struct {
	source  ports.PriceSource
	store   ports.PriceMerger
	applied func(ticks, stocks int)
}

// NewIngestTicks wires the updater. applied, when not nil, is told of every
// batch stored (for metrics and logs).
func NewIngestTicks(source ports.PriceSource, store ports.PriceMerger, applied func(ticks, stocks int)) (*IngestTicks, error) {
	if err := requireAll(map[string]any{"price source": source, "price store": store}); err != nil {
		return nil, err
	}
	if applied == nil {
		applied = func(int, int) {}
	}
	return &IngestTicks{source: source, store: store, applied: applied}, nil
}

// Run ingests until the source ends (a file) or ctx is cancelled (a topic).
func (u *IngestTicks) Run(ctx context.Context) error {
	return u.source.Run(ctx, func(ctx context.Context, batch *domain.TickBatch) error {
		if batch.Ticks() == 0 {
			return nil
		}
		if err := u.store.Merge(ctx, batch.Histories()); err != nil {
			return err
		}
		u.applied(batch.Ticks(), len(batch.Histories()))
		return nil
	})
}
