package ports

import (
	"context"

	"stockd/domain"
)

// QuotesReader is what the stock list reads of the price store: the
// quotes of a page of stocks in one call, so that a page costs one round
// trip (one per node of a cluster), not one per stock.
type QuotesReader interface {
	// LatestQuotes returns the quote of each of stocks, in the same order
	// (see QuoteReader.Latest); a stock with no price yet has the zero
	// Quote (every price is positive, so Price 0 says none).
	LatestQuotes(ctx context.Context, stocks []string) ([]domain.Quote, error)
}
