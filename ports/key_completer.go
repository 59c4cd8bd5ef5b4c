package ports

import (
	"context"
	"time"
)

// KeyCompleter records what the request that reserved an idempotency key
// returned: the buy does it for its own key, the settler for a key whose
// request lost track of it.
type KeyCompleter interface {
	// Complete records the outcome of the request that reserved key for
	// the order outcome.Order (by its order key). It does nothing when the
	// key is no longer reserved for that order: already completed, expired,
	// or freed by the settler and reserved again by another request, whose
	// record is not this request's to overwrite.
	Complete(ctx context.Context, user, key, fingerprint string, outcome Outcome, ttl time.Duration) error
}
