package ports

import "context"

// CreditSetter is what seeding users writes: the one call of CreditStore
// it needs.
type CreditSetter interface {
	// SetCredit creates user or overwrites its credit, keeping whatever
	// else the store holds for the user (see CreditStore).
	SetCredit(ctx context.Context, user string, credit int64) error
}
