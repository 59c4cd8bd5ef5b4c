package ports

import (
	"context"

	"stockd/domain"
)

//go:generate go tool mockgen -destination=portsmock/order_repository.go -package=portsmock stockd/ports OrderRepository

// OrderRepository is an order adapter whole, the union of the settler's
// OrderRecorder (which holds the buy's OrderSaver) and the listing's
// OrderLister, the order page's OrderFinder and reconciliation's
// LedgerReader, with ByKey for the contract suite
// (storetest.OrderRepository) and the adapters' compile-time checks. It
// keeps judged orders.
type OrderRepository interface {
	OrderRecorder
	OrderLister
	OrderFinder
	LedgerReader
	// ByKey returns the order saved under key, or ErrOrderNotFound.
	ByKey(ctx context.Context, key string) (domain.Order, error)
}
