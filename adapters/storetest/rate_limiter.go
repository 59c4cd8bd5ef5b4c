package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/ports"
)

// RateLimiter runs the contract of ports.RateLimiter. newLimiter returns a
// limiter of limit requests per period; every case uses subjects of its
// own, so limiters may share one store.
func RateLimiter(t *testing.T, newLimiter func(t *testing.T, limit int, period time.Duration) ports.RateLimiter) {
	t.Run("a burst of the limit passes, then it refuses", func(t *testing.T) {
		l := newLimiter(t, 5, time.Minute)
		user := uniqueKey("rate")
		for want := 4; want >= 0; want-- {
			d, err := l.Allow(t.Context(), user)
			require.NoError(t, err)
			require.True(t, d.Allowed, "remaining %d", want)
			assert.Equal(t, 5, d.Limit)
			assert.Equal(t, want, d.Remaining)
			assert.Positive(t, d.Reset)
			assert.LessOrEqual(t, d.Reset, time.Minute)
			assert.Zero(t, d.RetryAfter)
		}
		d, err := l.Allow(t.Context(), user)
		require.NoError(t, err)
		assert.False(t, d.Allowed)
		assert.Equal(t, 5, d.Limit)
		assert.Zero(t, d.Remaining)
		assert.Positive(t, d.RetryAfter)
		assert.LessOrEqual(t, d.RetryAfter, time.Minute/5, "one emission interval at most")
		assert.Positive(t, d.Reset)

		other, err := l.Allow(t.Context(), uniqueKey("rate"))
		require.NoError(t, err)
		assert.True(t, other.Allowed, "another subject has its own budget")
		assert.Equal(t, 4, other.Remaining)
	})

	t.Run("concurrent requests: exactly the limit passes", func(t *testing.T) {
		l := newLimiter(t, 10, time.Minute)
		user := uniqueKey("rate")
		var passed atomic.Int64
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				d, err := l.Allow(t.Context(), user)
				assert.NoError(t, err)
				if d.Allowed {
					passed.Add(1)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int64(10), passed.Load())
	})

	t.Run("the budget refills with time", func(t *testing.T) {
		l := newLimiter(t, 2, 200*time.Millisecond)
		user := uniqueKey("rate")
		refused := false
		for range 3 {
			d, err := l.Allow(t.Context(), user)
			require.NoError(t, err)
			refused = refused || !d.Allowed
		}
		require.True(t, refused, "three at once are over a limit of two")
		require.Eventually(t, func() bool {
			d, err := l.Allow(t.Context(), user)
			return err == nil && d.Allowed
		}, 10*time.Second, 10*time.Millisecond)
	})
}
