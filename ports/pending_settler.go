package ports

import "context"

// PendingSettler is what a buy does with the pending order its debit
// wrote, once the order is recorded: forget it.
type PendingSettler interface {
	// SettlePending forgets user's pending orders with these order keys,
	// once they are in the order repository, in one step. Settling an
	// unknown key is not an error.
	SettlePending(ctx context.Context, user string, orderKeys ...string) error
}
