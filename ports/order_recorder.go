package ports

import (
	"context"
	"errors"

	"stockd/domain"
)

// ErrOrderNotFound reports an order key the repository does not hold.
var ErrOrderNotFound = errors.New("order not found")

// ErrOrderForgone reports a denied order whose key the settler gave up on
// (see OrderRecorder.Forgo): it was not stored and never will be.
var ErrOrderForgone = errors.New("order key was given up by the settler")

// OrderRecorder is what the settler asks of the order repository: to
// record a pending order, and to settle for good whether a stuck request's
// order was recorded.
type OrderRecorder interface {
	OrderSaver
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
