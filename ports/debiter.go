package ports

import (
	"context"

	"stockd/domain"
)

//go:generate go tool mockgen -destination=portsmock/debiter.go -package=portsmock stockd/ports Debiter

// DebitRequest asks to judge Order against its user's credit and, when it
// is accepted, to debit it. IdempotencyKey and Fingerprint are those of the
// request (empty without a key): they go into the pending order, so that
// whoever settles it can complete the key.
type DebitRequest struct {
	Order          domain.BuyOrder
	IdempotencyKey string
	Fingerprint    string
}

// Debiter is what a buy asks of a credit store: to judge and debit in one
// atomic step.
type Debiter interface {
	// Debit judges req.Order by domain.Account.Buy against the stored
	// credit and the user's position in the order's stock. An accepted
	// order's debit, its position and its pending order (see
	// PendingLedger) are written together in one atomic step; a denied
	// order writes nothing. Concurrent debits (and sales, see
	// SaleCrediter) of a user never interleave.
	// A store that also holds the idempotency records (Redis) debits a
	// request with a key only while the key is still reserved for this
	// order (ErrKeyInFlight otherwise, nothing written), so that a key the
	// settler freed can never be paid twice; see storetest.DebitFence.
	// It returns the judged order and the credit left after it.
	Debit(ctx context.Context, req DebitRequest) (Outcome, error)
}
