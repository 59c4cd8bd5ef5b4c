//go:build integration

package redis_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/internal/testenv"
	"stockd/ports"
)

// TestWaitForReplicas: a debit that must reach a replica is acknowledged
// when one confirms it, and is an unknown outcome (applied on the master,
// perhaps lost to a failover) when none does.
func TestWaitForReplicas(t *testing.T) {
	t.Run("no replica confirms", func(t *testing.T) {
		c := client(t, testenv.StartRedis(t).Addr)
		store := redis.NewCreditStore(c).WaitForReplicas(1)
		require.NoError(t, store.SetCredit(t.Context(), "user1", 1000))
		_, err := store.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, "user1", 100, 2)})
		require.ErrorIs(t, err, ports.ErrOutcomeUnknown)
		credit, err := store.Credit(t.Context(), "user1")
		require.NoError(t, err)
		assert.Equal(t, int64(800), credit, "the master has the debit")
		pending, err := store.PendingOrders(t.Context())
		require.NoError(t, err)
		assert.Len(t, pending, 1, "and its pending order, for the settler")
	})
	t.Run("a replica confirms", func(t *testing.T) {
		c := client(t, testenv.RedisReplicatedCluster(t).Seeds...)
		store := redis.NewCreditStore(c).WaitForReplicas(1)
		require.NoError(t, store.SetCredit(t.Context(), "user1", 1000))
		for range 3 { // the first runs the script by EVAL, then by its SHA
			_, err := store.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, "user1", 100, 2)})
			require.NoError(t, err)
		}
		credit, err := store.Credit(t.Context(), "user1")
		require.NoError(t, err)
		assert.Equal(t, int64(400), credit)
	})
}
