package ports

import "context"

// CreditReader is what the user page reads of a credit store.
type CreditReader interface {
	// Credit returns user's credit, or ErrUserNotFound.
	Credit(ctx context.Context, user string) (int64, error)
}
