package ports

import (
	"context"
	"errors"
)

// ErrUserNotFound reports a user the credit store does not know: no key, a
// key that does not hold a user record, or a name that is not a user's.
var ErrUserNotFound = errors.New("user not found")

// ErrOutcomeUnknown wraps a failure of an atomic write whose outcome the
// store cannot tell (the connection broke after the write was sent): the
// write may have been applied. Callers must not assume it was not.
var ErrOutcomeUnknown = errors.New("the write may or may not have been applied")

// CreditStore is a credit adapter whole: what the buy and settle paths
// call (Debiter, PendingOrders), the credit read of the user page, and
// SetCredit for seed-users. The contract suite tests adapters through it;
// use cases take the small ports.
type CreditStore interface {
	Debiter
	PendingOrders
	// Credit returns user's credit.
	Credit(ctx context.Context, user string) (int64, error)
	// SetCredit creates user or overwrites its credit, keeping whatever
	// else the store holds for the user.
	SetCredit(ctx context.Context, user string, credit int64) error
}
