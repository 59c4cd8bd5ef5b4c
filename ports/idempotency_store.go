package ports

import (
	"context"
	"errors"
	"time"

	"stockd/domain"
)

//go:generate go tool mockgen -destination=portsmock/idempotency_store.go -package=portsmock stockd/ports IdempotencyStore

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

// IdempotencyStore remembers, per idempotency key, the request that first
// used it and what it returned.
type IdempotencyStore interface {
	// Reserve claims key for the request with fingerprint, for ttl. It
	// returns the recorded outcome when that request already finished,
	// ErrKeyInFlight when it has not, ErrKeyReused when the key belongs to
	// another request, and (nil, nil) when the key is now reserved.
	Reserve(ctx context.Context, key, fingerprint string, ttl time.Duration) (*Outcome, error)
	// Complete records the outcome of the request that reserved key.
	Complete(ctx context.Context, key, fingerprint string, outcome Outcome, ttl time.Duration) error
	// Release frees a reserved key whose request changed nothing.
	Release(ctx context.Context, key string) error
}
