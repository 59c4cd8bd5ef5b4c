package ports

import (
	"context"
	"errors"

	"stockd/domain"
)

// ErrPositionsChanged reports positions that are no longer what the
// caller read: a trade came between.
var ErrPositionsChanged = errors.New("positions changed since they were read")

// PositionSetter is what repairing positions from the order ledger writes
// to a credit store.
type PositionSetter interface {
	// SetPositions replaces user's positions with holdings (an empty
	// position is not stored) in one atomic step, provided they are still
	// was (what PositionsOf or AllPositions returned); otherwise it writes
	// nothing and returns ErrPositionsChanged. The credit and the pending
	// orders are left as they are.
	SetPositions(ctx context.Context, user string, was, holdings []domain.Holding) error
}
