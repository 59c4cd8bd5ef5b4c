package redis

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/redis/rueidis"

	"stockd/ports"
)

var _ ports.RateLimiter = (*RateLimiter)(nil)

// rateKeyOf is the key of subject's rate limit: the subject (a user) is
// its hash tag, so that it sits in the user's slot.
func rateKeyOf(subject string) string { return "stockd:rate:{" + subject + "}" }

// RateLimiter is the rate limit shared by every API process: one script
// (lua/rate_limit.lua) per request, one key per subject.
type RateLimiter struct {
	clients  clientSource
	limit    int
	interval time.Duration
	period   time.Duration
}

// NewRateLimiter lets limit requests per period pass for each subject, in
// bursts of at most limit, counted in Redis.
func NewRateLimiter(client rueidis.Client, limit int, period time.Duration) (*RateLimiter, error) {
	if client == nil {
		return nil, fmt.Errorf("rate limiter: no client")
	}
	return newRateLimiter(connected{client}, limit, period)
}

// RateLimiter returns a shared rate limiter on the connector's client (see
// NewRateLimiter).
func (c *Connector) RateLimiter(limit int, period time.Duration) (*RateLimiter, error) {
	return newRateLimiter(c, limit, period)
}

func newRateLimiter(clients clientSource, limit int, period time.Duration) (*RateLimiter, error) {
	if limit < 1 || period < time.Millisecond {
		return nil, fmt.Errorf("rate limiter: limit %d per %v", limit, period)
	}
	return &RateLimiter{clients: clients, limit: limit, interval: period / time.Duration(limit), period: period}, nil
}

// Allow counts one request of subject.
func (l *RateLimiter) Allow(ctx context.Context, subject string) (ports.RateDecision, error) {
	args := []string{fmt.Sprint(l.interval.Microseconds()), fmt.Sprint(l.period.Microseconds())}
	client, err := l.clients.Client(ctx)
	if err != nil {
		return ports.RateDecision{}, fmt.Errorf("rate limit: %w", err)
	}
	reply, err := rateLimitScript.Exec(ctx, client, []string{rateKeyOf(subject)}, args).AsIntSlice()
	if err != nil {
		return ports.RateDecision{}, fmt.Errorf("rate limit: %w", translate(err))
	}
	if len(reply) != 4 {
		return ports.RateDecision{}, fmt.Errorf("rate limit: unexpected reply %v", reply)
	}
	return ports.RateDecision{
		Allowed: reply[0] == 1, Limit: l.limit, Remaining: int(reply[1]),
		Reset: time.Duration(reply[2]) * time.Microsecond, RetryAfter: time.Duration(reply[3]) * time.Microsecond,
	}, nil
}
