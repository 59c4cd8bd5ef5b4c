package ports

import (
	"context"
	"time"
)

// IdempotencyKeys is what a buy does with its idempotency key: reserve it,
// then complete it with the outcome or release it.
type IdempotencyKeys interface {
	KeyCompleter
	// Reserve claims r.Key of r.User for the request with r.Fingerprint,
	// for ttl. It returns the recorded outcome when that request already
	// finished, ErrKeyInFlight when it has not, ErrKeyReused when the key
	// belongs to another request, and (nil, nil) when the key is now
	// reserved.
	Reserve(ctx context.Context, r Reservation, ttl time.Duration) (*Outcome, error)
	// Release frees key, reserved for the order orderKey by a request that
	// changed nothing; like Complete, it leaves alone a key no longer
	// reserved for that order.
	Release(ctx context.Context, user, key, orderKey string) error
}
