package ports

import (
	"context"
	"errors"

	"stockd/domain"
)

// ErrOrderNotFound reports an order key the repository does not hold.
var ErrOrderNotFound = errors.New("order not found")

// OrderRecorder is what the settler asks of the order repository: to
// record a pending order, and whether an order was recorded.
type OrderRecorder interface {
	OrderSaver
	// ByKey returns the order saved under key, or ErrOrderNotFound.
	ByKey(ctx context.Context, key string) (domain.Order, error)
}
