package ports

import (
	"context"
	"errors"

	"stockd/domain"
)

//go:generate go tool mockgen -destination=portsmock/order_repository.go -package=portsmock stockd/ports OrderRepository

// ErrOrderNotFound reports an order key the repository does not hold.
var ErrOrderNotFound = errors.New("order not found")

// ErrOrderForgone reports a denied order whose key the settler gave up on
// (see OrderRepository.Forgo): it was not stored and never will be.
var ErrOrderForgone = errors.New("order key was given up by the settler")

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
	// Forgo is the settler's "no order" answer, made durable: it returns
	// the order saved under key, or ErrOrderNotFound and from then on
	// refuses to store a denied order under key (Save fails with
	// ErrOrderForgone). The check and the refusal are one step with any
	// Save of a denied order under key, however late that Save runs.
	// Accepted orders are not refused: their debit is fenced by the
	// idempotency key in the credit store (a key with a debited order is
	// never freed), and a debited order must always be recordable.
	Forgo(ctx context.Context, key string) (domain.Order, error)
}
