package ports

import (
	"context"
	"errors"

	"stockd/domain"
)

//go:generate go tool mockgen -destination=portsmock/order_repository.go -package=portsmock stockd/ports OrderRepository

// ErrOrderNotFound reports an order key or id the repository does not hold.
var ErrOrderNotFound = errors.New("order not found")

// OrderRepository keeps judged orders.
type OrderRepository interface {
	// Save stores o and returns it with its ID. Saving is idempotent by
	// o.Key(): a key already stored returns the stored order unchanged.
	Save(ctx context.Context, o domain.Order) (domain.Order, error)
	// List returns the orders matching q, in listing order, at most
	// q.Limit of them.
	List(ctx context.Context, q domain.OrderQuery) ([]domain.Order, error)
	// ByKey returns the order saved under key, or ErrOrderNotFound.
	ByKey(ctx context.Context, key string) (domain.Order, error)
	// ByID returns the order with id, or ErrOrderNotFound (see
	// OrderFinder).
	ByID(ctx context.Context, id int64) (domain.Order, error)
}
