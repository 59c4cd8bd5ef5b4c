//go:build integration

package redis_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/adapters/storetest"
	"stockd/internal/testenv"
	"stockd/ports"
)

// TestRateLimiterContract runs the limiter's contract on one server and on
// a cluster, each request through one of two clients in turn, as through
// two API processes: they share one budget.
func TestRateLimiterContract(t *testing.T) {
	single := testenv.StartRedis(t).Addr
	cluster := testenv.RedisCluster(t)
	for name, seeds := range map[string][]string{"single": {single}, "cluster": cluster} {
		a, b := client(t, seeds...), client(t, seeds...)
		t.Run(name, func(t *testing.T) {
			storetest.RateLimiter(t, func(t *testing.T, limit int, period time.Duration) ports.RateLimiter {
				la, err := redis.NewRateLimiter(a, limit, period)
				require.NoError(t, err)
				lb, err := redis.NewRateLimiter(b, limit, period)
				require.NoError(t, err)
				return &alternating{limiters: []ports.RateLimiter{la, lb}}
			})
		})
	}
}

type alternating struct {
	limiters []ports.RateLimiter
	next     atomic.Int64
}

func (a *alternating) Allow(ctx context.Context, subject string) (ports.RateDecision, error) {
	n := a.next.Add(1)
	return a.limiters[n%int64(len(a.limiters))].Allow(ctx, subject)
}
