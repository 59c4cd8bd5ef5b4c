package ports

import (
	"context"

	"stockd/domain"
)

// PendingOrder is an accepted order whose debit is stored but which may not
// be in the order repository yet: the outbox record that lets a restart
// finish what a crash interrupted. It carries what the idempotency record
// of its request needs.
type PendingOrder struct {
	Order          domain.Order
	CreditLeft     int64
	IdempotencyKey string // empty when the request had none
	Fingerprint    string
}

// PendingOrders lists and forgets the pending orders that Debit wrote.
type PendingOrders interface {
	// PendingOrders lists every pending order, oldest first.
	PendingOrders(ctx context.Context) ([]PendingOrder, error)
	// SettlePending forgets user's pending orders with these order keys,
	// once they are in the order repository, in one step. Settling an
	// unknown key is not an error.
	SettlePending(ctx context.Context, user string, orderKeys ...string) error
}
