package ports

import (
	"context"

	"stockd/domain"
)

// LedgerReader is what reconciling positions reads of the order
// repository: the accepted orders, in the order a ledger replays them.
type LedgerReader interface {
	// AcceptedOrders calls each with every accepted order, of user alone
	// when user is not empty, ordered by user, stock, creation time and
	// ID, so that each user's orders in one stock come together. An error
	// of each stops the reading and is returned.
	AcceptedOrders(ctx context.Context, user string, each func(domain.Order) error) error
}
