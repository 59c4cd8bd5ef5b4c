package ports

import (
	"context"

	"stockd/domain"
)

// OrderLister is what the order listing reads of the order repository.
type OrderLister interface {
	// List returns the orders matching q, in listing order, at most
	// q.Limit of them.
	List(ctx context.Context, q domain.OrderQuery) ([]domain.Order, error)
}
