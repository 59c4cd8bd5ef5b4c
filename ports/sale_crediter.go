package ports

import (
	"context"

	"stockd/domain"
)

//go:generate go tool mockgen -destination=portsmock/sale_crediter.go -package=portsmock stockd/ports SaleCrediter

// SaleRequest asks to judge Order against its user's position in the
// stock and, when it is accepted, to credit its proceeds. IdempotencyKey
// and Fingerprint are those of the request, as in DebitRequest.
type SaleRequest struct {
	Order          domain.SellOrder
	IdempotencyKey string
	Fingerprint    string
}

// SaleCrediter is what a sale asks of a credit store: to judge, take the
// shares and credit the proceeds in one atomic step.
type SaleCrediter interface {
	// CreditSale judges req.Order by domain.Account.Sell against the
	// stored credit and the user's position in the order's stock. An
	// accepted sale's credit, its position and its pending order (see
	// PendingLedger) are written together in one atomic step; a denied
	// sale writes nothing. A user's sales and debits never interleave, so
	// concurrent sales never sell more shares than are held, and a buy and
	// a sale never lose each other's update. The fence of Debiter holds
	// for a sale too: a store that holds the idempotency records credits a
	// request with a key only while the key is reserved for this order. It
	// returns the judged order and the credit after it.
	CreditSale(ctx context.Context, req SaleRequest) (Outcome, error)
}
