// Package retry is the service's one retry policy: exponential backoff with
// jitter (github.com/cenkalti/backoff/v5), in two shapes. Every place that
// waits and tries again takes one of these instead of a loop of its own, so
// that growth, jitter and caps are tuned here and nowhere else.
package retry

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Policy says how long to wait between tries and when to give up.
type Policy struct {
	Initial  time.Duration // the first wait
	Max      time.Duration // no single wait is longer (before jitter)
	MaxTries uint          // 0: until the context ends
}

// Contention is for optimistic writes that lost a race on one key: another
// writer just won, so the next try is likely to succeed soon.
var Contention = Policy{Initial: 50 * time.Microsecond, Max: 5 * time.Millisecond, MaxTries: 1000}

// Outage is for a server that is down or refusing (a store, a broker): wait
// longer and longer, up to a few seconds, until the context ends.
var Outage = Policy{Initial: 200 * time.Millisecond, Max: 5 * time.Second}

// BackOff returns a fresh backoff of p, for loops that need to wait
// themselves (to log between tries, say). It is not safe for concurrent use.
func (p Policy) BackOff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = p.Initial, p.Max
	b.RandomizationFactor, b.Multiplier = 0.5, 2
	return b
}

// Wait sleeps for d or until ctx ends, whichever is first.
func Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Do runs op until it succeeds, returns an error wrapped by Permanent, the
// tries run out, or ctx ends. notify, if not nil, hears of each failure and
// the wait that follows it.
func Do[T any](ctx context.Context, p Policy, op func() (T, error), notify func(err error, wait time.Duration)) (T, error) {
	opts := []backoff.RetryOption{backoff.WithBackOff(p.BackOff()), backoff.WithMaxElapsedTime(0)}
	if p.MaxTries > 0 {
		opts = append(opts, backoff.WithMaxTries(p.MaxTries))
	}
	if notify != nil {
		opts = append(opts, backoff.WithNotify(notify))
	}
	return backoff.Retry(ctx, op, opts...)
}

// Permanent marks err as not worth another try: Do returns it at once.
func Permanent(err error) error { return backoff.Permanent(err) }
