package ports

import (
	"errors"
	"time"
)

// Errors of idempotency keys.
var (
	// ErrKeyReused: the key was first used with another request.
	ErrKeyReused = errors.New("idempotency key was used with another request")
	// ErrKeyInFlight: the first request with the key has not finished.
	ErrKeyInFlight = errors.New("a request with this idempotency key is in progress")
)

// Reservation is an idempotency key claimed by a request that has not
// finished. Keys are scoped by user: one user's key never meets another's.
// OrderKey is the key of the order the request will judge, so that the
// settler can tell whether it was ever debited or recorded.
type Reservation struct {
	User        string
	Key         string
	Fingerprint string
	OrderKey    string
	ReservedAt  time.Time
}

// IdempotencyStore is an idempotency adapter whole, the union of the buy's
// IdempotencyKeys and the settler's KeySettler, for the contract suites
// (storetest.IdempotencyStore, storetest.DebitFence) and the adapters'
// compile-time checks. It remembers, per user and idempotency key, the
// request that first used it and what it returned.
type IdempotencyStore interface {
	IdempotencyKeys
	KeySettler
}
