package ports

import "errors"

// ErrUserNotFound reports a user the credit store does not know: no key, a
// key that does not hold a user record, or a name that is not a user's.
var ErrUserNotFound = errors.New("user not found")

// ErrOutcomeUnknown wraps a failure of an atomic write whose outcome the
// store cannot tell (the connection broke after the write was sent): the
// write may have been applied. Callers must not assume it was not.
var ErrOutcomeUnknown = errors.New("the write may or may not have been applied")

// CreditStore is a credit adapter whole, the union of the small ports its
// callers take (the buy's Debiter and PendingSettler, the sale's
// SaleCrediter, the settler's PendingLedger, the user page's CreditReader,
// the positions page's PositionReader, seeding's CreditSetter,
// reconciliation's PositionLister and PositionSetter), for the contract
// suites (storetest.CreditStore, storetest.Positions,
// storetest.PositionBook, storetest.DebitFence) and the adapters'
// compile-time checks. It keeps each user's credit, positions and pending
// orders.
type CreditStore interface {
	Debiter
	SaleCrediter
	PositionReader
	PositionLister
	PositionSetter
	PendingLedger
	CreditSetter
}
