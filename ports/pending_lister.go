package ports

import "context"

// PendingLister reads the pending orders of a credit store (see
// PendingLedger): the settler records them, and reconciliation counts them
// in the ledger, since their trades are in the positions already.
type PendingLister interface {
	// PendingOrders lists every pending order, oldest first.
	PendingOrders(ctx context.Context) ([]PendingOrder, error)
}
