package ports

import (
	"context"
	"errors"
	"time"

	"stockd/domain"
)

// Errors of idempotency keys.
var (
	// ErrKeyReused: the key was first used with another request.
	ErrKeyReused = errors.New("idempotency key was used with another request")
	// ErrKeyInFlight: the first request with the key has not finished.
	ErrKeyInFlight = errors.New("a request with this idempotency key is in progress")
)

// Outcome is what a finished request returned, kept to answer its retries.
type Outcome struct {
	Order  domain.Order
	Credit int64
}

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

// IdempotencyKeys is what a buy does with its key.
type IdempotencyKeys interface {
	// Reserve claims r.Key of r.User for the request with r.Fingerprint,
	// for ttl. It returns the recorded outcome when that request already
	// finished, ErrKeyInFlight when it has not, ErrKeyReused when the key
	// belongs to another request, and (nil, nil) when the key is now
	// reserved.
	Reserve(ctx context.Context, r Reservation, ttl time.Duration) (*Outcome, error)
	// Complete records the outcome of the request that reserved key for
	// the order outcome.Order (by its order key). It does nothing when the
	// key is no longer reserved for that order: already completed, expired,
	// or freed by the settler and reserved again by another request, whose
	// record is not this request's to overwrite.
	Complete(ctx context.Context, user, key, fingerprint string, outcome Outcome, ttl time.Duration) error
	// Release frees key, reserved for the order orderKey by a request that
	// changed nothing; like Complete, it leaves alone a key no longer
	// reserved for that order.
	Release(ctx context.Context, user, key, orderKey string) error
}

// IdempotencyStore remembers, per user and idempotency key, the request
// that first used it and what it returned; the settler also finds the
// reservations that no request will finish.
type IdempotencyStore interface {
	IdempotencyKeys
	// InFlight lists the reservations made before reservedBefore that are
	// still in flight.
	InFlight(ctx context.Context, reservedBefore time.Time) ([]Reservation, error)
	// Free deletes r's key if it is still reserved for r.OrderKey and, in
	// a store that also holds the pending orders, no pending order has
	// that key (checked in the same atomic step). It reports whether it
	// freed the key.
	Free(ctx context.Context, r Reservation) (bool, error)
}
