package ports

import "stockd/domain"

// Outcome is a judged order and the credit its user has left after it:
// what a debit returns, what a buy answers, and what an idempotency record
// keeps to answer the request's retries.
type Outcome struct {
	Order  domain.Order
	Credit int64
}
