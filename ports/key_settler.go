package ports

import (
	"context"
	"time"
)

// KeySettler is what the settler does with the idempotency keys that no
// request will finish: find them, then complete each with its recorded
// order or free it.
type KeySettler interface {
	KeyCompleter
	// InFlight lists the reservations made before reservedBefore that are
	// still in flight.
	InFlight(ctx context.Context, reservedBefore time.Time) ([]Reservation, error)
	// Free deletes r's key if it is still reserved for r.OrderKey and, in
	// a store that also holds the pending orders, no pending order has
	// that key (checked in the same atomic step). It reports whether it
	// freed the key.
	Free(ctx context.Context, r Reservation) (bool, error)
}
