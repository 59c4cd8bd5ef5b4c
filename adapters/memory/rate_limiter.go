package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"stockd/ports"
)

var _ ports.RateLimiter = (*RateLimiter)(nil)

// rateLimiterSweep is how many subjects the limiter holds before it drops
// those whose budget is whole again (they would start afresh anyway).
const rateLimiterSweep = 10000

// RateLimiter is the generic cell rate algorithm (GCRA) in one process:
// each subject has a theoretical arrival time (tat); a request moves it
// one emission interval (period/limit) later, and passes while the tat
// stays within one period of now. That is a token bucket of limit tokens
// refilled at limit per period, kept as one timestamp per subject. The
// Redis adapter runs the same algorithm in a script.
type RateLimiter struct {
	limit    int
	interval time.Duration // period / limit
	period   time.Duration
	clock    ports.Clock

	mu  sync.Mutex
	tat map[string]time.Time
}

// NewRateLimiter lets limit requests per period pass for each subject,
// in bursts of at most limit.
func NewRateLimiter(limit int, period time.Duration, clock ports.Clock) (*RateLimiter, error) {
	if limit < 1 || period <= 0 || clock == nil {
		return nil, fmt.Errorf("rate limiter: limit %d per %v", limit, period)
	}
	return &RateLimiter{limit: limit, interval: period / time.Duration(limit), period: period,
		clock: clock, tat: make(map[string]time.Time)}, nil
}

// Allow counts one request of subject.
func (l *RateLimiter) Allow(_ context.Context, subject string) (ports.RateDecision, error) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.tat) >= rateLimiterSweep {
		for s, t := range l.tat {
			if !t.After(now) {
				delete(l.tat, s)
			}
		}
	}
	tat := l.tat[subject]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(l.interval)
	d := ports.RateDecision{Limit: l.limit}
	if next.Sub(now) > l.period {
		d.Remaining = 0
		d.Reset = tat.Sub(now)
		d.RetryAfter = next.Sub(now) - l.period
		return d, nil
	}
	l.tat[subject] = next
	d.Allowed = true
	d.Remaining = int((l.period - next.Sub(now)) / l.interval)
	d.Reset = next.Sub(now)
	return d, nil
}
