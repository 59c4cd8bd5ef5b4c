package ports

import (
	"context"

	"stockd/domain"
)

// OrderFinder is what GET /api/orders/{id} reads: one order by its id.
type OrderFinder interface {
	// ByID returns the order with id, or ErrOrderNotFound.
	ByID(ctx context.Context, id int64) (domain.Order, error)
}
