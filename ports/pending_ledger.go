package ports

import "stockd/domain"

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

// PendingLedger is what the settler reads and writes of a credit store:
// the pending orders that Debit wrote, which it records and then forgets,
// and a user's credit, which stands in for the credit left of an order
// whose request lost it.
type PendingLedger interface {
	PendingSettler
	CreditReader
	PendingLister
}
