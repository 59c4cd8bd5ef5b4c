package ports

import (
	"context"

	"stockd/domain"
)

// QuoteReader is what a buy reads of the price store: the price to judge
// an order at.
type QuoteReader interface {
	// Latest returns the quote of stock: the close of the last minute of
	// its latest day; ok is false when the stock has no price yet. A price
	// written by another process is seen by the next call.
	Latest(ctx context.Context, stock string) (q domain.Quote, ok bool, err error)
}
