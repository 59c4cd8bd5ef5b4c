package ports

import (
	"context"

	"stockd/domain"
)

// Portfolio is a user's credit and positions, read at one instant.
type Portfolio struct {
	Credit int64
	// Holdings are the positions with at least one share, in stock name
	// order.
	Holdings []domain.Holding
}

// PositionReader is what the positions page reads of a credit store.
type PositionReader interface {
	// Positions returns user's credit and every position it holds, read
	// together in one atomic step (no trade half seen), or
	// ErrUserNotFound.
	Positions(ctx context.Context, user string) (Portfolio, error)
}
