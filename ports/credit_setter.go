package ports

import "context"

// CreditSetter is what seeding users writes to a credit store.
type CreditSetter interface {
	// SetCredit creates user or overwrites its credit, keeping whatever
	// else the store holds for the user (its pending orders).
	SetCredit(ctx context.Context, user string, credit int64) error
}
