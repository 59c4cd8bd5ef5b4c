package ports

import (
	"context"

	"stockd/domain"
)

// OrderLister is what the order listing reads: the one call of
// OrderRepository it needs.
type OrderLister interface {
	// List returns the orders matching q, in listing order, at most
	// q.Limit of them (see OrderRepository).
	List(ctx context.Context, q domain.OrderQuery) ([]domain.Order, error)
}
