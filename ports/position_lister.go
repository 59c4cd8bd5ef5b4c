package ports

import (
	"context"

	"stockd/domain"
)

// PositionLister is what reconciling positions with the order ledger reads
// of a credit store: every user's positions, and one user's again.
type PositionLister interface {
	// AllPositions calls each once for every user who holds shares, with
	// the user's positions of at least one share in stock name order, each
	// user's read in one atomic step (no trade half seen); users come in no
	// particular order. It reads positions whether or not the user has a
	// user record. An error of each stops the listing and is returned.
	AllPositions(ctx context.Context, each func(user string, holdings []domain.Holding) error) error
	// PositionsOf returns user's positions as AllPositions gives them:
	// none, and no error, for a user who holds nothing.
	PositionsOf(ctx context.Context, user string) ([]domain.Holding, error)
}
