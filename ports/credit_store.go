package ports

import (
	"context"
	"errors"

	"stockd/domain"
)

//go:generate go tool mockgen -destination=portsmock/credit_store.go -package=portsmock stockd/ports CreditStore

// ErrUserNotFound reports a user the credit store does not know.
var ErrUserNotFound = errors.New("user not found")

// ErrOutcomeUnknown wraps a failure of an atomic write whose outcome the
// store cannot tell (the connection broke after the write was sent): the
// write may have been applied. Callers must not assume it was not.
var ErrOutcomeUnknown = errors.New("the write may or may not have been applied")

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

// CreditChange is what a credit update decided: the new credit, and the
// pending order to store with it (nil for no order, in which case nothing
// is written).
type CreditChange struct {
	Credit  int64
	Pending *PendingOrder
}

// CreditStore keeps each user's credit, and the pending orders written in
// the same atomic step as their debit.
type CreditStore interface {
	// UpdateCredit reads user's credit, lets decide choose the change, and
	// stores the new credit together with the pending order as one atomic
	// step: concurrent updates of a user never interleave. An error from
	// decide is returned and nothing is written.
	UpdateCredit(ctx context.Context, user string, decide func(credit int64) (CreditChange, error)) (CreditChange, error)
	// Credit returns user's credit.
	Credit(ctx context.Context, user string) (int64, error)
	// SetCredit creates user or overwrites its credit, keeping whatever
	// else the store holds for the user.
	SetCredit(ctx context.Context, user string, credit int64) error
	// PendingOrders lists the pending orders, oldest first.
	PendingOrders(ctx context.Context) ([]PendingOrder, error)
	// SettlePending forgets the pending order with this order key, once it
	// is in the order repository. Settling an unknown key is not an error.
	SettlePending(ctx context.Context, orderKey string) error
}
