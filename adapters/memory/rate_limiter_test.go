package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/adapters/storetest"
	"stockd/ports"
)

func TestRateLimiterContract(t *testing.T) {
	t.Parallel()
	storetest.RateLimiter(t, func(t *testing.T, limit int, period time.Duration) ports.RateLimiter {
		l, err := memory.NewRateLimiter(limit, period, memory.SystemClock{})
		require.NoError(t, err)
		return l
	})
}

// On a clock that stands still, the budget is exactly the limit, and it
// comes back one emission interval at a time.
func TestRateLimiterOnAManualClock(t *testing.T) {
	t.Parallel()
	clock := memory.NewManualClock(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC))
	l, err := memory.NewRateLimiter(4, time.Second, clock)
	require.NoError(t, err)
	allow := func() ports.RateDecision {
		d, err := l.Allow(t.Context(), "user1")
		require.NoError(t, err)
		return d
	}
	for range 4 {
		require.True(t, allow().Allowed)
	}
	d := allow()
	assert.False(t, d.Allowed)
	assert.Equal(t, 250*time.Millisecond, d.RetryAfter)
	assert.Equal(t, time.Second, d.Reset)

	clock.Set(clock.Now().Add(250 * time.Millisecond))
	d = allow()
	assert.True(t, d.Allowed)
	assert.Equal(t, 0, d.Remaining)
	assert.False(t, allow().Allowed)

	clock.Set(clock.Now().Add(time.Second))
	d = allow()
	assert.True(t, d.Allowed)
	assert.Equal(t, 3, d.Remaining, "a whole period later the whole budget is back")
	assert.Equal(t, 250*time.Millisecond, d.Reset)
}
