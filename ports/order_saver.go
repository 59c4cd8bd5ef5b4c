package ports

import (
	"context"

	"stockd/domain"
)

// OrderSaver is what a buy writes to the order repository: the judged
// order.
type OrderSaver interface {
	// Save stores o and returns it with its ID. Saving is idempotent by
	// o.Key(): a key already stored returns the stored order unchanged.
	Save(ctx context.Context, o domain.Order) (domain.Order, error)
}
