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

// TestWaitForReplicas: a debit or a sale that must reach a replica is
// acknowledged when one confirms it, and is an unknown outcome (applied on
// the master, perhaps lost to a failover) when none does.
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

		_, err = store.CreditSale(t.Context(), ports.SaleRequest{Order: saleOrder(t, "user1", 150, 1)})
		require.ErrorIs(t, err, ports.ErrOutcomeUnknown, "a sale waits for its replicas too")
		p, err := store.Positions(t.Context(), "user1")
		require.NoError(t, err)
		assert.Equal(t, int64(950), p.Credit, "the master has the sale")
		require.Len(t, p.Holdings, 1)
		assert.Equal(t, int64(1), p.Holdings[0].Position.Quantity())
		pending, err = store.PendingOrders(t.Context())
		require.NoError(t, err)
		assert.Len(t, pending, 2, "and its pending order")
	})
	t.Run("a replica confirms", func(t *testing.T) {
		c := client(t, testenv.RedisReplicatedCluster(t).Seeds...)
		store := redis.NewCreditStore(c).WaitForReplicas(1)
		require.NoError(t, store.SetCredit(t.Context(), "user1", 1000))
		for range 3 { // the first runs the script by EVAL, then by its SHA
			_, err := store.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, "user1", 100, 2)})
			require.NoError(t, err)
		}
		for range 3 { // the sale's script is another script: EVAL, then EVALSHA
			_, err := store.CreditSale(t.Context(), ports.SaleRequest{Order: saleOrder(t, "user1", 50, 1)})
			require.NoError(t, err)
		}
		p, err := store.Positions(t.Context(), "user1")
		require.NoError(t, err)
		assert.Equal(t, int64(550), p.Credit)
		require.Len(t, p.Holdings, 1)
		assert.Equal(t, int64(3), p.Holdings[0].Position.Quantity())
	})
}
