package ports

import (
	"context"
	"time"
)

// RateDecision is a rate limiter's answer to one request: whether it may
// pass, and what the RateLimit-* headers tell the client.
type RateDecision struct {
	Allowed   bool
	Limit     int           // requests allowed per period (the burst)
	Remaining int           // requests that may still pass right now
	Reset     time.Duration // until the whole limit is available again
	// RetryAfter is how long a refused request should wait; 0 when
	// Allowed.
	RetryAfter time.Duration
}

// RateLimiter counts requests per subject (a user) against one limit. The
// HTTP guard calls it once per request; a shared implementation (Redis)
// makes the limit hold across every API process.
type RateLimiter interface {
	// Allow counts one request of subject and says whether it passes.
	// An error means the limiter could not be asked; nothing was counted.
	Allow(ctx context.Context, subject string) (RateDecision, error)
}
